"""config.json: what is accepted (any 1.x, unknown fields) and what is
refused with an error that names the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.runtime.inside import assert_refused, not_on_runc, probe, run_probe
from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

Config = dict[str, Any]


@pytest.mark.parametrize("version", ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1", "1.9.0"])
def test_any_1x_oci_version_is_accepted(runtime: Runtime, bundle: Bundle, version: str) -> None:
    bundle.config["ociVersion"] = version

    assert probe(runtime, bundle, "echo ran") == "ran\n"


def test_unknown_fields_are_tolerated(runtime: Runtime, bundle: Bundle) -> None:
    config = bundle.config
    config["x-dockyard-test"] = {"nested": [1, 2, {"deeper": None}]}
    config["root"]["x-unknown"] = True
    config["process"]["x-unknown"] = "value"
    config["process"]["user"]["x-unknown"] = 7
    config["linux"]["x-unknown"] = []
    config["linux"]["namespaces"][0]["x-unknown"] = 1
    config["mounts"][0]["x-unknown"] = "value"
    config["annotations"] = {"org.dockyard.test": "unknown fields"}

    assert probe(runtime, bundle, "echo ran") == "ran\n"


def set_path(config: Config, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        config = config[key]
    config[last] = value


def delete_path(config: Config, path: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        config = config[key]
    del config[last]


Change = Callable[[Config], None]

INVALID: dict[str, tuple[Change, str]] = {
    # id: (change to a valid config, the field the error must name)
    "uid-is-a-string": (lambda c: set_path(c, "process.user.uid", "0"), "process.user.uid"),
    "uid-is-negative": (lambda c: set_path(c, "process.user.uid", -1), "process.user.uid"),
    "gid-is-negative": (lambda c: set_path(c, "process.user.gid", -1), "process.user.gid"),
    "args-missing": (lambda c: delete_path(c, "process.args"), "process.args"),
    "args-empty": (lambda c: set_path(c, "process.args", []), "process.args"),
    "env-is-a-string": (lambda c: set_path(c, "process.env", "A=1"), "process.env"),
    "cwd-is-relative": (lambda c: set_path(c, "process.cwd", "tmp"), "process.cwd"),
    "terminal-is-a-string": (lambda c: set_path(c, "process.terminal", "no"), "process.terminal"),
    "root-path-missing": (lambda c: delete_path(c, "root.path"), "root.path"),
    "mounts-not-a-list": (lambda c: set_path(c, "mounts", {"destination": "/x"}), "mounts"),
    "namespaces-not-a-list": (
        lambda c: set_path(c, "linux.namespaces", "pid"),
        "linux.namespaces",
    ),
    "namespace-type-unknown": (
        lambda c: c["linux"]["namespaces"].append({"type": "bogus"}),
        "linux.namespaces",
    ),
    "rlimit-type-unknown": (
        lambda c: set_path(c, "process.rlimits", [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]),
        "process.rlimits",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_config_is_refused_naming_the_field(
    runtime: Runtime, bundle: Bundle, case: str
) -> None:
    change, field = INVALID[case]
    bundle.process["args"] = ["sh", "-c", "echo started"]
    change(bundle.config)
    bundle.write()

    result = runtime.run(bundle)

    assert_refused(result, field)
    assert "started" not in result.stdout
    assert runtime.list() == []


@not_on_runc("unknown capabilities are ignored with a warning")
def test_an_unknown_capability_is_refused_naming_the_field(
    runtime: Runtime, bundle: Bundle
) -> None:
    bundle.process["capabilities"]["bounding"].append("CAP_BOGUS")

    result = run_probe(runtime, bundle, "echo started")

    assert_refused(result, "process.capabilities.bounding", "CAP_BOGUS")
    assert "started" not in result.stdout


def test_config_that_is_not_json_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config_path.write_text('{"ociVersion": "1.2.0", "process": ')

    result = runtime.run(bundle)

    assert_refused(result, "config.json")


def test_a_missing_config_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config_path.unlink()

    result = runtime.run(bundle)

    assert_refused(result, "config.json")


def test_a_missing_rootfs_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["root"]["path"] = "no-such-rootfs"
    bundle.write()

    result = runtime.run(bundle)

    assert_refused(result, "no-such-rootfs")

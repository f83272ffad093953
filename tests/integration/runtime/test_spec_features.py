"""spec writes a config.json a runtime can run; features describes the runtime."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


def spec_in(runtime: Runtime, bundle: Bundle, *flags: str) -> dict[str, Any]:
    """Replace the bundle's config.json with the runtime's own ``spec``."""
    bundle.config_path.unlink()
    runtime("spec", *flags, "--bundle", bundle.path)
    config: dict[str, Any] = json.loads(bundle.config_path.read_text())
    return config


def run_config(runtime: Runtime, bundle: Bundle, config: dict[str, Any], script: str) -> str:
    """Run ``script`` under ``config``, changed only as a tty-less test needs."""
    config["process"]["terminal"] = False
    config["process"]["args"] = ["sh", "-c", script]
    bundle.config = config
    bundle.write()
    result = runtime.run(bundle)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_spec_writes_a_config_that_runs(runtime: Runtime, bundle: Bundle) -> None:
    config = spec_in(runtime, bundle)

    assert config["ociVersion"]
    assert config["root"]["path"] == "rootfs"
    namespaces = {ns["type"] for ns in config["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= namespaces
    assert run_config(runtime, bundle, config, "echo hello") == "hello\n"


def test_spec_refuses_to_overwrite_a_config(runtime: Runtime, bundle: Bundle) -> None:
    before = bundle.config_path.read_text()

    result = runtime("spec", "--bundle", bundle.path, check=False)

    assert result.returncode != 0
    assert result.stderr.strip()
    assert bundle.config_path.read_text() == before


@requires("userns")
def test_spec_rootless_runs_in_a_user_namespace(runtime: Runtime, bundle: Bundle) -> None:
    config = spec_in(runtime, bundle, "--rootless")

    namespaces = {ns["type"] for ns in config["linux"]["namespaces"]}
    assert "user" in namespaces and "network" not in namespaces
    assert config["linux"]["uidMappings"] and config["linux"]["gidMappings"]
    # Rootless maps container root to the caller: uid 0 to 0 here, one id wide.
    uid_map = run_config(runtime, bundle, config, "cat /proc/self/uid_map").split()
    assert uid_map == ["0", "0", "1"]


def test_features_describes_the_runtime(runtime: Runtime) -> None:
    features = json.loads(runtime("features").stdout)

    assert features["ociVersionMin"].startswith("1.")
    assert features["ociVersionMax"].startswith("1.")
    assert {"prestart", "createRuntime", "poststart", "poststop"} <= set(features["hooks"])
    assert {"bind", "rbind", "ro", "nosuid", "nodev", "noexec"} <= set(features["mountOptions"])
    namespaces = set(features["linux"]["namespaces"])
    assert {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"} <= namespaces

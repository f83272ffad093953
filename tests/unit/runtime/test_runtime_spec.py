"""config.json parsing: valid documents load, invalid ones name the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dockyard.errors import InvalidSpec
from dockyard.oci.default_spec import default_spec
from dockyard.oci.runtime_spec import Spec


def spec(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(default_spec())
    for path, value in changes.items():
        node = doc
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return doc


def test_default_spec_loads() -> None:
    parsed = Spec(default_spec())
    assert parsed.process is not None
    assert parsed.process.args == ["sh"]
    assert [ns.type for ns in parsed.linux.namespaces] == ["pid", "network", "ipc", "uts", "mount"]
    assert parsed.root_readonly is True


def test_rootless_spec_loads() -> None:
    parsed = Spec(default_spec(rootless=True))
    assert parsed.namespace("user") is not None
    assert parsed.namespace("network") is None


@pytest.mark.parametrize("version", ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.9.9"])
def test_any_1x_version_is_accepted(version: str) -> None:
    assert Spec(spec(ociVersion=version)).oci_version == version


def test_unknown_fields_are_kept() -> None:
    doc = spec(futureField={"x": 1}, process__futureFlag=True)
    assert Spec(doc).raw["futureField"] == {"x": 1}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ociVersion": "2.0.0"}, "ociVersion"),
        ({"process__user__uid": "0"}, "process.user.uid"),
        ({"process__args": "sh"}, "process.args"),
        ({"process__cwd": "relative"}, "process.cwd"),
        ({"process__rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1}]}, "process.rlimits[0].hard"),
        ({"process__terminal": "yes"}, "process.terminal"),
        ({"linux__namespaces": [{"type": "pidd"}]}, "linux.namespaces[0].type"),
        ({"linux__namespaces": [{"type": "pid"}, {"type": "pid"}]}, "linux.namespaces[1]"),
        ({"linux__uidMappings": [{"containerID": 0, "hostID": 0}]}, "linux.uidMappings[0].size"),
        ({"linux__devices": [{"type": "x", "path": "/dev/x"}]}, "linux.devices[0].type"),
        ({"linux__rootfsPropagation": "sideways"}, "linux.rootfsPropagation"),
        ({"linux__sysctl": {"net.ipv4.ip_forward": 1}}, "linux.sysctl.net.ipv4.ip_forward"),
        ({"linux__timeOffsets": {"realtime": {"secs": 1}}}, "linux.timeOffsets.realtime"),
        ({"mounts": [{"type": "tmpfs"}]}, "mounts[0].destination"),
        ({"hooks": {"prestart": [{"path": "rel"}]}}, "hooks.prestart[0].path"),
        (
            {"hooks": {"poststop": [{"path": "/bin/true", "timeout": 0}]}},
            "hooks.poststop[0].timeout",
        ),
        ({"root": {"readonly": True}}, "root.path"),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        Spec(spec(**changes))
    assert info.value.field == field
    assert field in str(info.value)


def test_document_must_be_an_object() -> None:
    with pytest.raises(InvalidSpec):
        Spec([])  # type: ignore[arg-type]

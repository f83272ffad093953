"""Least privilege for the container's process: capabilities (unknown names,
the bounding set, ambient ones), no_new_privileges, oom_score_adj, setgroups
in a user namespace."""

from __future__ import annotations

import pytest

from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

CAP_KILL, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_AUDIT_WRITE = 5, 10, 13, 29
STATUS = "grep -E '^(Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status"


def status_of(runtime: Runtime, bundle: Bundle) -> dict[str, str]:
    result = run_in_container(runtime, bundle, "sh", "-c", STATUS)
    assert result.returncode == 0, result.stderr
    return dict(line.split(":\t") for line in result.stdout.splitlines())


def mask(*caps: int) -> str:
    value = 0
    for cap in caps:
        value |= 1 << cap
    return f"{value:016x}"


def test_an_unknown_capability_is_never_silently_granted(runtime: Runtime, bundle: Bundle) -> None:
    caps = bundle.process["capabilities"]
    caps["bounding"] = ["CAP_KILL", "CAP_TYPO_ADMIN"]
    caps["effective"] = caps["permitted"] = ["CAP_KILL"]
    result = run_in_container(runtime, bundle, "sh", "-c", STATUS)

    assert "CAP_TYPO_ADMIN" in result.stderr  # refused, or at least warned about
    if runtime.name == "dockyard":
        assert result.returncode != 0
        assert "process.capabilities.bounding[1]" in result.stderr
        assert runtime.list() == []
    elif result.returncode == 0:  # runc 1.1 warns and drops the name
        assert "CapBnd:\t" + mask(CAP_KILL) in result.stdout


def test_the_bounding_set_is_dropped_to_the_spec(runtime: Runtime, bundle: Bundle) -> None:
    caps = bundle.process["capabilities"]
    caps["bounding"] = ["CAP_KILL", "CAP_NET_RAW"]
    caps["effective"] = caps["permitted"] = ["CAP_KILL"]
    status = status_of(runtime, bundle)

    assert status["CapBnd"] == mask(CAP_KILL, CAP_NET_RAW)
    assert status["CapEff"] == mask(CAP_KILL)
    assert status["CapPrm"] == mask(CAP_KILL)


def test_ambient_capabilities_reach_a_non_root_process(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        kind: ["CAP_NET_BIND_SERVICE"]
        for kind in ("bounding", "effective", "permitted", "inheritable", "ambient")
    }
    status = status_of(runtime, bundle)

    assert status["CapAmb"] == mask(CAP_NET_BIND_SERVICE)
    assert status["CapEff"] == mask(CAP_NET_BIND_SERVICE)


def test_ambient_needs_inheritable_and_permitted(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        "bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
        "permitted": ["CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_NET_BIND_SERVICE"],
        "inheritable": [],
        "ambient": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
    }
    result = run_in_container(runtime, bundle, "sh", "-c", STATUS)

    if result.returncode == 0:  # dockyard raises none of them; runc may refuse the spec
        status = dict(line.split(":\t") for line in result.stdout.splitlines())
        assert status["CapAmb"] == mask()
        assert status["CapEff"] == mask()


@pytest.mark.parametrize("no_new_privileges", [True, False])
def test_no_new_privileges(runtime: Runtime, bundle: Bundle, no_new_privileges: bool) -> None:
    bundle.process["noNewPrivileges"] = no_new_privileges
    assert status_of(runtime, bundle)["NoNewPrivs"] == str(int(no_new_privileges))


@pytest.mark.parametrize("score", [300, 1000])  # raising needs no privilege
def test_oom_score_adj(runtime: Runtime, bundle: Bundle, score: int) -> None:
    bundle.process["oomScoreAdj"] = score
    result = run_in_container(runtime, bundle, "cat", "/proc/self/oom_score_adj")

    assert result.stdout == f"{score}\n", result.stderr


@requires("userns")
def test_a_user_namespace_made_by_root_keeps_setgroups(runtime: Runtime, bundle: Bundle) -> None:
    # A privileged runtime writes the gid map itself: setgroups stays allowed
    # (runc does the same); only a runtime without CAP_SETGID must deny it.
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    mapping = [{"containerID": 0, "hostID": 0, "size": 65536}]  # the bundle is root's
    bundle.config["linux"]["uidMappings"] = mapping
    bundle.config["linux"]["gidMappings"] = mapping
    bundle.config["mounts"] = [
        m for m in bundle.config["mounts"] if m["destination"] not in ("/sys/fs/cgroup",)
    ]
    bundle.process["user"] = {"uid": 0, "gid": 0, "additionalGids": [5]}
    result = run_in_container(runtime, bundle, "sh", "-c", "cat /proc/self/setgroups; id -G")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "allow"
    assert "5" in lines[1:]

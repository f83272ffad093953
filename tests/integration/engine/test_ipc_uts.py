"""--ipc and --uts as Docker's daemon takes them: "none" is a private IPC namespace with no
/dev/shm at all, "shareable" and "private" have their own /dev/shm, "host" the host's; a
hostname cannot be given with the host's UTS namespace (moby's runconfig), but can with
the host's network (the container keeps a UTS namespace of its own there)."""

from __future__ import annotations

import os

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages

PROBE = (
    "readlink /proc/self/ns/ipc; grep ' /dev/shm ' /proc/mounts | cut -d' ' -f3 || true; "
    "if [ -e /dev/shm ]; then echo there; else echo absent; fi"
)


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def _ipc(dockyard: Dockyard, runtime: str, bb: str, mode: str) -> list[str]:
    flags = ["--ipc", mode] if mode else []
    out = dockyard.run("run", "--rm", "--runtime", runtime, *flags, bb, "sh", "-c", PROBE)
    return out.stdout.split()


def test_ipc_modes(dockyard: Dockyard, bb: str, runtime: str) -> None:
    host_ns = os.readlink("/proc/self/ns/ipc")

    namespace, *shm = _ipc(dockyard, runtime, bb, "none")
    assert namespace != host_ns
    assert shm == ["absent"]  # no mount, and nothing made in its place

    for mode in ("", "private", "shareable"):
        namespace, *shm = _ipc(dockyard, runtime, bb, mode)
        assert namespace != host_ns, mode
        assert shm == ["tmpfs", "there"], mode

    namespace, *shm = _ipc(dockyard, runtime, bb, "host")
    assert namespace == host_ns
    assert shm[-1] == "there"

    dockyard.run("create", "--name", "noipc", "--ipc", "none", bb)
    assert dockyard.inspect("noipc")["HostConfig"]["IpcMode"] == "none"  # type: ignore[index]
    dockyard.run("create", "--name", "defaultipc", bb)
    assert dockyard.inspect("defaultipc")["HostConfig"]["IpcMode"] == "private"  # type: ignore[index]


def test_bad_namespace_modes_are_refused_as_dockers_cli_refuses_them(
    dockyard: Dockyard, bb: str
) -> None:
    for flag, kind in (("--ipc", "IPC"), ("--pid", "PID"), ("--uts", "UTS")):
        bad = dockyard.run("run", "--rm", flag, "bogus", bb, "true", check=False)
        assert bad.returncode == 125, bad.stderr
        assert bad.stderr.strip().endswith(f"{flag}: invalid {kind} mode")
    assert dockyard.ids() == []


def test_hostname_with_the_hosts_uts_namespace_is_refused(dockyard: Dockyard, bb: str) -> None:
    for verb in ("run", "create"):
        for flag in ("-h", "--hostname"):
            refused = dockyard.run(verb, "--uts", "host", flag, "box", bb, "true", check=False)
            # Docker's CLI: run's own failures are 125, create's any error 1
            assert refused.returncode == (125 if verb == "run" else 1), refused.stderr
            assert "conflicting options: hostname and the UTS mode" in refused.stderr
            assert refused.stderr.count("\n") == 1  # one line, no traceback
    assert dockyard.ids() == []  # nothing made

    # without -h the host's UTS namespace gives the host's name
    out = dockyard.run("run", "--rm", "--uts", "host", bb, "hostname").stdout
    assert out == os.uname().nodename + "\n"


def test_hostname_with_the_hosts_network(dockyard: Dockyard, bb: str, runtime: str) -> None:
    # Docker: -h with --network host names the container's own UTS namespace
    out = dockyard.run(
        "run", "--rm", "--runtime", runtime, "--network", "host", "-h", "named", bb,
        "sh", "-c", "hostname; readlink /proc/self/ns/uts",
    ).stdout.split()  # fmt: skip
    assert out == ["named", out[1]]
    assert out[1] != os.readlink("/proc/self/ns/uts")
    dockyard.run("create", "--name", "hostnet", "--network", "host", bb)
    config = dockyard.inspect("hostnet")["Config"]
    assert config["Hostname"] == os.uname().nodename  # type: ignore[index]
    # a joined network still has the other container's name
    joined = dockyard.run(
        "create", "--network", "container:hostnet", "-h", "x", bb, check=False
    )  # fmt: skip
    assert joined.returncode == 1
    assert "conflicting options: hostname and the network mode" in joined.stderr

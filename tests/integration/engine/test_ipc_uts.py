"""--ipc and --uts as Docker's daemon takes them: "none" is a private IPC namespace with no
/dev/shm at all, "private" and "shareable" have their own /dev/shm, "container:X" joins a
running shareable (or host) X's namespace and /dev/shm, "host" is the host's; a hostname
cannot be given with the host's UTS namespace (moby's runconfig), but can with the host's
network (the container keeps a UTS namespace of its own there)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages

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


def _host_mounts() -> str:
    with open("/proc/self/mounts") as f:
        return f.read()


def test_ipc_shareable_and_joined(dockyard: Dockyard, bb: str, runtime: str) -> None:
    ns = "readlink /proc/self/ns/ipc"
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "donor", "--ipc", "shareable", bb,
                 "sleep", "1000")  # fmt: skip
    donor_id = str(dockyard.inspect("donor")["Id"])
    shm = dockyard.root / "containers" / donor_id / "shm"
    assert f" {shm} tmpfs " in _host_mounts()  # its /dev/shm, on the host for joiners
    donor_ns = dockyard.run("exec", "donor", "sh", "-c", f"{ns}; echo given > /dev/shm/note")
    out = dockyard.run(
        "run", "--rm", "--runtime", runtime, "--ipc", "container:donor", bb,
        "sh", "-c", f"{ns}; cat /dev/shm/note; echo back > /dev/shm/reply",
    ).stdout  # fmt: skip
    assert out == donor_ns.stdout + "given\n"
    assert dockyard.run("exec", "donor", "cat", "/dev/shm/reply").stdout == "back\n"

    # named by its id from create on, as Docker's daemon does
    dockyard.run(
        "create", "--runtime", runtime, "--name", "joiner", "--ipc", f"container:{donor_id[:12]}",
        bb, "sh", "-c", f"{ns}; cat /dev/shm/note",
    )  # fmt: skip
    ipc_mode = dockyard.inspect("joiner")["HostConfig"]["IpcMode"]  # type: ignore[index]
    assert ipc_mode == f"container:{donor_id}"
    # the donor restarted: a new init, the joiner follows it at its own start
    dockyard.run("restart", "-t", "0", "donor")
    after = dockyard.run("exec", "donor", "sh", "-c", f"{ns}; echo again > /dev/shm/note").stdout
    # (a new namespace, though its inode number may be the freed one's again: the
    # joiner's start proves it found the new init, the old one's /proc entry is gone)
    assert dockyard.run("start", "-a", "joiner").stdout == after + "again\n"

    # Docker's refusals: a donor that is not running, not shareable, not there
    dockyard.run("stop", "-t", "0", "donor")
    assert f" {shm} " not in _host_mounts()  # let go with the donor's stop
    stopped = dockyard.run("start", "joiner", check=False)
    assert stopped.returncode != 0
    assert f"failed to join IPC namespace: container {donor_id} is not running" in stopped.stderr
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "private", bb, "sleep", "1000")
    private = dockyard.run("run", "--rm", "--ipc", "container:private", bb, "true", check=False)
    assert private.returncode == 125
    assert "non-shareable IPC (hint: use IpcMode:shareable for the donor container)" in (
        private.stderr
    )
    missing = dockyard.run("run", "--rm", "--ipc", "container:nothing", bb, "true", check=False)
    assert missing.returncode == 125 and "No such container: nothing" in missing.stderr
    empty = dockyard.run("run", "--rm", "--ipc", "container:", bb, "true", check=False)
    assert empty.returncode == 125 and "--ipc: invalid IPC mode" in empty.stderr

    # a donor on the host's IPC namespace lends it
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "hosted", "--ipc", "host", bb,
                 "sleep", "1000")  # fmt: skip
    joined = dockyard.run("run", "--rm", "--ipc", "container:hosted", bb, "readlink",
                          "/proc/self/ns/ipc").stdout  # fmt: skip
    assert joined == os.readlink("/proc/self/ns/ipc") + "\n"


def _start_killed_once_shm_is_mounted(dockyard: Dockyard, bb: str) -> Path:
    """``start`` of a shareable container, SIGKILLed as soon as its /dev/shm tmpfs is
    mounted (before its container runs; tried again if the start won the race)."""
    for _ in range(10):
        dockyard.run("create", "--name", "cut", "--ipc", "shareable", bb, "sleep", "1000")
        shm = dockyard.root / "containers" / str(dockyard.inspect("cut")["Id"]) / "shm"
        start = subprocess.Popen(
            [str(DOCKYARD), "start", "cut"],
            env=dockyard.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while f" {shm} " not in _host_mounts() and start.poll() is None:
                assert time.monotonic() < deadline, "the shm tmpfs was never mounted"
                time.sleep(0.001)
        finally:
            start.kill()
            start.wait()
        if dockyard.inspect("cut")["State"]["Status"] == "created":  # type: ignore[index]
            return shm
        dockyard.run("rm", "-f", "cut")
    raise AssertionError("the start ran to its end in each of 10 tries")


def test_check_unmounts_the_shm_of_a_start_cut_short(dockyard: Dockyard, bb: str) -> None:
    shm = _start_killed_once_shm_is_mounted(dockyard, bb)
    assert f" {shm} " in _host_mounts()
    found = dockyard.run("system", "check", "--quick", "--no-repair", check=False).stdout
    assert "problem: container cut is created but its shareable /dev/shm is still mounted" in found
    repaired = dockyard.run("system", "check", "--quick", check=False)
    assert "repaired: container cut: unmounted its /dev/shm" in repaired.stdout
    assert f" {shm} " not in _host_mounts()
    # and it starts whole
    dockyard.run("start", "cut")
    shared = dockyard.run("exec", "cut", "sh", "-c", "echo ok > /dev/shm/x && cat /dev/shm/x")
    assert shared.stdout == "ok\n"


def test_pid_joined(dockyard: Dockyard, bb: str, runtime: str) -> None:
    """--pid container:X: X's processes seen, X's namespace as of each start, Docker's
    refusals."""
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "host-of-pids", bb,
                 "sleep", "1000")  # fmt: skip
    donor_id = str(dockyard.inspect("host-of-pids")["Id"])
    donor_ns = dockyard.run("exec", "host-of-pids", "readlink", "/proc/self/ns/pid").stdout
    seen = dockyard.run(
        "run", "--rm", "--runtime", runtime, "--pid", "container:host-of-pids", bb,
        "sh", "-c", "readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr '\\0' ' '",
    ).stdout  # fmt: skip
    assert seen == donor_ns + "sleep 1000 "  # the donor's init is its pid 1
    dockyard.run("create", "--runtime", runtime, "--name", "pid-joiner", "--pid",
                 "container:host-of-pids", bb, "readlink", "/proc/self/ns/pid")  # fmt: skip
    pid_mode = dockyard.inspect("pid-joiner")["HostConfig"]["PidMode"]  # type: ignore[index]
    assert pid_mode == f"container:{donor_id}"
    dockyard.run("restart", "-t", "0", "host-of-pids")
    after = dockyard.run("exec", "host-of-pids", "readlink", "/proc/self/ns/pid").stdout
    assert dockyard.run("start", "-a", "pid-joiner").stdout == after

    dockyard.run("stop", "-t", "0", "host-of-pids")
    stopped = dockyard.run("start", "pid-joiner", check=False)
    assert stopped.returncode != 0
    assert f"failed to join PID namespace: container {donor_id} is not running" in stopped.stderr
    missing = dockyard.run("run", "--rm", "--pid", "container:nothing", bb, "true", check=False)
    assert missing.returncode == 125 and "No such container: nothing" in missing.stderr
    empty = dockyard.run("run", "--rm", "--pid", "container:", bb, "true", check=False)
    assert empty.returncode == 125 and "--pid: invalid PID mode" in empty.stderr

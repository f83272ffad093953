"""exec: a second process inside a running container, checked from inside it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.runtime.containers import run_sleeper
from tests.support.bundle import Bundle
from tests.support.leaks import CGROUP_NAME_PART
from tests.support.needs import requires
from tests.support.runtime import Runtime

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


def test_exec_joins_the_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["hostname"] = "exec-host"
    cid = run_sleeper(runtime, bundle)
    init_pid = runtime.state(cid)["pid"]
    result = runtime(
        "exec",
        cid,
        "sh",
        "-c",
        "echo pid=$$; hostname; readlink /proc/1/exe; cat /proc/1/cmdline | tr '\\0' ' ';"
        " echo; for ns in mnt net uts ipc; do readlink /proc/self/ns/$ns; done",
    )
    lines = result.stdout.split("\n")
    assert lines[0] != f"pid={init_pid}" and lines[0].startswith("pid=")
    assert int(lines[0][4:]) < 100  # a pid of the container's own pid namespace
    assert lines[1] == "exec-host"
    assert "sleep 1000" in lines[3]
    for kind, ns in zip(("mnt", "net", "uts", "ipc"), lines[4:8], strict=True):
        assert ns == os.readlink(f"/proc/{init_pid}/ns/{kind}"), kind


def test_exec_returns_the_exit_status(runtime: Runtime, bundle: Bundle) -> None:
    cid = run_sleeper(runtime, bundle)
    assert runtime("exec", cid, "sh", "-c", "exit 42", check=False).returncode == 42


def test_exec_user_env_cwd(runtime: Runtime, bundle: Bundle) -> None:
    cid = run_sleeper(runtime, bundle)
    result = runtime(
        "exec",
        "--user",
        "1000:1000",
        "--env",
        "GREETING=hi",
        "--cwd",
        "/tmp",
        cid,
        "sh",
        "-c",
        "id -u; id -g; echo $GREETING; pwd",
    )
    assert result.stdout.split() == ["1000", "1000", "hi", "/tmp"]


def test_exec_process_json(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    cid = run_sleeper(runtime, bundle)
    process = dict(bundle.process, args=["sh", "-c", "echo from-json $X"], env=["X=1", "PATH=/bin"])
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    assert runtime("exec", "--process", path, cid).stdout == "from-json 1\n"


def test_exec_sees_the_containers_mounts_and_no_runtime_fds(
    runtime: Runtime, bundle: Bundle
) -> None:
    cid = run_sleeper(runtime, bundle)
    result = runtime("exec", cid, "sh", "-c", "ls /proc/self/fd; cat /proc/mounts")
    fds, _, mounts = result.stdout.partition("\n3\n")
    assert fds.split() == ["0", "1", "2"]  # 3 is ls's own directory
    assert str(bundle.rootfs) not in mounts  # the host's paths are out of sight
    assert "proc /proc proc" in mounts


def test_exec_in_a_stopped_container_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    cid = run_sleeper(runtime, bundle)
    runtime.kill(cid, "KILL")
    runtime.wait_for_status(cid, "stopped")
    result = runtime("exec", cid, "true", check=False)
    assert result.returncode != 0
    assert "stopped" in result.stderr or "not running" in result.stderr


def test_exec_missing_binary_fails_clearly(runtime: Runtime, bundle: Bundle) -> None:
    cid = run_sleeper(runtime, bundle)
    result = runtime("exec", cid, "no-such-binary", check=False)
    assert result.returncode != 0
    assert "no-such-binary" in result.stderr


def test_exec_detached_writes_pid_file(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    cid = run_sleeper(runtime, bundle)
    pid_file = tmp_path / "exec.pid"
    runtime("exec", "--detach", "--pid-file", pid_file, cid, "sleep", "1000")
    pid = int(pid_file.read_text())
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(
        f"/proc/{runtime.state(cid)['pid']}/ns/pid"
    )


def test_exec_process_cannot_reach_the_runtime_binary(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """CVE-2019-5736: the exec'd process must not be able to open the runtime's
    executable through /proc (the runtime turns non-dumpable before joining)."""
    cid = run_sleeper(runtime, bundle)
    digest = hashlib.sha256(Path(sys.executable).resolve().read_bytes()).hexdigest()
    # Every process visible in the container, the runtime's own while it is
    # joining included, is tried for writing through /proc/PID/exe.
    script = (
        "for i in 1 2 3 4 5 6 7 8 9 10; do for p in /proc/[0-9]*; do"
        " (echo x >> $p/exe) 2>/dev/null && echo WROTE $p; done; done; echo done"
    )
    result = runtime("exec", cid, "sh", "-c", script)
    assert "WROTE" not in result.stdout
    assert result.stdout.strip().endswith("done")
    assert hashlib.sha256(Path(sys.executable).resolve().read_bytes()).hexdigest() == digest


def test_exec_runs_under_the_containers_seccomp_filter(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    cid = run_sleeper(runtime, bundle)
    result = runtime("exec", cid, "mkdir", "/dev/shm/x", check=False)
    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr
    assert runtime("exec", cid, "ls", "/dev/shm").stdout == ""


# Runs `exec --detach` from under a subreaper that reaps at once, as containerd's shim
# and conmon do, with the runtime held to 5% of a CPU (a loaded machine, on demand)
# while the process it starts runs unthrottled in the container's cgroup.
_SUBREAPER = """
import os, sys
from dockyard.linux import libc as L
L.prctl(L.PR_SET_CHILD_SUBREAPER, 1)
procs, argv = sys.argv[1], sys.argv[2:]
for _ in range(10):
    pid = os.fork()
    if pid == 0:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
        os.execv(argv[0], argv)
    while True:  # reaps the exec'd process too, as soon as it ends
        reaped, status = os.waitpid(-1, 0)
        if reaped == pid:
            print(os.waitstatus_to_exitcode(status), flush=True)
            break
"""


def _throttled_cgroup(name: str) -> Path:
    """A cgroup that gives its processes 5 ms of CPU per 100 ms."""
    v1 = Path("/sys/fs/cgroup/cpu")
    if (v1 / "cpu.cfs_quota_us").exists():
        cgroup = v1 / name
        cgroup.mkdir()
        (cgroup / "cpu.cfs_period_us").write_text("100000")
        (cgroup / "cpu.cfs_quota_us").write_text("5000")
        return cgroup
    v2 = Path("/sys/fs/cgroup")
    if "cpu" not in (v2 / "cgroup.subtree_control").read_text().split():
        pytest.skip("no cpu controller to throttle the runtime with")
    cgroup = v2 / name
    cgroup.mkdir()
    (cgroup / "cpu.max").write_text("5000 100000")
    return cgroup


def test_a_detached_exec_that_ends_at_once_under_a_subreaper_succeeds(
    runtime: Runtime, bundle: Bundle
) -> None:
    """The runtime read the new process's pid, then looked for it in /proc: a process
    that had run and been reaped by then (a slow runtime, a shim that reaps at once)
    made a successful exec fail with "the process exited before it started"."""
    cid = run_sleeper(runtime, bundle)
    cgroup = _throttled_cgroup(f"{CGROUP_NAME_PART}-throttle-{cid[:8]}")
    try:
        argv = [runtime.executable, "--root", str(runtime.root), "exec", "--detach", cid, "true"]
        done = subprocess.run(
            [sys.executable, "-c", _SUBREAPER, str(cgroup / "cgroup.procs"), *argv],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        cgroup.rmdir()
    assert done.stdout.split() == ["0"] * 10, done.stderr

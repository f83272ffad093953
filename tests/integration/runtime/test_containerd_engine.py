"""containerd drives the runtime: its runc shim (containerd-shim-runc-v2) with
the runtime under test as its runc binary (``ctr run --runc-binary``).

The shim calls create with --pid-file, --console-socket and a JSON --log,
then start, state, exec with a process.json, kill, pause, resume, ps and
delete, as it does runc. The test starts a containerd of its own (own root,
state and socket, the CRI plugin off), imports a busybox image from an OCI
archive, and stops and removes all of it afterwards, also on failure. The
same cases run against runc (RUNTIME=runc).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.image.builder import Image, make_layer, tar_directory, write_layout
from tests.support import leaks, requires, wait_for
from tests.support.rootfs import build_rootfs
from tests.support.runtime import runtime_under_test

CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.runtime,
    requires("root"),
    pytest.mark.skipif(
        not (CONTAINERD and CTR and shutil.which("containerd-shim-runc-v2")),
        reason="needs containerd (apt-get install containerd)",
    ),
]

IMAGE = "docker.io/dockyard-test/busybox:1"
#: where the runc shim keeps its sockets and its runtime's state, and ctr its
#: fifos: shared paths, parents first
SHIM_DIRS = (
    Path("/run/containerd"),
    Path("/run/containerd/fifo"),
    Path("/run/containerd/runc"),
    Path("/run/containerd/s"),
)


class Containerd:
    """A private containerd daemon and ``ctr`` against it, in one namespace."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.socket = base / "containerd.sock"
        self.namespace = f"dockyard-test-{secrets.token_hex(4)}"
        self.runtime = shutil.which(runtime_under_test()[1]) or runtime_under_test()[1]
        config = base / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{base}/root"\n'
            f'state = "{base}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{self.socket}"\n'
            f'[ttrpc]\n  address = "{self.socket}.ttrpc"\n'
        )
        self.log = open(base / "containerd.log", "wb")  # noqa: SIM115  (closed by stop)
        self.daemon = subprocess.Popen(
            [str(CONTAINERD), "--config", str(config)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_for(self.socket.exists, "containerd to listen", 60)
        except BaseException:  # the fixture never gets this object to stop
            self.daemon.kill()
            self.daemon.wait()
            self.log.close()
            raise

    def ctr(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(CTR), "--address", str(self.socket), "--namespace", self.namespace, *args]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"ctr {' '.join(args)} exited {result.returncode}: {result.stderr}"
            )
        return result

    def task_status(self, name: str) -> str:
        for line in self.ctr("task", "ls").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == name:
                return fields[2]
        return ""

    def stop(self) -> list[str]:
        """Stop the daemon, then kill, unmount and remove whatever is left; what was."""
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(10)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        self.log.close()
        exclude = leaks.ancestors(os.getpid())
        processes = leaks.processes_mentioning(str(self.socket), exclude=exclude)
        processes.update(leaks.processes_mentioning(self.namespace, exclude=exclude))
        leaks.kill_processes(processes)
        mounts = leaks.mounts_under(self.base)
        leaks.unmount(mounts)
        shutil.rmtree(Path("/run/containerd/runc") / self.namespace, ignore_errors=True)
        return [f"process (killed): {p}" for p in processes.values()] + [
            f"mount (detached): {m}" for m in mounts
        ]


@pytest.fixture(scope="module")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    base = tmp_path_factory.mktemp("containerd")
    made = [d for d in SHIM_DIRS if not d.exists()]
    daemon = Containerd(base)
    try:
        rootfs = build_rootfs(base / "rootfs")
        layout = write_layout(
            base / "layout", {IMAGE: [Image([make_layer(tar_directory(rootfs))])]}
        )
        archive = base / "image.tar"
        with tarfile.open(archive, "w") as tar:
            for path in sorted(layout.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
        daemon.ctr("images", "import", str(archive))
        yield daemon
    finally:
        left = daemon.stop()
        # ctr puts containers in /<namespace>/<id>: the namespace's cgroups are ours
        leaks.remove_cgroups(leaks.with_descendants(leaks.cgroups_named(daemon.namespace)))
        for directory in reversed(made):  # what this test made, deepest first
            # Only while empty: another session's shims may be using them by now
            # (removing the tree took their sockets and their runtime's state).
            try:
                directory.rmdir()
            except OSError:
                pass
        subprocess.run(["rm", "-rf", "--one-file-system", str(base)], check=False)
        if left:
            pytest.fail("containerd left behind:\n" + "\n".join(left), pytrace=False)


def run(
    containerd: Containerd, name: str, *command: str, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``ctr run --rm`` of IMAGE through the runtime under test."""
    return containerd.ctr(
        "run", "--rm", "--runc-binary", containerd.runtime, *flags, IMAGE, name, *command,
        check=False,
    )  # fmt: skip


def test_a_container_runs_and_its_exit_status_comes_back(containerd: Containerd) -> None:
    result = run(containerd, "t-run", "sh", "-c", "echo hello $$; exit 3")

    assert result.stdout.split() == ["hello", "1"], result.stderr
    assert result.returncode == 3


def task_pid(containerd: Containerd, name: str) -> int:
    for line in containerd.ctr("task", "ls").stdout.splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == name:
            return int(fields[1])
    raise AssertionError(f"no task {name}")


def memory_limit(pid: int) -> int:
    """The memory limit of ``pid``'s cgroup, read on the host (ctr mounts no cgroupfs)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return int(Path(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").read_text())
        if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            return int(Path(f"/sys/fs/cgroup{path}/memory.max").read_text())
    raise AssertionError(f"no memory cgroup for {pid}")


def test_a_terminal_comes_through_the_shim(containerd: Containerd) -> None:
    # ctr wants a terminal of its own for --tty: script(1) gives it one
    ctr = [str(CTR), "--address", str(containerd.socket), "--namespace", containerd.namespace]
    ctr += ["run", "--rm", "--tty", "--runc-binary", containerd.runtime, IMAGE, "t-tty", "tty"]
    result = subprocess.run(
        ["script", "--quiet", "--return", "--command", shlex.join(ctr), "/dev/null"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    # the last line, after whatever the terminal echoed (a NUL shows as "^@")
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines and lines[-1].endswith("/dev/pts/0"), result.stdout


def test_a_detached_task_through_exec_pause_and_kill(containerd: Containerd) -> None:
    name = "t-task"
    loop = 'trap "exit 0" TERM; while true; do sleep 0.1; done'
    containerd.ctr(
        "run", "--detach", "--runc-binary", containerd.runtime, "--memory-limit", "67108864",
        IMAGE, name, "sh", "-c", loop,
    )  # fmt: skip
    try:
        assert containerd.task_status(name) == "RUNNING"
        assert memory_limit(task_pid(containerd, name)) == 64 * 1024 * 1024

        out = containerd.ctr(
            "task",
            "exec",
            "--exec-id",
            "e1",
            name,
            "sh",
            "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '",
        ).stdout
        assert out.startswith("sh -c trap")
        assert len(containerd.ctr("task", "ps", name).stdout.splitlines()) >= 2

        containerd.ctr("task", "pause", name)
        assert containerd.task_status(name) == "PAUSED"
        containerd.ctr("task", "resume", name)
        assert containerd.task_status(name) == "RUNNING"

        containerd.ctr("task", "kill", name)  # SIGTERM, which the trap takes
        wait_for(lambda: containerd.task_status(name) == "STOPPED", "the task to stop", 10)
    finally:
        containerd.ctr("task", "delete", "--force", name, check=False)
        containerd.ctr("container", "delete", name, check=False)
    assert not list((Path("/run/containerd/runc") / containerd.namespace).glob(name))


def test_a_failed_create_is_reported_from_the_runtime_log(containerd: Containerd) -> None:
    # The shim reads the runtime's --log (JSON lines) to say why create failed.
    result = run(containerd, "t-fail", "/no/such/program")

    assert result.returncode != 0
    assert "/no/such/program" in result.stderr, result.stderr
    assert containerd.ctr("container", "ls", "--quiet").stdout.strip() == ""

"""An engine drives the runtime: podman (through conmon) with ``--runtime``.

This is what "runc's command line" is for: podman calls create, start,
state, exec, kill, pause, resume, ps, update and delete the way it calls
runc, reads the pid file, hands conmon's console socket on and reads the
exit status from the container's process. Every case is checked from
inside the container or through podman's own view of it, and runs against
runc too (RUNTIME=runc).

Podman's defaults raise RLIMIT_NOFILE and RLIMIT_NPROC to 1048576; root on
this host lacks CAP_SYS_RESOURCE, so runc and crun fail that too, and every
container here asks for limits under the host's hard ones.
"""

from __future__ import annotations

import resource
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.image.builder import tar_directory
from tests.support import leaks, requires
from tests.support.podman import PODMAN, Podman
from tests.support.rootfs import build_rootfs
from tests.support.runtime import runtime_under_test

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runtime,
    requires("root"),
    pytest.mark.skipif(PODMAN is None, reason="needs podman (apt-get install podman)"),
]

IMAGE = "localhost/dockyard-test/busybox:1"
#: The cgroup parent of this module's containers and of their conmons
#: (``<parent>/conmon``). Podman's default, /libpod_parent, is shared by every
#: podman on the machine: removing it afterwards killed another test session's
#: containers and conmons ("container is stopped", "its init process is gone").
PODMAN_PARENT = f"{leaks.CGROUP_NAME_PART}-podman-{secrets.token_hex(4)}"


def runtime_path() -> str:
    name, executable = runtime_under_test()
    found = shutil.which(executable)
    assert found, f"runtime {name} ({executable}) not found"
    return found


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    podman = Podman(tmp_path_factory.mktemp("podman-engine"), runtime=runtime_path())
    try:
        tarball = podman.base / "rootfs.tar"
        tarball.write_bytes(tar_directory(build_rootfs(podman.base / "rootfs")))
        podman.run("import", str(tarball), IMAGE)
        yield podman
    finally:
        podman.run("rm", "--all", "--force", "--time", "0", check=False)
        left = podman.clean_up()
        # podman makes the parent and leaves it: ours alone, so remove it whole
        leaks.remove_cgroups(leaks.with_descendants(leaks.cgroups_named(PODMAN_PARENT)))
        if left:
            pytest.fail("podman left behind:\n" + "\n".join(left), pytrace=False)


def limits() -> list[str]:
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


def own_cgroup_no_network() -> list[str]:
    return ["--cgroup-parent", f"/{PODMAN_PARENT}", "--network", "none"]


def run(podman: Podman, *args: str, check: bool = True) -> tuple[int, str, str]:
    """``podman run --rm`` with no network and the host's limits; status, out, err."""
    result = podman.call("run", "--rm", *own_cgroup_no_network(), *limits(), *args, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"podman run {args} exited {result.returncode}: {result.stderr}")
    return result.returncode, result.stdout, result.stderr


def test_a_container_runs_and_its_exit_status_comes_back(podman: Podman) -> None:
    status, out, _ = run(
        podman, "--hostname", "box", "--env", "GREETING=hi", IMAGE,
        "sh", "-c", 'echo "$(hostname) $GREETING $$"',
    )  # fmt: skip
    assert status == 0
    assert out.split() == ["box", "hi", "1"]  # its own uts and pid namespaces

    status, _, _ = run(podman, IMAGE, "sh", "-c", "exit 7", check=False)
    assert status == 7


def test_resource_flags_reach_the_cgroup(podman: Podman) -> None:
    script = (
        "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null || "
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"
    )

    _, out, _ = run(podman, "--memory", "64m", "--pids-limit", "50", IMAGE, "sh", "-c", script)

    assert out.split() == [str(64 * 1024 * 1024), "50"]


def test_a_terminal_comes_through_conmon(podman: Podman) -> None:
    _, out, _ = run(podman, "--tty", IMAGE, "tty")

    assert out.strip() == "/dev/pts/0"


def test_a_detached_container_lives_a_whole_lifecycle(podman: Podman) -> None:
    name = "dockyard-test-lifecycle"
    podman.run(
        "run", "--detach", "--name", name, *own_cgroup_no_network(), *limits(), IMAGE,
        "sh", "-c", "echo started; trap 'exit 0' TERM; while true; do sleep 0.1; done",
    )  # fmt: skip
    try:
        state = podman.inspect_container(name)["State"]
        assert state["Status"] == "running"
        for pid in (state["Pid"], state["ConmonPid"]):  # under this module's parent only
            assert f":/{PODMAN_PARENT}/" in Path(f"/proc/{pid}/cgroup").read_text()

        out = podman.run("exec", name, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '")
        assert out.startswith("sh -c echo started")
        assert "sh -c echo started" in podman.run("top", name)
        assert "started" in podman.run("logs", name)

        podman.run("pause", name)
        assert podman.inspect_container(name)["State"]["Status"] == "paused"
        podman.run("unpause", name)
        assert podman.inspect_container(name)["State"]["Status"] == "running"

        podman.run("update", "--memory", "96m", name)
        out = podman.run(
            "exec", name, "sh", "-c",
            "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
        )  # fmt: skip
        assert out.strip() == str(96 * 1024 * 1024)

        podman.run("stop", "--time", "60", name)  # SIGTERM, which the trap takes (at once)
        state = podman.inspect_container(name)["State"]
        assert state["Status"] == "exited" and state["ExitCode"] == 0
    finally:
        podman.run("rm", "--force", "--time", "0", name, check=False)
    assert name not in podman.run("ps", "--all", "--format", "{{.Names}}")


def test_a_failed_create_leaves_nothing_behind(podman: Podman) -> None:
    status, _, err = run(podman, IMAGE, "/no/such/program", check=False)

    assert status == 127, err  # podman's "command not found"
    assert podman.run("ps", "--all", "--quiet").strip() == ""


def test_podman_uses_the_runtime_under_test(podman: Podman) -> None:
    info = podman.run("info", "--format", "{{.Host.OCIRuntime.Path}}").strip()

    assert Path(info).resolve() == Path(runtime_path()).resolve()

"""Rootless: the runtime run by an unprivileged user, as rootless podman or a
user's own `runc` does, with the spec `spec --rootless` writes.

The container gets a user namespace that maps the user's own uid to root;
the host will not let that user make cgroups, so the container has none,
unless linux.resources asks for limits, which then fail create clearly (as
runc does). Each case runs the runtime as uid RUNAS (no passwd entry needed)
on a bundle and state root that uid owns; it runs against runc too.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Runtime, requires, wait_for
from tests.support.rootfs import copy_rootfs

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root"), requires("userns")]

RUNAS = 4242  # any uid without privileges


class AsUser:
    """The runtime under test, run as RUNAS, over a bundle and state root RUNAS owns."""

    def __init__(self, runtime: Runtime, base: Path) -> None:
        self.executable = runtime.executable
        self.base = base
        self.bundle = base / "bundle"
        self.root = base / "state"
        self.ids: list[str] = []

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, root: bool = True
    ) -> subprocess.CompletedProcess[str]:
        def drop() -> None:
            os.setgroups([])
            os.setresgid(RUNAS, RUNAS, RUNAS)
            os.setresuid(RUNAS, RUNAS, RUNAS)

        argv = [self.executable, *(["--root", str(self.root)] if root else []), *args]
        foreground = args[0] in ("state", "list") or (args[0] == "run" and "--detach" not in args)
        # A detached container keeps the runtime's stdio: a file, not a pipe
        # that would stay open until the container exits.
        with open(self.base / "stderr", "w+") as stderr:
            result = subprocess.run(
                argv,
                preexec_fn=drop,
                cwd=self.base,
                env={"PATH": os.environ["PATH"], **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if foreground else subprocess.DEVNULL,
                stderr=stderr,
                text=True,
                timeout=30,
            )
            stderr.seek(0)
            result.stderr = stderr.read()
        return result

    def config(self, args: list[str], **linux: object) -> None:
        path = self.bundle / "config.json"
        config = json.loads(path.read_text())
        config["process"]["args"] = args
        config["process"]["terminal"] = False
        config["linux"].update(linux)
        path.write_text(json.dumps(config))

    def new_id(self) -> str:
        self.ids.append(f"dockyard-test-rootless-{len(self.ids)}-{os.getpid()}")
        return self.ids[-1]


@pytest.fixture
def user(runtime: Runtime, host_dir: Path, busybox_rootfs: Path) -> Iterator[AsUser]:
    user = AsUser(runtime, host_dir)
    user.bundle.mkdir()
    copy_rootfs(busybox_rootfs, user.bundle / "rootfs")
    subprocess.run(["chown", "-R", "-h", f"{RUNAS}:{RUNAS}", str(host_dir)], check=True)
    if user("--version", root=False).returncode != 0:
        pytest.skip(f"uid {RUNAS} cannot run {runtime.executable} (its files are not readable)")
    spec = user("spec", "--rootless", "--bundle", str(user.bundle), root=False)
    assert spec.returncode == 0, spec.stderr
    try:
        yield user
    finally:
        for container_id in user.ids:
            user("delete", "--force", container_id)


def test_a_rootless_container_runs_as_root_of_its_user_namespace(user: AsUser) -> None:
    user.config(["sh", "-c", "id -u; cat /proc/self/uid_map; exit 5"])

    result = user("run", "--bundle", str(user.bundle), user.new_id())

    assert result.returncode == 5, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(RUNAS), "1"]


def test_a_rootless_container_lives_a_whole_lifecycle(user: AsUser) -> None:
    user.config(["sleep", "30"])
    container_id = user.new_id()

    created = user("create", "--bundle", str(user.bundle), container_id)
    assert created.returncode == 0, created.stderr
    assert user("start", container_id).returncode == 0
    state = json.loads(user("state", container_id).stdout)
    assert state["status"] == "running"
    assert Path(f"/proc/{state['pid']}/status").read_text().count(f"\t{RUNAS}\t") >= 1

    assert user("kill", container_id, "KILL").returncode == 0
    wait_for(
        lambda: json.loads(user("state", container_id).stdout)["status"] == "stopped",
        "the container to stop",
        10,
    )
    assert user("delete", container_id).returncode == 0
    assert user("list", "-q").stdout.strip() == ""


def test_limits_without_a_cgroup_fail_create_clearly(user: AsUser) -> None:
    user.config(["true"], resources={"memory": {"limit": 64 * 1024 * 1024}})
    container_id = user.new_id()

    result = user("run", "--bundle", str(user.bundle), container_id)

    assert result.returncode != 0
    assert "memory" in result.stderr, result.stderr
    assert user("list", "-q").stdout.strip() == ""
    leftovers = [p for p in Path("/sys/fs/cgroup").glob(f"*/{container_id}") if p.exists()]
    assert leftovers == []


def test_the_state_root_defaults_to_xdg_runtime_dir(user: AsUser, runtime: Runtime) -> None:
    xdg = user.base / "xdg"
    xdg.mkdir()
    os.chown(xdg, RUNAS, RUNAS)
    user.config(["sleep", "30"])
    container_id = user.new_id()
    env = {"XDG_RUNTIME_DIR": str(xdg)}

    bundle = str(user.bundle)
    result = user("run", "--detach", "--bundle", bundle, container_id, env=env, root=False)
    try:
        assert result.returncode == 0, result.stderr
        name = "runc" if runtime.name == "runc" else "dockyard-runtime"
        assert (xdg / name / container_id).is_dir()
    finally:
        user("delete", "--force", container_id, env=env, root=False)


def test_delete_force_ends_a_created_rootless_container(user: AsUser) -> None:
    # Without a cgroup the runtime finds the container's processes through its
    # pid namespace, which a rootless runtime may not read for the init (it is
    # non-dumpable until it execs): the init itself must still be killed.
    user.config(["sleep", "30"])
    container_id = user.new_id()
    assert user("create", "--bundle", str(user.bundle), container_id).returncode == 0
    pid = json.loads(user("state", container_id).stdout)["pid"]

    result = user("delete", "--force", container_id)

    assert result.returncode == 0, result.stderr
    assert (
        not Path(f"/proc/{pid}").exists()
        or "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    )
    assert user("list", "-q").stdout.strip() == ""

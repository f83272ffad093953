"""hooks: each kind runs at its moment of the lifecycle, in order, with the
container's state on stdin, in the runtime's or the container's namespaces;
failures and timeouts stop create, but after start they only warn."""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.runtime.containers import use_script
from tests.integration.runtime.inside import not_on_runc, run_probe
from tests.support import Bundle, Runtime, leaks, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

HOOK_KINDS = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)
OUT = "/hooks-out"  # where the container sees the records directory

# record KIND DIR: keep the state from stdin, the mount namespace, the order.
# It runs under the host's sh, or (startContainer) the container's busybox sh.
RECORD = """#!/bin/sh
cat > "$2/$1.json"
readlink /proc/self/ns/mnt > "$2/$1.mnt"
echo "$1" >> "$2/order"
"""


def write_script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@dataclass
class Records:
    """What the hooks left in ``directory`` (the host side of OUT)."""

    directory: Path
    order_after: dict[str, list[str]] = field(default_factory=dict)

    def order(self) -> list[str]:
        path = self.directory / "order"
        return path.read_text().split() if path.exists() else []

    def state(self, kind: str) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.directory / f"{kind}.json").read_text())
        return state

    def mount_ns(self, kind: str) -> str:
        return (self.directory / f"{kind}.mnt").read_text().strip()


def record_all_hooks(bundle: Bundle, tmp_path: Path) -> Records:
    """Give the bundle one recording hook of every kind."""
    records = Records(tmp_path / "records")
    records.directory.mkdir()
    host_hook = write_script(tmp_path / "hooks/record", RECORD)
    # startContainer runs in the container after pivot_root: its path is the
    # container's, and it writes through a bind mount of the records directory.
    write_script(bundle.rootfs / "hooks/record", RECORD)
    bundle.config["mounts"].append(
        {"destination": OUT, "type": "bind", "source": str(records.directory), "options": ["bind"]}
    )
    hooks: dict[str, list[dict[str, Any]]] = {}
    for kind in HOOK_KINDS:
        if kind == "startContainer":
            hooks[kind] = [{"path": "/hooks/record", "args": ["record", kind, OUT]}]
        else:
            hooks[kind] = [
                {"path": str(host_hook), "args": ["record", kind, str(records.directory)]}
            ]
    bundle.config["hooks"] = hooks
    return records


@dataclass
class Lifecycle:
    records: Records
    pid: int  # the container's process, as the host sees it
    container_mount_ns: str


def run_lifecycle(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> Lifecycle:
    """create, start, wait for the exit, delete; note the hooks' order after each."""
    records = record_all_hooks(bundle, tmp_path)
    # The process proves startContainer ran before it.
    use_script(bundle, f"test -s {OUT}/startContainer.json && echo ran > {OUT}/process")
    container_id = runtime.create(bundle)
    pid = runtime.state(container_id)["pid"]
    mount_ns = os.readlink(f"/proc/{pid}/ns/mnt")
    records.order_after["create"] = records.order()
    runtime.start(container_id)
    records.order_after["start"] = records.order()
    runtime.wait_for_status(container_id, "stopped")
    runtime.delete(container_id)
    records.order_after["delete"] = records.order()
    return Lifecycle(records, pid, mount_ns)


def test_hooks_run_in_order_each_at_its_moment(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    life = run_lifecycle(runtime, bundle, tmp_path)

    # poststart apart: runc 1.1 runs it during create (see the next test)
    order = {
        moment: [kind for kind in kinds if kind != "poststart"]
        for moment, kinds in life.records.order_after.items()
    }
    assert order == {
        "create": ["prestart", "createRuntime", "createContainer"],
        "start": ["prestart", "createRuntime", "createContainer", "startContainer"],
        "delete": [kind for kind in HOOK_KINDS if kind != "poststart"],
    }
    assert (life.records.directory / "process").read_text() == "ran\n"


@not_on_runc("poststart hooks run during create, before the process starts (fixed in 1.2)")
def test_poststart_runs_after_start_container(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    life = run_lifecycle(runtime, bundle, tmp_path)

    assert "poststart" not in life.records.order_after["create"]
    assert life.records.order_after["start"][-2:] == ["startContainer", "poststart"]
    assert life.records.order_after["delete"] == list(HOOK_KINDS)


# kind -> (status in its state, namespace it runs in)
HOOK_MOMENTS = {
    "prestart": ("creating", "runtime"),
    "createRuntime": ("creating", "runtime"),
    "createContainer": ("creating", "container"),
    "startContainer": ("created", "container"),
    "poststart": ("running", "runtime"),
    "poststop": ("stopped", "runtime"),
}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(
            kind,
            marks=not_on_runc("poststart hooks get status 'created', not 'running'")
            if kind == "poststart"
            else (),
        )
        for kind in HOOK_KINDS
    ],
)
def test_a_hook_gets_the_state_and_runs_in_its_namespace(
    runtime: Runtime, bundle: Bundle, tmp_path: Path, kind: str
) -> None:
    life = run_lifecycle(runtime, bundle, tmp_path)
    status, namespace = HOOK_MOMENTS[kind]

    state = life.records.state(kind)

    assert state["status"] == status
    assert state["bundle"] == str(bundle.path)
    assert state["id"].startswith("dockyard-test-")
    assert state["ociVersion"]
    if namespace == "container":
        assert life.records.mount_ns(kind) == life.container_mount_ns
        # runtime-spec: "for hooks executed in the container namespace, the
        # pid as seen by the container" (pid 1 of its pid namespace)
        assert state["pid"] == 1
    else:
        assert life.records.mount_ns(kind) == os.readlink("/proc/self/ns/mnt")
        if status == "stopped":
            assert state.get("pid", 0) == 0 or state["pid"] == life.pid
        else:
            assert state["pid"] == life.pid


def test_hooks_get_their_args_and_env(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    # A Python hook reports its exact argv (argv[0] included, which a shell
    # script would lose) and environment.
    out = tmp_path / "hook-saw.json"
    code = (
        "import json, os, sys; "
        f"open({str(out)!r}, 'w').write(json.dumps([sys.orig_argv, dict(os.environ)]))"
    )
    env = ["HOOK_VAR=set", "LC_ALL=C.UTF-8"]  # LC_ALL: no locale coercion by Python
    bundle.config["hooks"] = {
        "createRuntime": [
            {"path": sys.executable, "args": ["hook-argv0", "-I", "-c", code, "one"], "env": env}
        ]
    }

    result = run_probe(runtime, bundle, "true")

    assert result.returncode == 0, result.stderr
    argv, environ = json.loads(out.read_text())
    assert argv == ["hook-argv0", "-I", "-c", code, "one"]
    # Only the env given: nothing from the runtime's own environment.
    assert environ == {"HOOK_VAR": "set", "LC_ALL": "C.UTF-8"}


def failing_hook(tmp_path: Path) -> dict[str, Any]:
    hook = write_script(tmp_path / "fail", "#!/bin/sh\necho hook-says-no >&2\nexit 3\n")
    return {"path": str(hook)}


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_a_failing_create_hook_fails_create_and_leaves_no_container(
    runtime: Runtime, bundle: Bundle, tmp_path: Path, kind: str
) -> None:
    bundle.config["hooks"] = {kind: [failing_hook(tmp_path)]}
    use_script(bundle, "echo started > /tmp/started")

    result = runtime("create", "--bundle", bundle.path, runtime.new_id(), check=False)

    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.list() == []
    assert not (bundle.rootfs / "tmp/started").exists()


def test_a_hook_past_its_timeout_fails_create(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    nap = f"5.{secrets.randbelow(10**6):06d}"  # a sleep we can find afterwards
    bundle.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sleep", "args": ["sleep", nap], "timeout": 1}]
    }
    use_script(bundle, "true")

    result = runtime("create", "--bundle", bundle.path, runtime.new_id(), check=False, timeout=4)

    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.list() == []
    assert leaks.processes_mentioning(nap) == {}, "the hook was not killed"


@not_on_runc("kills only the hook's own process on a timeout; its children live on")
@pytest.mark.parametrize("kind", ["createRuntime", "createContainer"])
def test_a_hook_past_its_timeout_leaves_no_child_running(
    runtime: Runtime, bundle: Bundle, tmp_path: Path, kind: str
) -> None:
    # The child keeps the hook's stdout and stderr open, as a forgotten
    # background job does: the runtime must neither wait for it nor leave it.
    nap = f"7.{secrets.randbelow(10**6):06d}"
    hook = write_script(tmp_path / "spawns", f"#!/bin/sh\nsleep {nap} &\nexec sleep {nap}\n")
    bundle.config["hooks"] = {kind: [{"path": str(hook), "timeout": 1}]}
    use_script(bundle, "true")

    result = runtime("create", "--bundle", bundle.path, runtime.new_id(), check=False, timeout=5)

    assert result.returncode == 1
    assert "timed out after 1s" in result.stderr
    assert runtime.list() == []
    assert leaks.processes_mentioning(nap) == {}, "the hook's child lives on"


def test_a_start_container_hook_resolves_in_the_container(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    # A path that exists on the host only: inside the container it is missing.
    host_only = write_script(tmp_path / "host-only-hook", "#!/bin/sh\nexit 0\n")
    bundle.config["hooks"] = {"startContainer": [{"path": str(host_only)}]}

    result = run_probe(runtime, bundle, "echo started > /tmp/started", writable_root=True)

    assert result.returncode != 0
    assert not (bundle.rootfs / "tmp/started").exists()


@not_on_runc("a failing poststart hook fails start and kills the container (spec: only warn)")
def test_a_failing_poststart_hook_only_warns(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    bundle.config["hooks"] = {"poststart": [failing_hook(tmp_path)]}

    result = run_probe(runtime, bundle, "echo ran; exit 7")

    assert result.returncode == 7
    assert result.stdout == "ran\n"
    assert "hook-says-no" in result.stderr or "poststart" in result.stderr


def test_a_failing_poststop_hook_only_warns(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    bundle.config["hooks"] = {"poststop": [failing_hook(tmp_path)]}
    use_script(bundle, "true")
    container_id = runtime.create(bundle)
    runtime.start(container_id)
    runtime.wait_for_status(container_id, "stopped")

    result = runtime("delete", container_id, check=False)

    assert result.stderr.strip()  # the warning
    assert runtime.list() == []

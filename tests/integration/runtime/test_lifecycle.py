"""create, start, state and delete: the container state machine seen from the CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.runtime.containers import SLEEP, run_sleeper, use_script
from tests.integration.runtime.inside import not_on_runc
from tests.support import Bundle, Runtime, requires, wait_for, wait_for_path
from tests.support.bundle import MakeBundle

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_create_does_not_start_the_process(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, f"echo started > /tmp/started; {SLEEP}")
    container_id = runtime.create(bundle)

    state = runtime.state(container_id)
    assert state["status"] == "created"
    assert state["pid"] > 0 and not gone(state["pid"])
    time.sleep(0.3)  # the process would have written its file by now
    assert not (bundle.rootfs / "tmp/started").exists()


def test_start_runs_the_process(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, f"echo started > /tmp/started; {SLEEP}")
    container_id = runtime.create(bundle)
    created_pid = runtime.state(container_id)["pid"]

    runtime.start(container_id)

    assert wait_for_path(bundle.rootfs / "tmp/started").read_text() == "started\n"
    state = runtime.state(container_id)
    assert state["status"] == "running"
    assert state["pid"] == created_pid  # the created process is the one that runs


def test_state_reports_the_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["annotations"] = {"org.dockyard.test": "state"}
    use_script(bundle, SLEEP)
    container_id = runtime.create(bundle)

    state = runtime.state(container_id)

    assert isinstance(state["ociVersion"], str) and state["ociVersion"]
    assert state["id"] == container_id
    assert state["status"] == "created"
    assert isinstance(state["pid"], int) and state["pid"] > 0
    assert state["bundle"] == str(bundle.path)
    assert state["rootfs"] == str(bundle.rootfs)
    assert RFC3339.fullmatch(state["created"]), state["created"]
    created = datetime.fromisoformat(state["created"][:19]).replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - created).total_seconds()) < 300
    # runc's state says "" for the owner (its list says "root").
    assert isinstance(state["owner"], str)
    # runc omits "annotations" when the config has none.
    assert state["annotations"] == {"org.dockyard.test": "state"}


def test_status_goes_created_running_stopped(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.create(bundle)
    assert runtime.state(container_id)["status"] == "created"

    runtime.start(container_id)
    assert runtime.state(container_id)["status"] == "running"

    runtime.kill(container_id, "KILL")
    stopped = runtime.wait_for_status(container_id, "stopped")
    # runc reports pid 0 once the process is gone.
    assert stopped["pid"] == 0 or gone(stopped["pid"])

    runtime.delete(container_id)
    assert runtime("state", container_id, check=False).returncode != 0


def test_a_process_that_exits_leaves_the_container_stopped(
    runtime: Runtime, bundle: Bundle
) -> None:
    use_script(bundle, "exit 0", writable_root=False)
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)

    runtime.wait_for_status(container_id, "stopped")
    runtime.delete(container_id)  # no --force needed once stopped
    assert runtime.list() == []


def test_start_twice_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.create(bundle)
    runtime.start(container_id)

    again = runtime("start", container_id, check=False)

    assert again.returncode != 0
    assert again.stderr.strip()
    assert runtime.state(container_id)["status"] == "running"


def test_start_of_a_stopped_container_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)
    runtime.kill(container_id, "KILL")
    runtime.wait_for_status(container_id, "stopped")

    again = runtime("start", container_id, check=False)

    assert again.returncode != 0
    assert again.stderr.strip()


def test_create_with_an_id_in_use_is_refused(
    runtime: Runtime, bundle: Bundle, make_bundle: MakeBundle
) -> None:
    container_id = run_sleeper(runtime, bundle)
    other = make_bundle("other")

    again = runtime("create", "--bundle", other.path, container_id, check=False)

    assert again.returncode != 0
    assert again.stderr.strip()
    assert runtime.state(container_id)["bundle"] == str(bundle.path)


def test_delete_of_a_running_container_needs_force(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)
    pid = runtime.state(container_id)["pid"]

    refused = runtime("delete", container_id, check=False)
    assert refused.returncode != 0
    assert refused.stderr.strip()
    assert runtime.state(container_id)["status"] == "running"

    runtime.delete(container_id, force=True)
    assert runtime("state", container_id, check=False).returncode != 0
    wait_for(lambda: gone(pid), f"pid {pid} to exit after delete --force")


def test_delete_force_of_a_created_container(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.create(bundle)
    pid = runtime.state(container_id)["pid"]

    runtime.delete(container_id, force=True)

    assert runtime.list() == []
    wait_for(lambda: gone(pid), f"pid {pid} to exit after delete --force")


def test_state_of_a_missing_container_fails(runtime: Runtime) -> None:
    result = runtime("state", "dockyard-test-missing", check=False)

    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip()


def test_delete_of_a_missing_container_fails_unless_forced(runtime: Runtime) -> None:
    # Engines (podman, containerd's shim) delete -f after a failed create; runc
    # answers success when there is nothing to delete.
    plain = runtime("delete", "dockyard-test-missing", check=False)
    forced = runtime("delete", "--force", "dockyard-test-missing", check=False)

    assert plain.returncode != 0 and "does not exist" in plain.stderr
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize("verb", ["create", "run --detach"])
def test_pid_file_holds_the_container_pid(runtime: Runtime, bundle: Bundle, verb: str) -> None:
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.new_id()
    pid_file = bundle.path.parent / "container.pid"

    runtime(*verb.split(), "--bundle", bundle.path, "--pid-file", pid_file, container_id)

    assert int(pid_file.read_text()) == runtime.state(container_id)["pid"]


def test_a_state_root_that_is_a_file_fails_clearly(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    root = tmp_path / "not-a-directory"
    root.write_text("")

    argv = [runtime.executable, "--root", str(root), "create", "--bundle", str(bundle.path), "x1"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert str(root) in result.stderr, result.stderr


@not_on_runc(
    "killed during a createRuntime hook, it has no state.json yet: state and delete -f "
    "say the container does not exist, and its cgroups stay behind"
)
def test_a_create_killed_mid_way_is_cleaned_up_by_delete_force(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    # The runtime dies (SIGKILL) while a createRuntime hook runs: the init
    # exists, its cgroup too. The init must not outlive it waiting, and
    # delete -f must remove what is left.
    marker = tmp_path / "hook-ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexec sleep 30\n")
    hook.chmod(0o755)
    bundle.config["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.new_id()
    argv = [runtime.executable, "--root", str(runtime.root), "create", "--bundle"]
    creating = subprocess.Popen(
        [*argv, str(bundle.path), container_id],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(marker.exists, "the createRuntime hook to run", 20)
        pid = runtime.state(container_id)["pid"]
    finally:
        os.killpg(creating.pid, signal.SIGKILL)  # the runtime and its hook
        creating.wait()

    wait_for(lambda: gone(pid), f"the init ({pid}) to exit once its runtime is gone", 10)
    runtime.delete(container_id, force=True)

    assert runtime.list() == []
    cgroup_dirs = [p for p in Path("/sys/fs/cgroup").glob(f"**/{container_id}") if p.is_dir()]
    assert cgroup_dirs == []

"""kill: signals by name (with or without SIG) and by number."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from tests.integration.runtime.containers import run_sleeper, use_script
from tests.integration.runtime.inside import RUNTIME_NAME
from tests.support import Bundle, Runtime, requires, wait_for_path

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


@pytest.mark.parametrize("spelling", ["KILL", "SIGKILL", str(signal.SIGKILL.value)])
def test_kill_stops_the_container(runtime: Runtime, bundle: Bundle, spelling: str) -> None:
    container_id = run_sleeper(runtime, bundle)

    runtime.kill(container_id, spelling)

    runtime.wait_for_status(container_id, "stopped")


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        (None, "TERM"),  # kill's default signal
        ("TERM", "TERM"),
        ("SIGTERM", "TERM"),
        (str(signal.SIGTERM.value), "TERM"),
        ("USR1", "USR1"),
        (str(signal.SIGUSR1.value), "USR1"),
        ("SIGHUP", "HUP"),
    ],
)
def test_kill_delivers_the_signal_to_the_process(
    runtime: Runtime, bundle: Bundle, spelling: str | None, name: str
) -> None:
    # As pid 1 of its namespace the shell gets only signals it has a handler for.
    use_script(
        bundle,
        f"trap 'echo {name} > /tmp/signal; exit 0' {name}; touch /tmp/ready; sleep 1000 & wait",
    )
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    wait_for_path(bundle.rootfs / "tmp/ready")

    runtime.kill(container_id, spelling)

    assert wait_for_path(bundle.rootfs / "tmp/signal").read_text() == f"{name}\n"
    runtime.wait_for_status(container_id, "stopped")


def stopped_container(runtime: Runtime, bundle: Bundle) -> str:
    use_script(bundle, "exit 0", writable_root=False)
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    runtime.wait_for_status(container_id, "stopped")
    return container_id


def assert_not_running(result: subprocess.CompletedProcess[str], container_id: str) -> None:
    """Refused as runc refuses it: status 1 and one line saying the container is not running."""
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    if RUNTIME_NAME == "runc":
        assert "container not running" in lines[0]
    else:
        assert f"container {container_id} is stopped: cannot kill it" in lines[0]


@pytest.mark.parametrize("signal_name", ["KILL", "0"])
def test_kill_of_a_stopped_container_fails(
    runtime: Runtime, bundle: Bundle, signal_name: str
) -> None:
    container_id = stopped_container(runtime, bundle)

    result = runtime("kill", container_id, signal_name, check=False)

    assert_not_running(result, container_id)


def test_kill_all_of_a_stopped_container_succeeds(runtime: Runtime, bundle: Bundle) -> None:
    # runc: there may be processes left that outlived the init; nothing to do is no error.
    container_id = stopped_container(runtime, bundle)

    assert runtime("kill", "--all", container_id, "KILL", check=False).returncode == 0


def test_kill_0_probes_a_live_container(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)

    result = runtime("kill", container_id, "0", check=False)

    assert (result.returncode, result.stderr) == (0, "")
    assert runtime.state(container_id)["status"] == "running"


@pytest.mark.skipif(RUNTIME_NAME != "dockyard", reason="writes dockyard-runtime's state.json")
def test_kill_never_signals_a_process_that_took_the_init_pid(
    runtime: Runtime, bundle: Bundle
) -> None:
    # The init died and its pid went to an unrelated process: the recorded
    # start time no longer matches, and that process must not be signalled.
    container_id = run_sleeper(runtime, bundle)
    state_file = runtime.root / container_id / "state.json"
    runtime.kill(container_id, "KILL")
    runtime.wait_for_status(container_id, "stopped")
    with subprocess.Popen(["sleep", "30"]) as stranger:
        try:
            state = json.loads(state_file.read_text())
            state["pid"] = stranger.pid
            state_file.write_text(json.dumps(state))

            result = runtime("kill", container_id, "KILL", check=False)

            assert_not_running(result, container_id)
            assert stranger.poll() is None
        finally:
            stranger.kill()


def test_kill_with_an_unknown_signal_fails(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)

    result = runtime("kill", container_id, "SIGNOPE", check=False)

    assert result.returncode != 0
    assert result.stderr.strip()
    assert runtime.state(container_id)["status"] == "running"


def test_kill_of_a_missing_container_fails(runtime: Runtime) -> None:
    result = runtime("kill", "dockyard-test-missing", "KILL", check=False)

    assert result.returncode != 0
    assert result.stderr.strip()

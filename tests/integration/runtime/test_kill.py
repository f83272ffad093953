"""kill: signals by name (with or without SIG) and by number."""

from __future__ import annotations

import signal

import pytest

from tests.integration.runtime.containers import run_sleeper, use_script
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


def test_kill_of_a_stopped_container_fails(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, "exit 0", writable_root=False)
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    runtime.wait_for_status(container_id, "stopped")

    result = runtime("kill", container_id, "KILL", check=False)

    assert result.returncode != 0
    assert result.stderr.strip()


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

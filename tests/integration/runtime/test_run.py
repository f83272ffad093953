"""run: create and start in one step, in the foreground or detached."""

from __future__ import annotations

import pytest

from tests.integration.runtime.containers import SLEEP, use_script
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


@pytest.mark.parametrize("status", [0, 3, 125])
def test_run_returns_the_exit_status_of_the_process(
    runtime: Runtime, bundle: Bundle, status: int
) -> None:
    result = run_in_container(runtime, bundle, "sh", "-c", f"exit {status}")

    assert result.returncode == status, result.stderr


def test_run_passes_stdout_and_stderr_through(runtime: Runtime, bundle: Bundle) -> None:
    result = run_in_container(runtime, bundle, "sh", "-c", "echo out; echo err >&2")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "out\n"
    assert "err\n" in result.stderr


def test_run_applies_the_process_settings(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/tmp"
    bundle.process["env"].append("GREETING=hello from the bundle")
    script = 'echo "$0|$1|$(pwd)|$GREETING|$(hostname)|$(id -u):$(id -g)"'

    result = run_in_container(runtime, bundle, "sh", "-c", script, "zero", "one")

    assert result.stdout == "zero|one|/tmp|hello from the bundle|dockyard|0:0\n"


def test_run_sees_stdin_as_empty(runtime: Runtime, bundle: Bundle) -> None:
    result = run_in_container(runtime, bundle, "sh", "-c", "cat; echo end")

    assert result.stdout == "end\n"


def test_run_deletes_the_container_when_the_process_exits(runtime: Runtime, bundle: Bundle) -> None:
    run_in_container(runtime, bundle, "true")

    assert runtime.list() == []


def test_run_detached_returns_while_the_process_runs(runtime: Runtime, bundle: Bundle) -> None:
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.new_id()

    result = runtime.run(bundle, container_id, detach=True, timeout=10)

    assert result.returncode == 0, result.stderr
    state = runtime.state(container_id)
    assert state["status"] == "running"
    assert state["pid"] > 0

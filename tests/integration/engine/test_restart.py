"""Restart policies with no daemon: the monitor's exit command decides, a sleeping
``dockyard-monitor --delay-ms`` waits out the backoff, and the container comes back
under a new monitor with the same id and log. Every test runs on Dockyard's runtime
and on runc."""

from __future__ import annotations

import os
import signal
import time

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages, monitors_of
from tests.support.wait import wait_for


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def state(dockyard: Dockyard, name: str) -> dict[str, object]:
    found = dockyard.inspect(name)["State"]
    assert isinstance(found, dict)
    return found


def restart_count(dockyard: Dockyard, name: str) -> int:
    count = dockyard.inspect(name)["RestartCount"]
    assert isinstance(count, int)
    return count


def settled(dockyard: Dockyard, name: str, restarts: int = 0) -> bool:
    """Exited after ``restarts`` restarts, and nothing of ours left running.

    A restart hands over from process to process (monitor, exit command, timer,
    autorestart, new monitor), and a scan of /proc is not atomic: it may miss both
    sides of a handover. So the count must match, and it must still hold a moment later.
    """

    def now() -> bool:
        found = dockyard.inspect(name)
        return (
            found["State"]["Status"] == "exited"  # type: ignore[index]
            and found["RestartCount"] == restarts
            and not monitors_of(dockyard)
        )

    if not now():
        return False
    time.sleep(0.3)
    return now()


def runs(dockyard: Dockyard, name: str) -> int:
    return dockyard.run("logs", name).stdout.count("run\n")


def test_on_failure_3_runs_a_failing_container_exactly_4_times(
    dockyard: Dockyard, bb: str, runtime: str
) -> None:
    started = time.monotonic()
    dockyard.run(
        "run", "-d", "--name", "flaky", "--runtime", runtime, "--restart", "on-failure:3",
        bb, "sh", "-c", "echo run; exit 1",
    )  # fmt: skip

    wait_for(lambda: settled(dockyard, "flaky", restarts=3), "the restarts to end", timeout=60)
    elapsed = time.monotonic() - started
    time.sleep(1.0)  # a fifth run would have started by now (the next delay is 0.8 s)

    assert runs(dockyard, "flaky") == 4
    assert restart_count(dockyard, "flaky") == 3
    final = state(dockyard, "flaky")
    assert (final["Status"], final["ExitCode"], final["Restarting"]) == ("exited", 1, False)
    # the backoff: 0.1 + 0.2 + 0.4 s between the four runs
    assert elapsed >= 0.7
    policy = dockyard.inspect("flaky")["HostConfig"]["RestartPolicy"]  # type: ignore[index]
    assert policy == {"Name": "on-failure", "MaximumRetryCount": 3}


def test_on_failure_does_not_restart_a_success(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "-d", "--name", "fine", "--restart", "on-failure", bb, "echo", "run")

    wait_for(lambda: settled(dockyard, "fine"), "the container to end", timeout=30)
    time.sleep(0.5)

    assert (runs(dockyard, "fine"), restart_count(dockyard, "fine")) == (1, 0)


def test_always_comes_back_after_its_process_is_killed(
    dockyard: Dockyard, bb: str, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "--name", "phoenix", "--runtime", runtime, "--restart", "always",
        bb, "sh", "-c", "echo run; exec sleep 1000",
    )  # fmt: skip
    first = state(dockyard, "phoenix")["Pid"]
    assert isinstance(first, int) and first > 0

    os.kill(first, signal.SIGKILL)

    def back() -> bool:
        now = state(dockyard, "phoenix")
        return now["Status"] == "running" and now["Pid"] not in (0, first)

    wait_for(back, "phoenix to come back", timeout=30)
    assert restart_count(dockyard, "phoenix") == 1
    wait_for(lambda: runs(dockyard, "phoenix") == 2, "the second run's output")
    # the same log file, appended to
    assert dockyard.run("logs", "phoenix").stdout == "run\nrun\n"


def test_stop_is_final(dockyard: Dockyard, bb: str, runtime: str) -> None:
    dockyard.run(
        "run", "-d", "--name", "stopped", "--runtime", runtime, "--restart", "always",
        bb, "sleep", "1000",
    )  # fmt: skip

    dockyard.run("stop", "-t", "0", "stopped")
    # the monitor's exit command may still be finishing on a loaded machine: wait for
    # it to be gone; a restart would be a monitor again, or a count above 0
    wait_for(lambda: settled(dockyard, "stopped"), "the stopped container to settle")
    time.sleep(1.0)  # an always policy's first restart comes 0.1 s after the exit
    assert state(dockyard, "stopped")["Status"] == "exited"
    assert restart_count(dockyard, "stopped") == 0
    assert not monitors_of(dockyard)
    # a manual start is a fresh start: it runs, and stop is final again
    dockyard.run("start", "stopped")
    assert state(dockyard, "stopped")["Status"] == "running"
    dockyard.run("stop", "-t", "0", "stopped")
    wait_for(lambda: settled(dockyard, "stopped"), "the stopped container to settle")
    time.sleep(1.0)
    assert state(dockyard, "stopped")["Status"] == "exited"
    assert restart_count(dockyard, "stopped") == 0 and not monitors_of(dockyard)


def test_kill_cancels_the_next_restart_only(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "-d", "--name", "killed", "--restart", "always", bb, "sleep", "1000")

    dockyard.run("kill", "killed")
    wait_for(lambda: settled(dockyard, "killed"), "the container to end", timeout=30)
    time.sleep(0.5)

    assert (state(dockyard, "killed")["ExitCode"], restart_count(dockyard, "killed")) == (137, 0)
    # not a manual stop: the next exit of a new start is restarted again
    dockyard.run("start", "killed")
    pid = state(dockyard, "killed")["Pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: restart_count(dockyard, "killed") == 1, "a restart", timeout=30)


def test_a_restarting_container_shows_so_and_stop_ends_it(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "-d", "--name", "looping", "--restart", "always", bb, "sh", "-c", "exit 3")

    def waiting_long() -> bool:
        # after the 5th restart the next waits 3.2 s: time enough to look at it
        found = dockyard.inspect("looping")
        return bool(found["State"]["Restarting"]) and int(found["RestartCount"]) >= 5  # type: ignore[index, call-overload]

    wait_for(waiting_long, "a long restarting wait", timeout=60)
    shown = dockyard.run(
        "ps", "--filter", "name=looping", "--format", "{{.State}} {{.Status}}"
    ).stdout
    caught = state(dockyard, "looping")

    assert shown.startswith("restarting Restarting (3) "), shown
    assert shown.endswith(" ago\n")
    assert (caught["Status"], caught["Running"], caught["Restarting"], caught["Pid"]) == (
        "restarting",
        True,
        True,
        0,
    )
    assert caught["ExitCode"] == 3
    dockyard.run("stop", "looping")
    final = state(dockyard, "looping")
    assert (final["Status"], final["Restarting"], final["Running"]) == ("exited", False, False)
    wait_for(lambda: not monitors_of(dockyard), "no waiter or monitor left")
    count = restart_count(dockyard, "looping")
    time.sleep(1.0)
    assert restart_count(dockyard, "looping") == count


def test_rm_f_of_a_restarting_container_leaves_nothing(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "-d", "--name", "doomed", "--restart", "always", bb, "sh", "-c", "exit 1")
    wait_for(lambda: restart_count(dockyard, "doomed") >= 3, "a few restarts", timeout=30)

    dockyard.run("rm", "-f", "doomed")

    assert dockyard.ids() == []
    wait_for(lambda: not monitors_of(dockyard), "no waiter or monitor left")


def test_bad_policies_are_refused_as_docker_refuses_them(dockyard: Dockyard, bb: str) -> None:
    cases = {
        ("--restart", "sometimes"): "invalid restart policy: unknown policy 'sometimes'",
        ("--restart", "always:3"): "maximum retry count can only be used with 'on-failure'",
        ("--restart", "on-failure:x"): "maximum retry count must be an integer",
        ("--restart", "on-failure:-1"): "maximum retry count cannot be negative",
        ("--restart", "always", "--rm"): "cannot specify both --restart and --rm",
    }
    for flags, message in cases.items():
        result = dockyard.run("run", "-d", *flags, bb, "true", check=False)
        assert result.returncode == 125, flags
        assert message in result.stderr, (flags, result.stderr)
    assert dockyard.ids() == []


def test_the_python_api_takes_docker_pys_restart_policy(dockyard: Dockyard, bb: str) -> None:
    from tests.integration.engine.test_api import dockyard_client

    with dockyard_client(dockyard) as client:
        box = client.containers.run(
            bb,
            ["sh", "-c", "echo run; exit 2"],
            detach=True,
            name="api",
            restart_policy={"Name": "on-failure", "MaximumRetryCount": 1},
        )
        wait_for(lambda: settled(dockyard, "api", restarts=1), "the restart to end", timeout=30)
        box.reload()
        assert box.attrs["RestartCount"] == 1
        assert box.attrs["HostConfig"]["RestartPolicy"]["MaximumRetryCount"] == 1
        assert box.logs() == b"run\nrun\n"


def test_a_policys_restart_is_a_die_then_a_start_in_the_event_log(
    dockyard: Dockyard, bb: str
) -> None:
    since = f"{time.time() - 1:.3f}"
    dockyard.run(
        "run", "-d", "--name", "logged", "--restart", "on-failure:1",
        bb, "sh", "-c", "echo run; exit 4",
    )  # fmt: skip
    wait_for(lambda: settled(dockyard, "logged", restarts=1), "the restart to end", timeout=30)

    shown = dockyard.run(
        "events", "--since", since, "--until", f"{time.time():.3f}",
        "--filter", "container=logged", "--filter", "event=start", "--filter", "event=die",
        "--format", "{{.Action}} {{.Actor.Attributes.exitCode}}",
    ).stdout.splitlines()  # fmt: skip
    # as Docker's daemon records a restart: the exit, then the start (no "restart")
    assert shown == ["start <no value>", "die 4", "start <no value>", "die 4"]

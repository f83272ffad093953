"""The monitor's health checks (docs/monitor.md, "Health checks"), driven as the engine
drives them: a probe file written by hand, the state file read back, the status
command run on each change; on both runtimes."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.integration.monitor.conftest import MakeMonitored
from tests.integration.monitor.harness import parse_time
from tests.support.wait import wait_for


def probe_file(path: Path, *pairs: tuple[str, str]) -> Path:
    path.write_bytes(b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs))
    return path


def test_checks_run_on_the_timer_and_the_state_and_command_follow(
    make_monitored: MakeMonitored, tmp_path: Path
) -> None:
    c = make_monitored("sh", "-c", "touch /dev/shm/ok; exec sleep 100")
    probe = probe_file(
        tmp_path / "probe",
        ("interval", "200000000"),
        ("retries", "2"),
        ("arg", "/bin/sh"),
        ("arg", "-c"),
        ("arg", "cat /dev/shm/ok && echo fine $$ $HOME $(id -u)"),
        ("env", "PATH=/bin"),
        ("env", "HOME=/elsewhere"),
        ("uid", "1000"),
        ("gid", "1000"),
        ("set-groups", "1"),
        ("cwd", "/tmp"),
    )
    state = tmp_path / "health.json"
    changes = tmp_path / "changes"
    c.spawn(
        "--health-probe", str(probe), "--health-state", str(state),
        "--health-command", "/bin/sh", "--health-command", "-c",
        "--health-command", f'echo "$0" >> {changes}',
    )  # fmt: skip
    c.start()

    wait_for(lambda: json.loads(state.read_text())["Log"], "a check", timeout=20)
    wait_for(lambda: json.loads(state.read_text())["Status"] == "healthy", "healthy", timeout=20)
    healthy = json.loads(state.read_text())
    first = healthy["Log"][-1]
    # in the container's pid namespace (its init is 1), as the probe file's user
    found = re.fullmatch(r"fine (\d+) /elsewhere 1000\n", first["Output"])
    assert first["ExitCode"] == 0 and found and int(found[1]) < 50, first
    assert parse_time(first["Start"]) <= parse_time(first["End"])
    wait_for(lambda: changes.exists(), "the status command", timeout=10)

    (Path(f"/proc/{c.sync['pid']}/root/dev/shm/ok")).unlink()
    wait_for(lambda: json.loads(state.read_text())["Status"] == "unhealthy", "unhealthy", 20)
    failing = json.loads(state.read_text())
    assert failing["FailingStreak"] == 2 and len(failing["Log"]) <= 5
    assert failing["Log"][-1]["ExitCode"] == 1
    wait_for(lambda: changes.read_text() == "healthy\nunhealthy\n", "both changes", timeout=10)

    c.ctl("health-pause")
    wait_for(lambda: json.loads(state.read_text())["Status"] == "unhealthy", "paused", 10)
    c.runtime.kill(c.id, 9)
    c.wait_exit()
    c.wait_monitor_gone()


def test_a_probe_file_that_cannot_be_read_is_each_checks_error(
    make_monitored: MakeMonitored, tmp_path: Path
) -> None:
    c = make_monitored("sleep", "100")
    state = tmp_path / "health.json"
    c.spawn("--health-probe", str(tmp_path / "missing"), "--health-state", str(state))
    c.start()

    assert json.loads(state.read_text()) == {"Status": "starting", "FailingStreak": 0, "Log": []}
    c.runtime.kill(c.id, 9)
    c.wait_exit()
    c.wait_monitor_gone()


def test_an_error_in_the_probe_file_is_each_checks_result(
    make_monitored: MakeMonitored, tmp_path: Path
) -> None:
    """The engine could not describe the check: the container runs, its checks fail."""
    c = make_monitored("sleep", "100")
    probe = probe_file(
        tmp_path / "probe",
        ("interval", "100000000"),
        ("retries", "1"),
        ("error", "unable to find user nobody-here: no matching entries in passwd file"),
    )
    state = tmp_path / "health.json"
    c.spawn("--health-probe", str(probe), "--health-state", str(state))
    c.start()

    wait_for(lambda: json.loads(state.read_text())["Status"] == "unhealthy", "unhealthy", 20)
    entry = json.loads(state.read_text())["Log"][0]
    assert entry["ExitCode"] == -1
    assert entry["Output"] == "unable to find user nobody-here: no matching entries in passwd file"
    c.runtime.kill(c.id, 9)
    c.wait_exit()
    c.wait_monitor_gone()


@pytest.mark.slow
def test_many_fast_checks_never_stall(make_monitored: MakeMonitored, tmp_path: Path) -> None:
    """A check's pid is read from its helper's message; one round left the last
    check's message in place, and now and then a monitor waited for a process
    long gone and checked no more. Hundreds of quick checks in several monitors
    at once: each keeps its pace."""
    monitors = []
    for n in range(6):
        c = make_monitored("sleep", "100", name=f"c{n}")
        probe = probe_file(tmp_path / f"probe{n}", ("interval", "50000000"), ("arg", "/bin/true"))
        state = tmp_path / f"health{n}.json"
        c.spawn("--health-probe", str(probe), "--health-state", str(state))
        c.start()
        monitors.append((c, state))

    end = time.monotonic() + 15
    while time.monotonic() < end:
        for _, state in monitors:
            log = json.loads(state.read_text())["Log"]
            if log:
                assert time.time() - parse_time(log[-1]["End"]) < 5, state.read_text()
        time.sleep(0.2)
    for c, state in monitors:
        assert [e["ExitCode"] for e in json.loads(state.read_text())["Log"]] == [0] * 5
        c.runtime.kill(c.id, 9)
        c.wait_exit()
        c.wait_monitor_gone()

"""The monitor's life around the container's: exit codes and the exit file,
the exit command, outliving its parent, descriptors, create failures, adopt
mode, bad arguments (docs/monitor.md)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.monitor.conftest import MakeMonitored
from tests.integration.monitor.harness import (
    EXIT_TIME,
    frames_of,
    joined,
    parse_time,
    read_all,
    read_frames,
    read_line,
)
from tests.support import Runtime, requires
from tests.support.wait import wait_for

pytestmark = [pytest.mark.integration, requires("root")]

LAUNCHER = Path(__file__).with_name("adopt_launcher.py")


@pytest.mark.parametrize("code", [0, 3])
def test_the_exit_file_holds_the_exit_code(make_monitored: MakeMonitored, code: int) -> None:
    monitored = make_monitored("sh", "-c", f"exit {code}")
    sync = monitored.spawn()
    assert sync == {"pid": int(monitored.pid_file.read_text())}
    assert monitored.monitor_pid > 0
    before = time.time()
    monitored.start()
    exit_record = monitored.wait_exit()
    after = time.time()

    assert set(exit_record) == {"exitCode", "signal", "oomKilled", "finishedAt"}
    assert exit_record["exitCode"] == code
    assert exit_record["signal"] == 0
    assert exit_record["oomKilled"] is False
    assert EXIT_TIME.match(exit_record["finishedAt"]), exit_record
    assert before <= parse_time(exit_record["finishedAt"]) <= after
    monitored.wait_monitor_gone()


def test_a_quick_container_starts_every_time_under_a_monitor(
    make_monitored: MakeMonitored, runtime: Runtime
) -> None:
    # The monitor reaps the init the moment it exits: a runtime's start must not
    # look the init up after releasing it, or it finds it gone. dockyard-runtime
    # did; one CPU for all and a low priority for start make that window wide.
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(affinity)})
    try:
        for attempt in range(10):
            monitored = make_monitored("true", name=f"quick-{attempt}")
            monitored.spawn()
            start = ["nice", "-n", "19", runtime.executable, "--root", str(runtime.root)]
            started = subprocess.run(
                [*start, "start", monitored.id], capture_output=True, text=True
            )
            assert started.returncode == 0, started.stderr
            assert monitored.wait_exit()["exitCode"] == 0
    finally:
        os.sched_setaffinity(0, affinity)


def test_a_container_killed_by_sigkill_exits_137(
    make_monitored: MakeMonitored, runtime: Runtime
) -> None:
    monitored = make_monitored("sleep", "100")
    monitored.spawn()
    monitored.start()
    runtime.kill(monitored.id, "KILL")
    exit_record = monitored.wait_exit()
    assert (exit_record["exitCode"], exit_record["signal"]) == (137, 9)


def test_an_oom_kill_is_recorded(make_monitored: MakeMonitored) -> None:
    # the shell keeps what the command substitution prints until the cgroup is full
    script = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}"
    monitored = make_monitored("sh", "-c", script)
    limit = 32 * 1024 * 1024
    monitored.bundle.config["linux"]["resources"]["memory"] = {"limit": limit, "swap": limit}
    monitored.bundle.write()
    monitored.spawn()
    monitored.start()
    exit_record = monitored.wait_exit(timeout=60)
    assert exit_record["oomKilled"] is True, exit_record
    assert exit_record["exitCode"] == 137


def test_the_exit_command_runs_last_and_the_monitor_waits_for_it(
    make_monitored: MakeMonitored, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    monitored = make_monitored("sh", "-c", "echo bye; exit 4")
    script = f"cat {monitored.exit_file} > {seen}.exit"
    script += f"; readlink /proc/$$/fd/0 /proc/$$/fd/2 > {seen}.fds"
    script += f"; ls {monitored.directory} > {seen}.files; sleep 0.3; echo done > {seen}.done"
    monitored.spawn("--exit-command", "/bin/sh", "--exit-command", "-c", "--exit-command", script)
    monitored.start()
    exit_record = monitored.wait_exit()
    monitored.wait_monitor_gone()

    # the monitor was gone only once the command had finished
    assert Path(f"{seen}.done").read_text() == "done\n"
    assert json.loads(Path(f"{seen}.exit").read_text()) == exit_record
    assert Path(f"{seen}.fds").read_text().split() == ["/dev/null", "/dev/null"]
    # the attach socket and the FIFO were gone before it ran
    files = Path(f"{seen}.files").read_text().split()
    assert "attach" not in files and "ctl" not in files and "exit.json" in files


def test_the_monitor_outlives_the_process_that_started_it(
    make_monitored: MakeMonitored, runtime: Runtime
) -> None:
    monitored = make_monitored("sh", "-c", "sleep 1; echo after; exit 6")
    # a stand-in for the dockyard CLI: spawn the monitor, start, then wait
    starter = f"""
import os, subprocess, sys, time
r, w = os.pipe()
argv = {monitored.argv()!r}
argv[1:1] = ["--sync-fd", str(w)]
subprocess.run(argv, pass_fds=[w], check=True)
os.close(w)
os.read(r, 100)
start = [{runtime.executable!r}, "--root", {str(runtime.root)!r}, "start", {monitored.id!r}]
subprocess.run(start, check=True)
print("started", flush=True)
time.sleep(100)
"""
    process = subprocess.Popen(
        [sys.executable, "-c", starter], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert process.stdout is not None
        assert read_line(process.stdout.fileno(), 30) == b"started\n"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the starter and its whole group
        process.wait()
        if process.stdout is not None:
            process.stdout.close()

    assert monitored.wait_exit()["exitCode"] == 6
    assert monitored.text() == "after\n"
    monitored.wait_monitor_gone()


def test_no_descriptor_of_the_monitor_reaches_the_container(
    make_monitored: MakeMonitored, tmp_path: Path
) -> None:
    monitored = make_monitored("sh", "-c", "read x; ls /proc/1/fd; readlink /proc/1/fd/0")
    with tempfile.TemporaryFile(dir=tmp_path) as stray:
        monitored.spawn("--stdin", extra_fds=(stray.fileno(),))
        monitor_fds = os.listdir(f"/proc/{monitored.monitor_pid}/fd")
        targets = [os.readlink(f"/proc/{monitored.monitor_pid}/fd/{fd}") for fd in monitor_fds]
        assert not [t for t in targets if "(deleted)" in t], targets  # the stray file is not held
        with monitored.attach() as client:
            monitored.start()
            client.sendall(b"\n")
            frames = read_frames(client)
    assert monitored.wait_exit()["exitCode"] == 0
    lines = joined(frames, 1).decode().split()
    assert lines[:3] == ["0", "1", "2"] and len(lines) == 4, lines
    assert lines[3].startswith("pipe:"), lines


def normalized(message: str) -> str:
    """A runtime's error without its time stamp."""
    return re.sub(r'time="[^"]*" ', "", message).strip()


def test_a_create_failure_gives_the_runtime_message(
    make_monitored: MakeMonitored, runtime: Runtime
) -> None:
    monitored = make_monitored("true")
    monitored.bundle.config["root"]["path"] = "missing-rootfs"
    monitored.bundle.write()

    sync = monitored.spawn()
    direct = runtime("create", "--bundle", monitored.bundle.path, runtime.new_id(), check=False)

    assert set(sync) == {"error"}
    assert direct.returncode != 0
    assert "missing-rootfs" in sync["error"]
    assert normalized(sync["error"]) == normalized(direct.stderr).replace(
        direct.args[-1], monitored.id
    )
    exit_record = monitored.wait_exit()
    assert exit_record["exitCode"] == -1
    assert exit_record["error"] == sync["error"]
    monitored.wait_monitor_gone()


def test_a_runtime_that_cannot_be_run_is_an_error_line(
    make_monitored: MakeMonitored, tmp_path: Path
) -> None:
    monitored = make_monitored("true")
    argv = monitored.argv()
    missing = str(tmp_path / "no-such-runtime")
    argv[argv.index("--") + 1] = missing
    read_end, write_end = os.pipe()
    argv[1:1] = ["--sync-fd", str(write_end)]
    subprocess.run(argv, pass_fds=[write_end], check=True)
    os.close(write_end)
    sync = json.loads(read_line(read_end, 10))
    os.close(read_end)
    assert sync == {"error": f"cannot run {missing}: No such file or directory"}


@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "tty"])
def test_adopt_mode_serves_a_container_whose_init_is_its_child(
    make_monitored: MakeMonitored, runtime: Runtime, tty: bool
) -> None:
    script = 'read x; echo "out $x"; echo err >&2; exit 5'
    monitored = make_monitored("sh", "-c", script, tty=tty)
    read_end, write_end = os.pipe()
    spec = {
        "runtime": [runtime.executable, "--root", str(runtime.root)],
        "bundle": str(monitored.bundle.path),
        "id": monitored.id,
        "pid_file": str(monitored.pid_file),
        "monitor": monitored.options("--stdin", tty=tty),
        "sync_fd": write_end,
        "tty": tty,
    }
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), json.dumps(spec)], pass_fds=[write_end]
    )
    try:
        os.close(write_end)
        sync = json.loads(read_line(read_end, 30))
        assert sync == {"pid": int(monitored.pid_file.read_text())}
        # the launcher became the monitor: same process, still the init's parent
        assert monitored.monitor_pid == process.pid
        if tty:
            monitored.ctl("resize 40 100")
        with monitored.attach() as client:
            monitored.start()
            client.sendall(b"in\n")
            output = read_all(client)
        assert monitored.wait_exit()["exitCode"] == 5
        assert process.wait(10) == 0
    finally:
        os.close(read_end)
        if process.poll() is None:
            process.kill()
            process.wait()
    if tty:
        assert output == b"in\r\nout in\r\nerr\r\n"
        assert monitored.text() == "in\r\nout in\r\nerr\r\n"
    else:
        frames = frames_of(output)
        assert (joined(frames, 1), joined(frames, 2)) == (b"out in\n", b"err\n")
        assert sorted(e["log"] for e in monitored.entries()) == ["err\n", "out in\n"]


def test_adopt_mode_refuses_a_pid_that_is_not_its_child(monitor_binary: str) -> None:
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [monitor_binary, "--sync-fd", str(write_end), "--log-driver", "none", "--adopt", "1"],
        pass_fds=[write_end],
    )
    os.close(write_end)
    try:
        sync = json.loads(read_line(read_end, 10))
    finally:
        os.close(read_end)
    assert process.wait(10) == 1
    assert sync == {"error": f"pid 1 is not a child of the monitor (pid {process.pid})"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a runtime command after -- or --adopt PID"),
        (["--", "runc"], "--log-path is required with the json-file log driver"),
        (
            ["--log-path", "relative.log", "--", "runc"],
            "--log-path: relative.log is not an absolute path",
        ),
        (["--log-driver", "syslog"], "--log-driver: syslog is not json-file or none"),
        (["--log-max-file", "0"], "--log-max-file: 0 is not a number from 1 to 100000"),
        (["--bogus"], "unknown option or missing value: --bogus (--help lists them)"),
        (["--log-driver", "none", "--", "runc"], "--pid-file is required with a runtime command"),
        (["--delay-ms", "10"], "--delay-ms needs a command after -- (and no --adopt)"),
        (["--delay-ms", "-1", "--", "true"], "--delay-ms: -1 is not a number from 0 to 86400000"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(
    monitor_binary: str, args: list[str], message: str
) -> None:
    read_end, write_end = os.pipe()
    result = subprocess.run(
        [monitor_binary, "--sync-fd", str(write_end), *args],
        pass_fds=[write_end],
        capture_output=True,
        text=True,
        check=False,
    )
    os.close(write_end)
    sync = json.loads(read_line(read_end, 10))
    os.close(read_end)
    assert (result.returncode, result.stderr) == (2, f"dockyard-monitor: {message}\n")
    assert sync == {"error": message}


def test_delay_mode_runs_the_command_later_unless_terminated(
    monitor_binary: str, tmp_path: Path
) -> None:
    """``--delay-ms N -- COMMAND``: the restart policy's backoff timer (docs/monitor.md)."""

    def delayed(ms: int, mark: Path) -> int:
        read_end, write_end = os.pipe()
        started = subprocess.run(
            [monitor_binary, "--sync-fd", str(write_end), "--delay-ms", str(ms), "--",
             "sh", "-c", f"echo ran > {mark}"],
            pass_fds=[write_end], check=False,
        )  # fmt: skip
        os.close(write_end)
        sync = json.loads(read_line(read_end, 10))
        os.close(read_end)
        assert started.returncode == 0  # the parent leaves at once; the timer is its child
        return int(sync["pid"])

    began = time.monotonic()
    ran = tmp_path / "ran"
    timer = delayed(300, ran)
    assert not ran.exists()
    wait_for(ran.exists, "the delayed command", timeout=10)
    assert time.monotonic() - began >= 0.3
    assert ran.read_text() == "ran\n"

    canceled = tmp_path / "canceled"
    timer = delayed(500, canceled)
    os.kill(timer, signal.SIGTERM)
    time.sleep(0.8)
    assert not canceled.exists()

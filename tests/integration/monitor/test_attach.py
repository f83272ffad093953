"""Attach clients and the terminal: stdcopy frames, stdin, stdin-once, slow
clients, long socket paths, resize through the control FIFO
(docs/monitor.md, "Attach" and "Control FIFO")."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import time

import pytest

from tests.integration.monitor.conftest import MakeMonitored
from tests.integration.monitor.harness import joined, process_gone, read_all, read_frames
from tests.support import Runtime, requires, wait_for

pytestmark = [pytest.mark.integration, requires("root")]

STDOUT, STDERR = 1, 2


def test_attached_clients_get_stdcopy_frames_and_one_feeds_stdin(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", 'read x; echo "out $x"; echo "err $x" >&2')
    monitored.spawn("--stdin")
    assert stat.S_ISSOCK(monitored.attach_path.stat().st_mode)
    assert stat.S_IMODE(monitored.attach_path.stat().st_mode) == 0o600
    # attached before the start, as `run -a` is: no output may be missed
    with monitored.attach() as writer, monitored.attach() as watcher:
        monitored.start()
        writer.sendall(b"hi\n")
        frames = read_frames(writer)
        # the monitor closes clients only after the exit file is written
        assert monitored.exit_file.exists()
        watched = read_frames(watcher)

    assert joined(frames, STDOUT) == b"out hi\n"
    assert joined(frames, STDERR) == b"err hi\n"
    assert {number for number, _ in frames} == {STDOUT, STDERR}
    assert watched == frames
    assert monitored.wait_exit()["exitCode"] == 0


def test_stdin_once_closes_the_container_stdin_when_the_client_input_ends(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", "cat; echo done")
    monitored.spawn("--stdin", "--stdin-once")
    with monitored.attach() as client:
        monitored.start()
        client.sendall(b"abc")
        client.shutdown(socket.SHUT_WR)  # `echo abc | run -i cat`: the input ends
        frames = read_frames(client)
    assert joined(frames, STDOUT) == b"abcdone\n"
    assert monitored.wait_exit()["exitCode"] == 0


def test_without_stdin_once_stdin_outlives_a_client(
    make_monitored: MakeMonitored, runtime: Runtime
) -> None:
    monitored = make_monitored("cat")
    monitored.spawn("--stdin")
    monitored.start()
    with monitored.attach() as first:
        first.sendall(b"abc")
        first.shutdown(socket.SHUT_WR)
    with monitored.attach() as second:
        second.sendall(b"def\n")
        wait_for(lambda: monitored.log.exists() and monitored.text() == "abcdef\n", "abcdef")
    assert runtime.state(monitored.id)["status"] == "running"
    runtime.kill(monitored.id, "KILL")
    assert monitored.wait_exit()["exitCode"] == 137


def test_a_terminal_gets_raw_bytes_and_a_resize_through_the_fifo(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", "read x; stty size", tty=True)
    monitored.spawn("--stdin", tty=True)
    monitored.ctl("resize 40 100")
    with monitored.attach() as client:
        monitored.start()
        client.sendall(b"go\n")
        output = read_all(client)
    assert monitored.wait_exit()["exitCode"] == 0

    # the terminal echoes the input; no stdcopy header anywhere
    assert output == b"go\r\n40 100\r\n", output
    entries = monitored.entries()
    assert {e["stream"] for e in entries} == {"stdout"}
    assert "".join(e["log"] for e in entries) == "go\r\n40 100\r\n"


def test_a_resize_reaches_a_running_terminal(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", "read x; stty size; read x; stty size", tty=True)
    monitored.spawn("--stdin", tty=True)
    with monitored.attach() as client:
        monitored.start()
        monitored.ctl("resize 30 90")
        client.sendall(b"\n")
        wait_for(lambda: b"30 90" in monitored.log.read_bytes(), "the first size")
        monitored.ctl("resize 25 132")
        client.sendall(b"\n")
        output = read_all(client)
    assert output.replace(b"\r\n", b"\n") == b"\n30 90\n\n25 132\n"


def test_a_slow_client_never_holds_the_container_back(make_monitored: MakeMonitored) -> None:
    size = 8_000_000
    monitored = make_monitored("sh", "-c", f"head -c {size} /dev/zero | tr '\\0' a")
    monitored.spawn()
    with monitored.attach() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        monitored.start()
        # the client reads nothing until the container is done
        assert monitored.wait_exit(timeout=60)["exitCode"] == 0
        received = read_all(client)
    # it was dropped once 1 MiB was waiting for it; the log has everything
    assert 0 < len(received) < 2 * 1024 * 1024
    entries = monitored.entries()
    assert sum(len(e["log"]) for e in entries) == size
    assert {len(e["log"]) for e in entries[:-1]} == {16384}


def test_an_attach_socket_path_longer_than_sun_path_works(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", "read x; echo got $x", name="d" * 100)
    assert len(str(monitored.attach_path)) > 108
    monitored.spawn("--stdin")
    directory = os.open(monitored.directory, os.O_PATH | os.O_DIRECTORY)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(f"/proc/self/fd/{directory}/attach")
            monitored.start()
            client.sendall(b"far\n")
            frames = read_frames(client)
    finally:
        os.close(directory)
    assert joined(frames, STDOUT) == b"got far\n"


def test_output_before_a_client_connects_is_not_sent_to_it(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", "echo early; read x; echo late")
    monitored.spawn("--stdin")
    monitored.start()
    wait_for(lambda: monitored.log.exists() and "early" in monitored.log.read_text(), "early")
    time.sleep(0.05)
    with monitored.attach() as client:
        client.sendall(b"\n")
        frames = read_frames(client)
    assert joined(frames, STDOUT) == b"late\n"


def test_a_client_attached_before_a_quick_exit_gets_the_output(
    make_monitored: MakeMonitored, runtime: Runtime
) -> None:
    """The engine attaches, then starts; the container may end before the
    monitor has looked at its clients even once. A full sync pipe holds the
    monitor just before its loop while all of that happens."""
    monitored = make_monitored("echo", "quick")
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)
        with contextlib.suppress(BlockingIOError):
            while True:
                os.write(write_end, b"x" * 4096)
        # a non-blocking write end must not lose the line either: the monitor waits
        monitored.launch(write_end)
        wait_for(lambda: monitored.pid_file.exists(), "the runtime's create")
        pid = int(monitored.pid_file.read_text())
        with monitored.attach() as client:
            wait_for(lambda: runtime.state(monitored.id)["status"] == "created", "created")
            monitored.start()
            wait_for(lambda: process_gone(pid), "the container to end")
            os.close(write_end)
            write_end = -1
            while chunk := os.read(read_end, 65536):  # the monitor goes on
                tail = chunk
            frames = read_frames(client)
        assert tail.endswith(f'{{"pid": {pid}}}\n'.encode())
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    assert joined(frames, STDOUT) == b"quick\n"

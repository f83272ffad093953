"""``--attach-fd``: a listening socket the engine made, with a client already queued on
it, for an exec session whose process runs before the monitor could listen
(docs/monitor.md, "Exec sessions"). Driven as the engine drives it: the
runtime's ``exec --detach`` under a second monitor, beside the container's."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from tests.integration.monitor.conftest import MakeMonitored
from tests.integration.monitor.harness import joined, read_frames, read_line
from tests.support import Runtime, requires, wait_for

pytestmark = [pytest.mark.integration, requires("root")]

STDOUT, STDERR = 1, 2


def test_a_client_queued_before_the_process_existed_gets_all_its_output(
    make_monitored: MakeMonitored, runtime: Runtime, monitor_binary: str
) -> None:
    container = make_monitored("sleep", "1000")
    container.spawn()
    container.start()
    session = container.directory / "exec"
    session.mkdir()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(session / "attach"))
    server.listen(4)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(session / "attach"))  # queued: nobody accepts yet
    sync_r, sync_w = os.pipe()
    # a burst at once, and more than a pipe holds: the monitor must take the client first
    script = "echo first; echo second >&2; head -c 200000 /dev/zero | tr '\\0' x; echo"
    try:
        started = subprocess.run(
            [
                monitor_binary, "--id", "exec1", "--sync-fd", str(sync_w),
                "--pid-file", str(session / "pid"), "--exit-file", str(session / "exit.json"),
                "--attach-socket", str(session / "attach"), "--attach-fd", str(server.fileno()),
                "--log-driver", "none", "--",
                runtime.executable, "--root", str(runtime.root), "exec", "--detach",
                "--pid-file", str(session / "pid"), container.id, "sh", "-c", script,
            ],
            pass_fds=[sync_w, server.fileno()],
            capture_output=True,
            timeout=30,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        os.close(sync_w)
        sync_w = -1
        assert "pid" in json.loads(read_line(sync_r, 30))
        server.close()  # the monitor has its own copy
        frames = read_frames(client, timeout=30)
    finally:
        client.close()
        server.close()
        os.close(sync_r)
        if sync_w >= 0:
            os.close(sync_w)

    out = joined(frames, STDOUT)
    assert out.startswith(b"first\n") and out.count(b"x") == 200000
    assert joined(frames, STDERR) == b"second\n"
    assert json.loads((session / "exit.json").read_text())["exitCode"] == 0
    # removed at the end (after the clients are closed), as a socket it bound is
    wait_for(lambda: not (session / "attach").exists(), "the attach socket's removal")
    runtime.kill(container.id, "KILL")
    container.wait_exit()


def test_attach_fd_must_be_a_listening_socket(monitor_binary: str, tmp_path: object) -> None:
    read_end, write_end = os.pipe()
    try:
        result = subprocess.run(
            [monitor_binary, "--attach-fd", str(read_end), "--log-driver", "none",
             "--adopt", "1"],
            pass_fds=[read_end],
            capture_output=True,
            text=True,
            timeout=10,
        )  # fmt: skip
    finally:
        os.close(read_end)
        os.close(write_end)

    assert result.returncode == 2
    assert "--attach-fd: descriptor" in result.stderr
    assert "is not a listening socket" in result.stderr

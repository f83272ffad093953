"""SCMP_ACT_NOTIFY: the runtime hands the listener at listenerPath the notify fd
(SCM_RIGHTS) with the container process state, and the listener's answers are
what the container's syscalls return."""

from __future__ import annotations

import array
import errno
import fcntl
import json
import os
import select
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.integration.runtime.containers import run_sleeper
from tests.integration.security.support import seccomp
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runtime,
    requires("root"),
    pytest.mark.usefixtures("both_filter_places"),
]

NOTIF_RECV = 0xC0502100  # SECCOMP_IOWR(0, struct seccomp_notif), 80 bytes
NOTIF_SEND = 0xC0182101  # SECCOMP_IOWR(1, struct seccomp_notif_resp), 24 bytes


USER_NOTIF_FLAG_CONTINUE = 1


class Agent:
    """A seccomp agent: takes ``connections`` connections (the container's, then
    exec's), then answers every notification on their descriptors with
    ``-answer`` (None: let the call go on) until the processes are gone."""

    def __init__(self, path: Path, answer: int | None, connections: int = 1) -> None:
        self.path = path
        self.answer = answer
        self.message: dict[str, Any] = {}  # the last one
        self.fds: list[int] = []
        self.syscalls: list[int] = []
        self.error: BaseException | None = None
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(connections)
        self.answering: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, args=(connections,), daemon=True)
        self.thread.start()

    def _serve(self, connections: int) -> None:
        try:
            for _ in range(connections):
                conn, _ = self.server.accept()
                with conn:
                    fds = array.array("i")
                    data, ancdata, _, _ = conn.recvmsg(1 << 16, socket.CMSG_LEN(4 * fds.itemsize))
                    for level, kind, payload in ancdata:
                        if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                    self.fds += list(fds)
                    self.message = json.loads(data)
                if fds:
                    thread = threading.Thread(target=self._answer_all, args=(fds[0],), daemon=True)
                    thread.start()
                    self.answering.append(thread)
        except BaseException as exc:
            self.error = exc

    def _answer_all(self, fd: int) -> None:
        try:
            self._answer(fd)
        except BaseException as exc:
            self.error = exc

    def _answer(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            events = poller.poll(20_000)
            if not events or events[0][1] & (select.POLLHUP | select.POLLERR):
                return
            request = bytearray(80)
            try:
                fcntl.ioctl(fd, NOTIF_RECV, request)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.EINTR):
                    continue
                raise
            notif_id, _pid, _flags, nr = struct.unpack_from("=QIIi", request)
            self.syscalls.append(nr)
            if self.answer is None:
                answer = (notif_id, 0, 0, USER_NOTIF_FLAG_CONTINUE)
            else:
                answer = (notif_id, 0, -self.answer, 0)
            response = bytearray(struct.pack("=QqiI", *answer))
            try:
                fcntl.ioctl(fd, NOTIF_SEND, response)
            except OSError as exc:
                if exc.errno != errno.ENOENT:  # the caller died meanwhile
                    raise

    def close(self) -> None:
        self.server.close()
        self.thread.join(30)
        for thread in self.answering:
            thread.join(30)
        for fd in self.fds:
            os.close(fd)


def notify_profile(path: Path) -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": str(path),
        "listenerMetadata": "agent=test;level=2",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }


def test_the_listener_decides_the_notified_syscalls(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    agent = Agent(tmp_path / "agent.sock", errno.ENOMEDIUM)
    try:
        seccomp(bundle, notify_profile(agent.path))
        result = run_in_container(
            runtime, bundle, "sh", "-c", "mkdir /dev/shm/a; touch /dev/shm/b && echo touched"
        )
    finally:
        agent.close()

    assert agent.error is None, agent.error
    assert "No medium found" in result.stderr, result.stderr
    assert result.stdout == "touched\n"  # what is not notified runs as usual
    assert agent.syscalls  # the agent saw the call
    message = agent.message
    assert message["fds"] == ["seccompFd"]
    assert message["metadata"] == "agent=test;level=2"
    assert message["ociVersion"]
    assert message["pid"] > 0
    state = message["state"]
    assert state["status"] == "creating"
    assert state["id"] in runtime.ids
    assert state["bundle"] == str(bundle.path)
    assert len(agent.fds) == 1


def test_without_a_listener_the_container_is_not_started(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    seccomp(bundle, notify_profile(tmp_path / "nobody-listens.sock"))
    result = run_in_container(runtime, bundle, "sh", "-c", "echo ran")

    assert result.returncode != 0
    assert "ran" not in result.stdout


#: what the init makes after its filter (nnp off: groups, ids, capabilities,
#: the exec fifo), and the socket calls a hand-off from the init would make:
#: the listener has its descriptor before any of them
AFTER_THE_FILTER = ["close", "read", "openat", "prctl", "capset", "setgroups", "setgid", "setuid"]
SOCKET_CALLS = ["getsockname", "getsockopt", "sendmsg", "connect", "socket"]


def test_notifying_the_runtimes_own_last_calls_does_not_stall_it(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    agent = Agent(tmp_path / "agent.sock", None)
    try:
        profile = notify_profile(agent.path)
        profile["syscalls"][0]["names"] = AFTER_THE_FILTER + SOCKET_CALLS
        seccomp(bundle, profile)
        result = run_in_container(runtime, bundle, "sh", "-c", "echo ran", timeout=60)
    finally:
        agent.close()

    assert agent.error is None, agent.error
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr
    assert agent.syscalls  # the shell's own calls, at least, were seen


def test_notifying_write_is_refused_saying_why(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    # The init says the descriptor's number to the runtime with a write made
    # under the filter, before any listener has the descriptor (runc's too).
    profile = notify_profile(tmp_path / "agent.sock")
    profile["syscalls"][0]["names"] = ["write"]
    seccomp(bundle, profile)
    result = run_in_container(runtime, bundle, "sh", "-c", "echo ran", timeout=60)

    assert result.returncode != 0
    assert "SCMP_ACT_NOTIFY cannot be used for" in result.stderr and "write" in result.stderr
    assert runtime.list() == []


def test_an_exec_process_gets_its_own_listener_descriptor(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    # runc's seccomp-notify.bats "runc exec [seccomp] (SCMP_ACT_NOTIFY)": the
    # exec'd process installs the container's profile too, and its listener
    # descriptor goes to the same agent.
    agent = Agent(tmp_path / "agent.sock", errno.ENOMEDIUM, connections=2)
    try:
        seccomp(bundle, notify_profile(agent.path))
        container = run_sleeper(runtime, bundle)
        result = runtime("exec", container, "sh", "-c", "mkdir /tmp/a; echo $?", check=False)
        runtime.kill(container, "KILL")
        runtime.wait_for_status(container, "stopped")
    finally:
        agent.close()

    assert agent.error is None, agent.error
    assert "No medium found" in result.stderr, result.stderr
    assert result.stdout == "1\n"
    assert len(agent.fds) == 2

"""process.terminal with --console-socket: the runtime sends the pty master
over a unix socket; the container's process has the slave as its terminal."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


class ConsoleSocket:
    """The listening end of --console-socket, as a container engine holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(1)
        self.masters: list[int] = []

    def receive_master(self, timeout: float = 10) -> int:
        """Accept the runtime's connection and take the pty master it sends."""
        self.listener.settimeout(timeout)
        connection, _ = self.listener.accept()
        with connection:
            connection.settimeout(timeout)
            _, fds, _, _ = socket.recv_fds(connection, 4096, 1)
        assert len(fds) == 1, f"expected one descriptor, got {fds}"
        self.masters.append(fds[0])
        return fds[0]

    def close(self) -> None:
        self.listener.close()
        for fd in self.masters:
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[ConsoleSocket]:
    console = ConsoleSocket(tmp_path / "console.sock")
    yield console
    console.close()


def read_until_closed(master: int, timeout: float = 10) -> str:
    """Everything the container writes to its terminal, until its side closes."""
    output = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([master], [], [], left)
        if not readable:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every slave descriptor is closed
            break
        if not chunk:
            break
        output += chunk
    else:
        raise AssertionError(f"the terminal stayed open {timeout}s; got {output!r}")
    return output.decode(errors="replace").replace("\r\n", "\n")


def use_terminal(bundle: Bundle, script: str, height: int = 30, width: int = 100) -> None:
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": height, "width": width}
    bundle.process["args"] = ["sh", "-c", script]
    bundle.write()


def create_with_console(
    runtime: Runtime, bundle: Bundle, console: ConsoleSocket
) -> tuple[str, int]:
    container_id = runtime.new_id()
    runtime("create", "--console-socket", console.path, "--bundle", bundle.path, container_id)
    return container_id, console.receive_master()


def test_the_process_has_a_terminal_of_the_configured_size(
    runtime: Runtime, bundle: Bundle, console: ConsoleSocket
) -> None:
    use_terminal(bundle, "tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys")
    container_id, master = create_with_console(runtime, bundle, console)

    runtime.start(container_id)

    output = read_until_closed(master)
    assert output.splitlines() == ["/dev/pts/0", "30 100", "all-ttys"]
    runtime.wait_for_status(container_id, "stopped")


def test_input_on_the_master_reaches_the_process(
    runtime: Runtime, bundle: Bundle, console: ConsoleSocket
) -> None:
    use_terminal(bundle, "read line; echo got:$line")
    container_id, master = create_with_console(runtime, bundle, console)
    runtime.start(container_id)

    os.write(master, b"hello\n")

    output = read_until_closed(master)
    assert "got:hello" in output.splitlines()
    runtime.wait_for_status(container_id, "stopped")


def test_the_terminal_is_the_controlling_terminal(
    runtime: Runtime, bundle: Bundle, console: ConsoleSocket
) -> None:
    # Session leader with the pty as controlling tty: /dev/tty opens it.
    use_terminal(bundle, "echo via-dev-tty > /dev/tty")
    container_id, master = create_with_console(runtime, bundle, console)
    runtime.start(container_id)

    output = read_until_closed(master)

    assert "via-dev-tty" in output.splitlines()
    runtime.wait_for_status(container_id, "stopped")


def test_a_terminal_without_a_console_socket_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    use_terminal(bundle, "tty")

    result = runtime("create", "--bundle", bundle.path, runtime.new_id(), check=False)

    assert result.returncode != 0
    assert "console" in result.stderr.lower()


def set_size(fd: int, rows: int, columns: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


#: prints the terminal's size at start and for each line typed, until "q"
RESIZE_PROBE = 'stty size; while read line && [ "$line" != q ]; do stty size; done'


class OnPty:
    """A runtime command (``run``, ``exec -t``) in the foreground, on a pty of the
    test's own: the runtime relays between that pty and the container's."""

    def __init__(self, runtime: Runtime, rows: int, columns: int, *args: str) -> None:
        self.master, slave = os.openpty()
        set_size(slave, rows, columns)
        self.process = subprocess.Popen(
            [runtime.executable, "--root", str(runtime.root), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""

    def read_until(self, wanted: bytes, timeout: float = 2, poke: bytes = b"") -> bool:
        """Read until ``wanted`` appears or the pty closes; ``poke`` is written
        whenever nothing came for a while."""
        deadline = time.monotonic() + timeout
        quiet = True
        while wanted not in self.output and (left := deadline - time.monotonic()) > 0:
            if poke and quiet:
                os.write(self.master, poke)
            readable, _, _ = select.select([self.master], [], [], min(left, 0.2))
            quiet = not readable
            if readable:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the runtime closed its side
                    break
                if not chunk:
                    break
                self.output += chunk
        return wanted in self.output

    def finish(self) -> int:
        """Type "q" to end RESIZE_PROBE, read what is left (a runtime blocked
        writing to a full pty would never exit); the runtime's exit status."""
        os.write(self.master, b"q\r")
        self.read_until(b"\0never\0", timeout=10)
        return self.process.wait(timeout=10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


def test_run_resizes_the_terminal_when_its_own_is(runtime: Runtime, bundle: Bundle) -> None:
    # runc's run: SIGWINCH makes the runtime copy its terminal's size onto the
    # container's pty (the kernel then tells the container), not pass the signal on.
    use_terminal(bundle, RESIZE_PROBE, 24, 80)
    container_id = runtime.new_id()
    run = OnPty(runtime, 24, 80, "run", "--bundle", str(bundle.path), container_id)
    try:
        assert run.read_until(b"24 80"), run.output

        set_size(run.master, 40, 120)
        os.kill(run.process.pid, signal.SIGWINCH)

        assert run.read_until(b"40 120", poke=b"\r"), run.output
        assert run.finish() == 0
    finally:
        run.close()


def test_exec_resizes_the_terminal_when_its_own_is(runtime: Runtime, bundle: Bundle) -> None:
    use_terminal(bundle, "exec sleep 1000", 24, 80)
    bundle.process["terminal"] = False
    bundle.write()
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    run = OnPty(runtime, 30, 90, "exec", "-t", container_id, "sh", "-c", RESIZE_PROBE)
    try:
        assert run.read_until(b"30 90", poke=b"\r"), run.output

        set_size(run.master, 50, 132)
        os.kill(run.process.pid, signal.SIGWINCH)

        assert run.read_until(b"50 132", poke=b"\r"), run.output
        assert run.finish() == 0
    finally:
        run.close()

"""process.terminal with --console-socket: the runtime sends the pty master
over a unix socket; the container's process has the slave as its terminal."""

from __future__ import annotations

import contextlib
import os
import select
import socket
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

"""Drive dockyard-monitor as the engine does (docs/monitor.md): spawn it with
a runtime's create command, read its sync line, start the container, attach,
write to its control FIFO, read its log and exit file."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.bundle import Bundle
from tests.support.runtime import Runtime
from tests.support.wait import wait_for

#: Go's RFC3339Nano in UTC, as Docker's json-file log writes it
LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
#: the exit file's finishedAt: always nine digits
EXIT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def parse_time(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 UTC time with up to 9 fraction digits."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return seconds.timestamp() + (int(fraction.ljust(9, "0")) / 1e9 if fraction else 0)


def read_line(fd: int, timeout: float) -> bytes:
    """One line from a pipe, or what came before its end, within ``timeout``."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no line from the monitor within {timeout}s (got {data!r})")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data


def process_gone(pid: int) -> bool:
    """Exited (a zombie counts: the monitor is nobody's child to wait for here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def read_frames(sock: socket.socket, timeout: float = 10) -> list[tuple[int, bytes]]:
    """Docker's stdcopy frames until the monitor closes the connection."""
    return frames_of(read_all(sock, timeout))


def frames_of(data: bytes) -> list[tuple[int, bytes]]:
    """Docker's stdcopy frames in ``data``, which holds whole frames."""
    frames = []
    while data:
        assert len(data) >= 8, f"a truncated frame header: {data!r}"
        stream, size = data[0], struct.unpack(">I", data[4:8])[0]
        assert data[1:4] == b"\0\0\0", f"a bad frame header: {data[:8]!r}"
        assert len(data) >= 8 + size, f"a truncated frame: {data!r}"
        frames.append((stream, data[8 : 8 + size]))
        data = data[8 + size :]
    return frames


def read_all(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def joined(frames: list[tuple[int, bytes]], stream: int) -> bytes:
    return b"".join(payload for number, payload in frames if number == stream)


@dataclass
class Monitored:
    """One container under one monitor; every path is in ``directory``."""

    binary: str
    runtime: Runtime
    bundle: Bundle
    directory: Path
    id: str = ""
    sync: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.id = self.id or self.runtime.new_id()

    @property
    def log(self) -> Path:
        return self.directory / "ctr.log"

    @property
    def exit_file(self) -> Path:
        return self.directory / "exit.json"

    @property
    def attach_path(self) -> Path:
        return self.directory / "attach"

    @property
    def ctl_path(self) -> Path:
        return self.directory / "ctl"

    @property
    def pid_file(self) -> Path:
        return self.directory / "init.pid"

    @property
    def monitor_pid_file(self) -> Path:
        return self.directory / "monitor.pid"

    @property
    def monitor_pid(self) -> int:
        return int(self.monitor_pid_file.read_text())

    def options(self, *options: str, tty: bool = False) -> list[str]:
        """The monitor, the standard paths as options, then ``options``."""
        standard = ["--id", self.id, "--pid-file", str(self.pid_file)]
        standard += ["--monitor-pid-file", str(self.monitor_pid_file)]
        standard += ["--exit-file", str(self.exit_file), "--attach-socket", str(self.attach_path)]
        standard += ["--ctl-fifo", str(self.ctl_path)]
        if "--log-driver" not in options:
            standard += ["--log-path", str(self.log)]
        if tty:
            standard.append("--tty")
        return [self.binary, *standard, *options]

    def create_argv(self, tty: bool = False) -> list[str]:
        """The runtime's create of this bundle."""
        create = [self.runtime.executable, "--root", str(self.runtime.root), "create"]
        create += ["--bundle", str(self.bundle.path), "--pid-file", str(self.pid_file)]
        if tty:
            create += ["--console-socket", "{console-socket}"]
        return [*create, self.id]

    def argv(self, *options: str, tty: bool = False) -> list[str]:
        """Spawn mode's command line: the options, then the runtime's create."""
        return [*self.options(*options, tty=tty), "--", *self.create_argv(tty)]

    def launch(
        self, sync_fd: int, *options: str, tty: bool = False, extra_fds: tuple[int, ...] = ()
    ) -> None:
        """Run the monitor with ``sync_fd`` as its sync pipe; return once the
        process started has exited (the monitor itself goes on in the background)."""
        command = self.argv(*options, tty=tty)
        command[1:1] = ["--sync-fd", str(sync_fd)]
        started = subprocess.run(
            command,
            pass_fds=[sync_fd, *extra_fds],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert started.returncode == 0, (
            f"the monitor exited {started.returncode}: {started.stderr!r}"
        )

    def spawn(
        self, *options: str, tty: bool = False, extra_fds: tuple[int, ...] = ()
    ) -> dict[str, Any]:
        """Run the monitor, wait for its sync line and return it, parsed.
        ``extra_fds`` are inherited by the monitor, unannounced."""
        read_end, write_end = os.pipe()
        try:
            self.launch(write_end, *options, tty=tty, extra_fds=extra_fds)
            os.close(write_end)
            write_end = -1
            self.sync = json.loads(read_line(read_end, 30))
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        return self.sync

    def start(self) -> None:
        self.runtime.start(self.id)

    def attach(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(self.attach_path))
        return sock

    def ctl(self, line: str) -> None:
        fd = os.open(self.ctl_path, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, line.encode() + b"\n")
        finally:
            os.close(fd)

    def wait_exit(self, timeout: float = 20) -> dict[str, Any]:
        wait_for(self.exit_file.exists, f"{self.exit_file} to appear", timeout)
        exit_record: dict[str, Any] = json.loads(self.exit_file.read_text())
        return exit_record

    def wait_monitor_gone(self, timeout: float = 10) -> None:
        pid = self.monitor_pid
        wait_for(lambda: process_gone(pid), f"monitor {pid} to exit", timeout)

    def entries(self, path: Path | None = None) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (path or self.log).read_text().splitlines()]

    def text(self, stream: str = "stdout") -> str:
        return "".join(e["log"] for e in self.entries() if e["stream"] == stream)

"""Start the resolver, tell it what to serve, and see it go: the engine's side of resolver.c.

Its directory (one per engine) holds:

    records     what it serves (records.py), replaced whole by a rename
    ctl         its control socket: "reload" -> "ok N" ["fail ID MESSAGE"...] ["exit PID"]
    pid, log    its pid while it runs; what went wrong

The caller holds the directory's lock around gathering the records and
`apply` (engine/net_dns.py), so two commands never undo each other's
records and a resolver is never started twice.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError

ANSWER_TIMEOUT = 5.0  # seconds a reload may take (it enters one namespace per new container)
EXIT_TIMEOUT = 2.0


class Reply:
    __slots__ = ("exited", "failed", "served")

    def __init__(self) -> None:
        self.served = 0
        self.failed: dict[str, str] = {}  # container id -> why it is not served
        self.exited = 0  # the pid of a resolver that left (nothing to serve)


def _parse(text: str) -> Reply:
    reply = Reply()
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word == "ok":
            reply.served = int(rest or 0)
        elif word == "fail":
            container, _, why = rest.partition(" ")
            reply.failed[container] = why
        elif word == "exit":
            reply.exited = int(rest or 0)
        elif word == "error":
            raise HostError(f"the DNS resolver refused a command: {rest}")
    return reply


class ResolverControl:
    """The resolver of the engine whose DNS directory is ``directory``."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    @property
    def ctl(self) -> str:
        return f"{self.directory}/ctl"

    def pid(self) -> int:
        """The running resolver's pid, or 0."""
        try:
            with open(f"{self.directory}/pid", "rb") as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0
        return pid if pid and _is_resolver(pid) else 0

    def apply(self, records: str, clients: int) -> Reply:
        """Serve ``records`` (``clients`` containers in it): the resolver started if it is
        needed, told to reload, and gone when nothing is left to serve."""
        path = f"{self.directory}/records"
        if not clients:
            _unlink(path)
            if not posix.access(self.ctl, posix.F_OK):
                return Reply()
            try:
                reply = self._ask(b"reload\n")
            except (FileNotFoundError, ConnectionRefusedError):
                _unlink(self.ctl)  # a resolver that died: nothing to stop
                return Reply()
            self._wait_gone(reply.exited)
            return reply
        _write_atomically(path, records)
        try:
            reply = self._ask(b"reload\n")
        except (FileNotFoundError, ConnectionRefusedError):
            self._start()
            reply = self._ask(b"reload\n")
        except TimeoutError:
            self._kill()  # hung: a new one takes over
            self._start()
            reply = self._ask(b"reload\n")
        self._wait_gone(reply.exited)
        return reply

    def status(self) -> int | None:
        """How many containers the resolver serves; None when none runs."""
        try:
            return self._ask(b"status\n").served
        except (FileNotFoundError, ConnectionRefusedError, TimeoutError):
            return None

    def stop(self) -> None:
        """End a resolver that should not be running (system check), whatever it serves."""
        self._kill()
        for name in ("ctl", "pid", "records"):
            _unlink(f"{self.directory}/{name}")

    # ------------------------------------------------------------ the process

    def _ask(self, command: bytes) -> Reply:
        import _socket

        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            sock.settimeout(ANSWER_TIMEOUT)
            sock.connect(self.ctl)
            sock.sendall(command)
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        except _socket.timeout as exc:
            raise TimeoutError(f"the DNS resolver did not answer in {ANSWER_TIMEOUT:g} s") from exc
        finally:
            sock.close()
        if not data:
            raise HostError(f"the DNS resolver ended without an answer; see {self.directory}/log")
        return _parse(data.decode(errors="replace"))

    def _start(self) -> None:
        """A new resolver, listening on ``ctl`` before this returns (the socket is made
        here and handed over), so the next connect cannot miss it."""
        import _socket

        from dockyard.network.dns import binary

        exe = binary()
        _make_dir(self.directory)
        _unlink(self.ctl)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            sock.bind(self.ctl)
            posix.chmod(self.ctl, 0o600)
            sock.listen(64)
            null = "/dev/null"
            child = posix.posix_spawn(
                exe,
                [exe, "--dir", self.directory, "--ctl-fd", "3"],
                posix.environ,
                file_actions=[
                    (posix.POSIX_SPAWN_DUP2, sock.fileno(), 3),
                    (posix.POSIX_SPAWN_OPEN, 0, null, posix.O_RDONLY, 0),
                    (posix.POSIX_SPAWN_OPEN, 1, null, posix.O_WRONLY, 0),
                    (posix.POSIX_SPAWN_OPEN, 2, null, posix.O_WRONLY, 0),
                ],
            )
            # it forks the resolver and exits at once: no child of ours lives on
            _, status = posix.waitpid(child, 0)
        except OSError as exc:
            _unlink(self.ctl)
            raise HostError(f"cannot start the DNS resolver {exe}: {exc.strerror or exc}") from exc
        finally:
            sock.close()
        if status != 0:
            _unlink(self.ctl)
            raise HostError(f"the DNS resolver {exe} could not start (status {status})")

    def _kill(self) -> None:
        pid = self.pid()
        if pid:
            try:
                posix.kill(pid, 9)
            except ProcessLookupError:
                return
            self._wait_gone(pid)

    def _wait_gone(self, pid: int) -> None:
        """Until the process that said it leaves has left (a leak check right after a
        removal must not see it)."""
        if not pid:
            return
        import select

        try:
            fd = posix.pidfd_open(pid)
        except ProcessLookupError:
            return
        except OSError:
            return
        try:
            select.select([fd], [], [], EXIT_TIMEOUT)
        finally:
            posix.close(fd)


def _is_resolver(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0]
    except OSError:
        return False
    return argv0.rpartition(b"/")[2].startswith(b"dockyard-resolver")


def _unlink(path: str) -> None:
    try:
        posix.unlink(path)
    except FileNotFoundError:
        pass


def _make_dir(path: str) -> None:
    try:
        posix.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        _make_dir(path.rpartition("/")[0])
        _make_dir(path)


def _write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.{posix.getpid()}"
    try:
        fd = posix.open(
            temporary, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC | posix.O_CLOEXEC, 0o600
        )
    except FileNotFoundError:
        _make_dir(path.rpartition("/")[0])
        fd = posix.open(
            temporary, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC | posix.O_CLOEXEC, 0o600
        )
    try:
        data = text.encode()
        while data:
            data = data[posix.write(fd, data) :]
    finally:
        posix.close(fd)
    posix.rename(temporary, path)

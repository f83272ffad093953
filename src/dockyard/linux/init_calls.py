"""The system calls of the container's processes, behind one object a test can replace.

The init (and ``exec``'s child) makes its calls through `current`, an
instance of `InitCalls`, looked up at the moment of each call. A unit test
puts a recorder in its place, as youki's ``syscall/test.rs`` does, and sees
which steps the init takes and in what order (what runs before and what
after the seccomp filter) without root or a container. Each method makes
the call it is named for and raises ``OSError`` as ``posix`` does.
"""

from __future__ import annotations

import posix

from dockyard.linux import libc as L

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


class InitCalls:
    """The real calls."""

    __slots__ = ()

    # -- the process and its namespaces
    def setns(self, fd: int, nstype: int) -> None:
        L.setns(fd, nstype)

    def unshare(self, flags: int) -> None:
        L.unshare(flags)

    def setsid(self) -> None:
        posix.setsid()

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        return L.prctl(option, arg2, arg3)

    def sethostname(self, name: str) -> None:
        L.sethostname(name)

    def setdomainname(self, name: str) -> None:
        L.setdomainname(name)

    def keyctl(self, operation: int, name: str) -> int:
        return L.keyctl(operation, name)

    def setrlimit(self, resource: int, soft: int, hard: int) -> None:
        L.setrlimit(resource, soft, hard)

    def personality(self, persona: int) -> None:
        L.personality(persona)

    def umask(self, mask: int) -> int:
        return posix.umask(mask)

    def chdir(self, path: str) -> None:
        posix.chdir(path)

    def getcwd(self) -> str:
        return posix.getcwd()

    # -- identity
    def setgroups(self, gids: list[int]) -> None:
        posix.setgroups(gids)

    def setgid(self, gid: int) -> None:
        posix.setgid(gid)

    def setuid(self, uid: int) -> None:
        posix.setuid(uid)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        L.capset(effective, permitted, inheritable)

    # -- files and descriptors
    def open(self, path: str, flags: int, dir_fd: int | None = None) -> int:
        return posix.open(path, flags, 0o777, dir_fd=dir_fd)

    def read(self, fd: int, size: int) -> bytes:
        return posix.read(fd, size)

    def write(self, fd: int, data: bytes) -> int:
        return posix.write(fd, data)

    def close(self, fd: int) -> None:
        posix.close(fd)

    def stat(self, path: str) -> posix.stat_result:
        return posix.stat(path)

    def fstat(self, fd: int) -> posix.stat_result:
        return posix.fstat(fd)

    def access(self, path: str, mode: int) -> bool:
        return posix.access(path, mode)

    def listdir(self, path: str) -> list[str]:
        return posix.listdir(path)

    def close_range(self, first: int, last: int, flags: int) -> None:
        L.close_range(first, last, flags)

    def set_inheritable(self, fd: int, inheritable: bool) -> None:
        posix.set_inheritable(fd, inheritable)

    # -- signals
    def reset_signals(self) -> None:
        """Every disposition back to the default and an empty signal mask.

        exec resets handled signals but keeps ignored ones and the mask:
        Python ignores SIGPIPE and SIGXFSZ, and a caller may ignore or
        block more, none of which the container's program should inherit.
        """
        import _signal  # type: ignore[import-not-found]  # built in; signal.py costs ~10 ms

        default = _signal.SIG_DFL
        for signum in _signal.valid_signals() - {_signal.SIGKILL, _signal.SIGSTOP}:
            if _signal.getsignal(signum) is not default:
                _signal.signal(signum, default)
        _signal.pthread_sigmask(_signal.SIG_SETMASK, ())

    # -- seccomp and exec
    def seccomp_filter(self, program: bytes, flags: int) -> int:
        """Install a BPF program (seccomp(2)); the listener fd with NEW_LISTENER, else 0."""
        from dockyard.linux import seccomp

        return seccomp.set_filter(program, flags)

    def execve(self, target: str | int, argv: list[str], env: dict[str, str]) -> NoReturn:
        """execve(2) of a path, or execveat(fd, "", AT_EMPTY_PATH) of a descriptor."""
        posix.execve(target, argv, env)


#: the calls the container's processes make; a test may replace it
current = InitCalls()

"""A recording stand-in for ``dockyard.linux.init_calls.current`` (as youki's
``syscall/test.rs``), and a channel that records into the same log.

Nothing is done for real but closing real descriptors: each call is noted
as a short string ("setuid 1000", "open exec.fifo", "send ready") and
answered with a plausible value, or refused with the error ``refused``
holds for its name (as a seccomp profile would). ``execve`` ends the run
by raising `Exec`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import NoReturn

from dockyard.linux import libc as L
from dockyard.linux.init_calls import InitCalls

#: descriptors the recorder hands out (never real ones)
FAKE_FD = 1000
PRCTL_NAMES = {
    L.PR_SET_DUMPABLE: "dumpable",
    L.PR_SET_KEEPCAPS: "keepcaps",
    L.PR_CAPBSET_DROP: "capbset_drop",
    L.PR_SET_NO_NEW_PRIVS: "no_new_privs",
    L.PR_CAP_AMBIENT: "ambient",
}


class Exec(BaseException):
    """Raised by the recorder's execve: the init would be gone."""


def fake_stat(mode: int, ino: int, uid: int = 0, gid: int = 0) -> os.stat_result:
    return os.stat_result((mode, ino, 7, 1, uid, gid, 0, 0, 0, 0))


class Recorder(InitCalls):
    """Every call appended to ``log``; ``files`` answers stat (path -> result)."""

    __slots__ = ("files", "log", "next_fd", "reads", "refused")

    def __init__(self) -> None:
        self.log: list[str] = []
        self.refused: dict[str, OSError] = {}
        self.files: dict[str, os.stat_result] = {}
        self.reads: dict[str, bytes] = {}
        self.next_fd = FAKE_FD

    def note(self, entry: str) -> None:
        self.log.append(entry)
        error = self.refused.get(entry.split()[0])
        if error is not None:
            raise error

    def names(self) -> list[str]:
        """The log's first words: what was called, in order."""
        return [entry.split()[0] for entry in self.log]

    def after(self, entry: str) -> list[str]:
        """The log after the first entry starting with ``entry``."""
        index = next(i for i, e in enumerate(self.log) if e.startswith(entry))
        return self.log[index + 1 :]

    def __iter__(self) -> Iterator[str]:
        return iter(self.log)

    def setns(self, fd: int, nstype: int) -> None:
        self.note(f"setns {fd} {nstype:#x}")

    def unshare(self, flags: int) -> None:
        self.note(f"unshare {flags:#x}")

    def setsid(self) -> None:
        self.note("setsid")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        self.note(f"prctl {PRCTL_NAMES.get(option, option)} {arg2}")
        return 0

    def sethostname(self, name: str) -> None:
        self.note(f"sethostname {name}")

    def setdomainname(self, name: str) -> None:
        self.note(f"setdomainname {name}")

    def keyctl(self, operation: int, name: str) -> int:
        self.note(f"keyctl {operation} {name}")
        return 1

    def setrlimit(self, resource: int, soft: int, hard: int) -> None:
        self.note(f"setrlimit {resource} {soft} {hard}")

    def personality(self, persona: int) -> None:
        self.note(f"personality {persona}")

    def umask(self, mask: int) -> int:
        self.note(f"umask {mask:o}")
        return 0o022

    def chdir(self, path: str) -> None:
        self.note(f"chdir {path}")

    def getcwd(self) -> str:
        self.note("getcwd")
        return "/"

    def setgroups(self, gids: list[int]) -> None:
        self.note(f"setgroups {gids}")

    def setgid(self, gid: int) -> None:
        self.note(f"setgid {gid}")

    def setuid(self, uid: int) -> None:
        self.note(f"setuid {uid}")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self.note(f"capset {effective:#x} {permitted:#x} {inheritable:#x}")

    def open(self, path: str, flags: int, dir_fd: int | None = None) -> int:
        self.note(f"open {path}")
        self.next_fd += 1
        self.reads[str(self.next_fd)] = self.reads.get(path, b"")
        return self.next_fd

    def read(self, fd: int, size: int) -> bytes:
        self.note(f"read {fd}")
        return self.reads.get(str(fd), b"")[:size]

    def write(self, fd: int, data: bytes) -> int:
        self.note(f"write {fd} {data.decode()}")
        return len(data)

    def close(self, fd: int) -> None:
        self.note(f"close {fd}")
        if fd < FAKE_FD:
            os.close(fd)  # a real one (inroot's), not to leak

    def stat(self, path: str) -> os.stat_result:
        self.note(f"stat {path}")
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return self.files[path]

    def fstat(self, fd: int) -> os.stat_result:
        self.note(f"fstat {fd}")
        return self.files[f"fd:{fd}"]

    def access(self, path: str, mode: int) -> bool:
        self.note(f"access {path}")
        return path in self.files

    def listdir(self, path: str) -> list[str]:
        self.note(f"listdir {path}")
        return []

    def close_range(self, first: int, last: int, flags: int) -> None:
        self.note(f"close_range {first} cloexec={bool(flags & L.CLOSE_RANGE_CLOEXEC)}")

    def set_inheritable(self, fd: int, inheritable: bool) -> None:
        self.note(f"set_inheritable {fd} {inheritable}")

    def reset_signals(self) -> None:
        self.note("reset_signals")

    def seccomp_filter(self, program: bytes, flags: int) -> int:
        self.note(f"seccomp {len(program) // 8}")
        self.next_fd += 1
        return self.next_fd

    def execve(self, target: str | int, argv: list[str], env: dict[str, str]) -> NoReturn:
        self.note(f"execve {target} {' '.join(argv)}")
        raise Exec()


class RecordingChannel:
    """The init's end of the runtime's channel: sends and closes noted in the
    recorder's log, ``answers`` given to recv in turn."""

    def __init__(self, recorder: Recorder, *answers: tuple[str, str]) -> None:
        self.recorder = recorder
        self.answers = list(answers)
        self.closed = False

    def send(self, word: str, arg: str = "") -> None:
        assert not self.closed, f"send {word} on a closed channel"
        self.recorder.note(f"send {word} {arg}".strip())

    def send_words(self, *words: str) -> None:
        assert not self.closed, f"send {words} on a closed channel"
        self.recorder.note(f"send {' '.join(words)}")

    def recv(self) -> tuple[str, str]:
        assert not self.closed
        self.recorder.note("recv")
        return self.answers.pop(0)

    def close(self) -> None:
        self.recorder.note("close channel")
        self.closed = True


EXECUTABLE = fake_stat(stat.S_IFREG | 0o755, 10)
MEMFD = fake_stat(stat.S_IFREG | 0o777, 77)

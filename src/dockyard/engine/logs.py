"""``logs``: read a container's json-file log (the monitor writes it), as ``docker logs`` does.

Entries come from the rotated files oldest first (``PATH.N`` ... ``PATH.1``,
``PATH``), filtered by ``--since``/``--until``, the last ``--tail`` of them;
``-f`` then follows ``PATH`` (reopening it when the monitor rotates it)
until the container has stopped for good (not to be restarted) and
everything it wrote is read.
"""

from __future__ import annotations

import posix
import time

from dockyard.engine.clock import parse_ns
from dockyard.engine.record import record
from dockyard.errors import InvalidArgument, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import BinaryIO

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

FOLLOW_POLL = 0.05
SETTLE = 5.0  # seconds ``logs -f`` waits for a stopped container's exit to be handled


@record
class LogEntry:
    stream: str  # stdout or stderr
    time: str  # RFC 3339, as the monitor wrote it
    text: bytes


def parse_since(text: str, now_ns: int | None = None, option: str = "since") -> int:
    """--since/--until as Docker's CLI reads them: a Unix time (1700000000.5), a Go duration
    ago (10m, 1h30m, 45s), or an RFC 3339 time, whole or cut short after the day, the hour
    or the minute (2024-01-02, 2024-01-02T15:04), in local time unless it names a zone;
    nanoseconds since the epoch, 0 for none."""
    if not text:
        return 0
    now_ns = time.time_ns() if now_ns is None else now_ns
    try:
        seconds = float(text)
        return int(seconds * 1e9)
    except ValueError:
        pass
    duration = _go_duration(text)
    if duration is not None:
        return now_ns - duration
    try:
        return parse_ns(_whole_rfc3339(text.replace(" ", "T", 1)))
    except ValueError:
        raise InvalidArgument(
            f'invalid value for "{option}": failed to parse value as time or duration: "{text}"'
        ) from None


def _whole_rfc3339(text: str) -> str:
    """``2024-01-02``, ``2024-01-02T15``, ``2024-01-02T15:04`` (each with or without a zone)
    made whole; a time without a zone gets the local one, as Docker's CLI reads it."""
    import re

    found = re.fullmatch(
        r"(\d{4}-\d\d-\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d(?:\.\d+)?))?)?)?(Z|z|[+-]\d\d:\d\d)?",
        text,
    )
    if found is None:
        raise ValueError(text)
    day, hour, minute, second, zone = found.groups()
    if zone is None:
        offset = time.localtime().tm_gmtoff
        sign = "-" if offset < 0 else "+"
        zone = f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
    return f"{day}T{hour or '00'}:{minute or '00'}:{second or '00'}{zone}"


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def _go_duration(text: str) -> int | None:
    total = 0
    i = 0
    if not text or not (text[0].isdigit() or text[0] == "."):
        return None
    while i < len(text):
        j = i
        while j < len(text) and (text[j].isdigit() or text[j] == "."):
            j += 1
        k = j
        while k < len(text) and not (text[k].isdigit() or text[k] == "."):
            k += 1
        number, unit = text[i:j], text[j:k]
        if not number or unit not in _DURATION_UNITS:
            return None
        total += int(float(number) * _DURATION_UNITS[unit])
        i = k
    return total


def _files(path: str) -> list[str]:
    rotated = []
    n = 1
    while True:
        try:
            posix.stat(f"{path}.{n}")
        except FileNotFoundError:
            break
        rotated.append(f"{path}.{n}")
        n += 1
    return [*reversed(rotated), path]


def _parse_line(line: bytes) -> LogEntry | None:
    from dockyard.oci import jsonio

    try:
        doc = jsonio.loads(line)
    except ValueError:
        return None  # a line cut by a crash
    if not isinstance(doc, dict):
        return None
    return LogEntry(
        str(doc.get("stream", "stdout")),
        str(doc.get("time", "")),
        str(doc.get("log", "")).encode("utf-8", errors="surrogateescape"),
    )


def _read_entries(path: str) -> Iterator[LogEntry]:
    try:
        with open(path, "rb") as f:
            yield from _entries_of(f.read())[0]
    except FileNotFoundError:
        return


def _entries_of(data: bytes) -> tuple[list[LogEntry], bytes]:
    """Whole lines' entries, and the unfinished last line."""
    *lines, rest = data.split(b"\n")
    entries = []
    for line in lines:
        entry = _parse_line(line)
        if entry is not None:
            entries.append(entry)
    return entries, rest


def read(
    engine: Engine,
    rec: ContainerRecord,
    emit: Callable[[LogEntry], None],
    follow: bool = False,
    since: str = "",
    until: str = "",
    tail: str = "all",
) -> None:
    if rec.host.log_config.type == "none":
        raise Unsupported(
            'configured logging driver does not support reading: "none" (see --log-driver)'
        )
    path = engine.paths.log_path(rec.id)
    since_ns = parse_since(since)
    until_ns = parse_since(until, option="until")
    if tail not in ("all", "") and not tail.lstrip("-").isdigit():
        raise InvalidArgument(f"invalid value for --tail: {tail!r} (a number, or all)")
    count = -1 if tail in ("all", "") or int(tail) < 0 else int(tail)

    def wanted(entry: LogEntry) -> bool:
        if not since_ns and not until_ns:
            return True
        when = parse_ns(entry.time)
        return (not since_ns or when >= since_ns) and (not until_ns or when <= until_ns)

    files = _files(path)
    entries = [e for p in files[:-1] for e in _read_entries(p)]
    # the live file stays open: following goes on from exactly where this read ended
    live = _open(path)
    pending = b""
    if live is not None:
        last, pending = _entries_of(live.read())
        entries += last
    entries = [e for e in entries if wanted(e)]
    if count >= 0:
        entries = entries[-count:] if count else []
    for entry in entries:
        emit(entry)
    try:
        if follow and not until_ns:
            _follow(engine, rec, path, live, pending, emit, wanted)
    finally:
        if live is not None:
            live.close()


def _follow(
    engine: Engine,
    rec: ContainerRecord,
    path: str,
    f: BinaryIO | None,
    pending: bytes,
    emit: Callable[[LogEntry], None],
    wanted: Callable[[LogEntry], bool],
) -> None:
    """Print what arrives from now on, until the container stops for good and its log
    is drained: across a rotation (the old file is read to its end first) and across
    a restart (``restart``, a restart policy), as the log goes on in the same file."""
    from dockyard.engine.exits import read_exit

    def show(data: bytes) -> bytes:
        entries, rest = _entries_of(pending + data)
        for entry in entries:
            if wanted(entry):
                emit(entry)
        return rest

    while True:
        stopped = read_exit(engine, rec.id) is not None or not _running(engine, rec.id)
        data = f.read() if f is not None else b""
        if data:
            pending = show(data)
            continue
        if f is None:
            f, pending = _open(path), b""
            if f is not None:
                continue
        elif _rotated(f, path):
            # the file written after ours, which may itself be rotated by now
            following = _successor(f, path)
            if following is not None:
                pending = show(f.read())  # written just before the rotation
                f.close()
                f, pending = following, b""
                continue
        if stopped:
            if not _comes_back(engine, rec.id):
                break
            if f is not None and _rotated(f, path):
                continue
        time.sleep(FOLLOW_POLL)
    if f is not None:
        f.close()


def _comes_back(engine: Engine, container_id: str) -> bool:
    """The container stopped: will it run again? A verb holding its lock (``restart``
    holds it from the stop to the start) is waited for, so is its monitor's exit
    command for an exit nobody handled yet (at most `SETTLE` seconds)."""
    from dockyard.engine.exits import read_exit
    from dockyard.engine.locks import held_by_another
    from dockyard.engine.status import Status
    from dockyard.errors import NotFound

    deadline = time.monotonic() + SETTLE
    while True:
        if not held_by_another(engine.paths.lock_path(container_id), exclusive=False):
            try:
                status = engine.containers.get(container_id).status
            except NotFound:
                return False
            if status == Status.RESTARTING:
                return True  # a restart policy's timer runs
            if status not in (Status.RUNNING, Status.PAUSED):
                return False
            if read_exit(engine, container_id) is None:
                return True  # running again
        if time.monotonic() > deadline:
            return False
        time.sleep(FOLLOW_POLL)


def _running(engine: Engine, container_id: str) -> bool:
    from dockyard.engine.status import Status

    try:
        return engine.containers.get(container_id).status in (Status.RUNNING, Status.PAUSED)
    except Exception:
        return False


def _open(path: str) -> BinaryIO | None:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _successor(f: BinaryIO, path: str) -> BinaryIO | None:
    """The log file that came after ``f``'s, by the order of the rotated files
    (PATH.N ... PATH.1, PATH) and their inodes, opened and checked to be that one
    (the monitor may rotate again meanwhile). If ``f``'s file is gone (rotated past
    max-file), the oldest file left. None if there is none yet."""
    mine = posix.fstat(f.fileno()).st_ino
    for _ in range(20):
        chain = []
        for name in _files(path):
            try:
                chain.append((name, posix.stat(name).st_ino))
            except FileNotFoundError:
                continue
        inodes = [inode for _, inode in chain]
        at = inodes.index(mine) + 1 if mine in inodes else 0
        if at >= len(chain):
            return None
        name, inode = chain[at]
        found = _open(name)
        if found is not None and posix.fstat(found.fileno()).st_ino == inode:
            return found
        if found is not None:
            found.close()
    return None


def _rotated(f: BinaryIO, path: str) -> bool:
    try:
        return posix.stat(path).st_ino != posix.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return False

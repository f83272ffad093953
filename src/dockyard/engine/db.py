"""The engine's metadata: one SQLite database in WAL mode, shared by every ``dockyard``.

Many CLI processes use it at once, so every change runs in a ``BEGIN
IMMEDIATE`` transaction: the write lock is taken before anything is read,
so a read-check-write (is the name free? is the volume unused?) can never
interleave with another process's. SQLite waits for the lock (busy timeout)
rather than failing. WAL lets readers (``ps``, ``inspect``) go on while a
writer works; ``synchronous=NORMAL`` keeps every committed transaction
across a crash of the process (a power cut may lose the last few, never the
database's consistency). The auto-checkpoint runs every `WAL_AUTOCHECKPOINT`
frames, not SQLite's 1000 (see there).

``_sqlite3`` is used directly: the ``sqlite3`` package adds ``datetime``
and its adapters, a few milliseconds on every command; and it is loaded
without ``functools`` (engine/sqlite.py).
"""

from __future__ import annotations

import posix

from dockyard.engine.sqlite import _sqlite3  # without functools (see there)
from dockyard.errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from sqlite3 import Connection
    from typing import Any

SCHEMA_VERSION = 2
BUSY_TIMEOUT = 60.0  # seconds a writer waits for another's transaction

# Every `dockyard` is the first connection to its databases (it leaves by _exit, and
# SQLite's unix VFS empties the -shm for a first opener), so its first query rebuilds
# the WAL index from every valid frame of the WAL: ~1.3 us of CPU a frame. SQLite's
# default auto-checkpoint lets the WAL reach 1000 frames, ~500 read by each process on
# average. A smaller limit costs fsyncs instead: a checkpoint syncs the WAL and the
# database, the WAL's restart syncs its header, and the process after a checkpoint made
# by the last commit of its predecessor checkpoints again (its recovery knows nothing
# was copied). A `run -d` writes ~13 frames to engine.db and ~10 to events.db; over
# 1000 runs, 100 to 300 cost the same wall time, ~1 ms a run less than 1000, and 200
# has half the fsyncs of 100 for ~0.1 ms more CPU (docs/performance.md).
WAL_AUTOCHECKPOINT = 200

SCHEMA = """
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX containers_image ON containers (image_id);
CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);
CREATE TABLE volume_users (
    volume TEXT NOT NULL REFERENCES volumes (name),
    -- deferred: create() records the volumes a container uses, then the container
    container TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (volume, container)
);
CREATE INDEX volume_users_container ON volume_users (container);
"""

# version 2: networks (engine/networks.py), a container's lease on each (the
# UNIQUE address makes a duplicate impossible), and the host ports it holds
SCHEMA_2 = """
CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE endpoints (
    network TEXT NOT NULL REFERENCES networks (id),
    container TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    address TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (network, container),
    UNIQUE (network, address)
);
CREATE INDEX endpoints_container ON endpoints (container);
CREATE TABLE published (
    container TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    proto TEXT NOT NULL,
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    container_port INTEGER NOT NULL,
    PRIMARY KEY (proto, host_ip, host_port)
);
CREATE INDEX published_container ON published (container);
"""

IntegrityError = _sqlite3.IntegrityError
DatabaseError = _sqlite3.DatabaseError


def settle(conn: Connection) -> None:
    """The settings of every connection to engine.db and events.db (see above)."""
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")


def first_use(
    conn: Connection, path: str, create: Callable[[], None], timeout: float = BUSY_TIMEOUT
) -> None:
    """Turns for the processes that find ``path`` without its schema: a lock file
    beside it, held while the database is switched to WAL and ``create`` makes the
    schema (in its own transaction, checking the version again).

    The switch is retried: it needs the file to itself, and SQLite answers "locked"
    at once, not after the busy timeout, while another process merely reads the
    header (20 parallel first runs showed it)."""
    import fcntl
    import time

    lock = posix.open(f"{path}.init-lock", posix.O_RDWR | posix.O_CREAT | posix.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchall()
                break
            except _sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        create()
    finally:
        posix.close(lock)


class Database:
    """A connection opened on first use; `transaction` for changes, `query` for reads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> Connection:
        directory = self.path.rpartition("/")[0]
        try:
            if directory:
                posix.mkdir(directory, 0o711)
        except FileExistsError:
            pass
        except OSError as exc:
            raise HostError(f"cannot make {directory} for the engine database: {exc}") from exc
        try:
            conn: Connection = _sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys = ON")
            settle(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                self._migrate(conn)
        except _sqlite3.DatabaseError as exc:
            raise HostError(f"the engine database {self.path}: {exc}") from exc
        return conn

    def _migrate(self, conn: Connection) -> None:
        first_use(conn, self.path, lambda: self._create_schema(conn))

    def _create_schema(self, conn: Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HostError(
                    f"the engine database {self.path} is from a newer Dockyard "
                    f"(schema {version}, this one knows {SCHEMA_VERSION})"
                )
            steps = [SCHEMA, SCHEMA_2][version:]
            for script in steps:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if steps:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def transaction(self) -> Transaction:
        """``with db.transaction() as tx:``: BEGIN IMMEDIATE, COMMIT, or ROLLBACK on error."""
        return Transaction(self.conn)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except _sqlite3.OperationalError as exc:
            raise HostError(f"the engine database {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Transaction:
    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Transaction:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except _sqlite3.OperationalError as exc:
            raise HostError(f"the engine database is busy or broken: {exc}") from exc
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run a change; the number of rows it touched."""
        return int(self.conn.execute(sql, params).rowcount)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        yield from self.conn.execute(sql, params)

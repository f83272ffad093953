"""Both databases keep their WAL short (db.WAL_AUTOCHECKPOINT): every ``dockyard`` is
the first connection and rebuilds the WAL index from each frame, so the setting is read
back through the engine's own connections, and the WAL file is watched over 200 writes
(SQLite's default, 1000 frames, lets them grow to ~450 and 600 frames here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.engine.db import WAL_AUTOCHECKPOINT
from dockyard.engine.engine import Engine
from dockyard.engine.sqlite import _sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from sqlite3 import Connection


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(str(tmp_path / "root"), str(tmp_path / "run"))


def _bound(conn: Connection) -> int:
    """The WAL's size in bytes at the checkpoint's limit, plus one write of a few pages."""
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return 32 + (WAL_AUTOCHECKPOINT + 8) * (24 + page_size)


def _largest_wal(path: str, writes: int, write: Callable[[int], None]) -> int:
    largest = 0
    for i in range(writes):
        write(i)
        largest = max(largest, os.stat(f"{path}-wal").st_size)
    return largest


def test_the_engine_databases_connections_checkpoint_early(engine: Engine) -> None:
    for conn in (engine.db.conn, engine.events.conn):
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_AUTOCHECKPOINT
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_engine_db_wal_stays_below_its_bound_over_200_writes(engine: Engine) -> None:
    def write(i: int) -> None:
        with engine.db.transaction() as tx:
            tx.execute(
                "INSERT INTO volumes (name, created, doc) VALUES (?, ?, ?)",
                (f"volume-{i}", "2026-12-02T00:00:00Z", "{}" + " " * 300),
            )

    largest = _largest_wal(engine.db.path, 200, write)
    assert largest <= _bound(engine.db.conn)
    assert engine.db.query("SELECT count(*) FROM volumes") == [(200,)]


def test_events_db_wal_stays_below_its_bound_over_200_writes(engine: Engine) -> None:
    log = engine.events

    def write(i: int) -> None:
        assert log.emit("volume", "create", f"volume-{i}", {"driver": "local"}) is not None

    largest = _largest_wal(log.path, 200, write)
    assert largest <= _bound(log.conn)
    assert len(log.read()) == 200


def test_the_next_process_finds_few_valid_frames(engine: Engine) -> None:
    """What the next ``dockyard`` reads: the frames still valid in the WAL (its first
    query rebuilds the index from them), not the file's size, stay below the bound."""
    for i in range(200):
        engine.events.emit("volume", "create", f"volume-{i}")
    other = _sqlite3.connect(engine.events.path)
    try:
        _, frames, _ = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        other.close()
    assert 0 < frames <= WAL_AUTOCHECKPOINT + 8

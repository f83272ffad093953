"""The engine database: container records, Docker's lookup rules, the status machine."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dockyard.engine.container_table import AmbiguousName, ContainerTable
from dockyard.engine.db import Database
from dockyard.engine.names import check_name, new_id, random_name
from dockyard.engine.status import Status, require
from dockyard.engine.types import ContainerConfig, ContainerRecord
from dockyard.errors import Conflict, InvalidArgument, NotFound


def make(container_id: str, name: str = "") -> ContainerRecord:
    return ContainerRecord(
        id=container_id,
        name=name,
        image_id="sha256:" + "0" * 64,
        created="2026-01-01T00:00:00Z",
        status=Status.CREATED,
        config=ContainerConfig(image="busybox"),
    )


@pytest.fixture
def table(tmp_path: Path) -> ContainerTable:
    return ContainerTable(Database(str(tmp_path / "engine.db")))


def test_the_database_is_in_wal_mode(table: ContainerTable) -> None:
    assert table.db.query("PRAGMA journal_mode")[0][0] == "wal"


def test_lookup_by_id_name_and_unique_prefix(table: ContainerTable) -> None:
    first = "abc1" + "0" * 60
    second = "abc2" + "0" * 60
    table.insert(make(first, "web"))
    table.insert(make(second, "db"))

    assert table.find(first).name == "web"
    assert table.find("web").id == first
    assert table.find("/db").id == second
    assert table.find("abc1").id == first
    with pytest.raises(AmbiguousName, match="Multiple IDs found with provided prefix: abc"):
        table.find("abc")
    with pytest.raises(NotFound, match="No such container: nope"):
        table.find("nope")


def test_a_name_wins_over_an_id_prefix(table: ContainerTable) -> None:
    """Docker looks up the exact name before id prefixes."""
    table.insert(make("beef" + "1" * 60, "one"))
    table.insert(make("2" * 64, "beef"))

    assert table.find("beef").id == "2" * 64


def test_names_are_unique(table: ContainerTable) -> None:
    table.insert(make(new_id(), "web"))

    with pytest.raises(Conflict, match='name "/web" is already in use'):
        table.insert(make(new_id(), "web"))
    assert len(table.all()) == 1


def test_a_container_without_a_name_gets_a_free_random_one(table: ContainerTable) -> None:
    rec = make(new_id())
    table.insert(rec)

    assert "_" in rec.name and table.find(rec.name).id == rec.id


def test_concurrent_inserts_of_one_name_let_exactly_one_win(tmp_path: Path) -> None:
    path = str(tmp_path / "engine.db")
    ContainerTable(Database(path)).all()  # make the schema once
    outcomes: list[str] = []

    def insert() -> None:
        own = ContainerTable(Database(path))
        try:
            own.insert(make(new_id(), "same"))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        own.db.close()

    threads = [threading.Thread(target=insert) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict"] * 9 + ["ok"]


def test_update_checks_the_stored_status_and_the_machine(table: ContainerTable) -> None:
    rec = make(new_id(), "box")
    table.insert(rec)
    rec.status = Status.RUNNING
    table.update(rec, expect=(Status.CREATED,))

    rec.status = Status.EXITED
    with pytest.raises(Conflict, match="is running"):
        table.update(rec, expect=(Status.CREATED,))
    rec.status = Status.CREATED
    with pytest.raises(Conflict, match="cannot go from running to created"):
        table.update(rec)
    assert table.get(rec.id).status == Status.RUNNING


def test_verb_guards_say_what_to_do() -> None:
    with pytest.raises(Conflict, match="stop the container before removing or force remove"):
        require("remove", "web", Status.RUNNING)
    with pytest.raises(Conflict, match="Container c0ffee is not running"):
        require("kill", "c0ffee", Status.EXITED)
    require("remove -f", "web", Status.RUNNING)
    require("start", "web", Status.EXITED)


def test_ids_and_names() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 64 and not i[:12].isdigit() for i in ids)
    assert check_name("/web-1.a_b") == "web-1.a_b"
    for bad in ("a", "-x", "a b", "a/b", ""):
        with pytest.raises(InvalidArgument, match="Invalid container name"):
            check_name(bad)
    adjective, _, noun = random_name().partition("_")
    assert adjective and noun


def test_delete(table: ContainerTable) -> None:
    rec = make(new_id(), "gone")
    table.insert(rec)

    assert table.delete(rec.id) is True
    assert table.delete(rec.id) is False
    with pytest.raises(NotFound):
        table.get(rec.id)


FIRST_USE = """
import os, sys, time
from dockyard.engine.db import Database
while not os.path.exists(sys.argv[2]):
    time.sleep(0.0005)
db = Database(sys.argv[1])
with db.transaction() as tx:
    tx.execute(
        "INSERT INTO volumes (name, created, doc) VALUES (?, 'now', '{}')", (str(os.getpid()),)
    )
"""


def test_twenty_processes_meeting_a_new_database_all_get_in(tmp_path: Path) -> None:
    """The switch to WAL answered "database is locked" at once to some of 20 first
    commands (no busy wait): they take turns now."""
    import subprocess
    import sys

    for attempt in range(4):
        path, go = tmp_path / f"engine{attempt}.db", tmp_path / f"go{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", FIRST_USE, str(path), str(go)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(20)
        ]
        time.sleep(0.5)
        go.touch()
        results = [(p.communicate()[1], p.returncode) for p in procs]
        assert [err for err, code in results if code != 0] == []
        rows = Database(str(path)).query("SELECT count(*) FROM volumes")
        assert rows == [(20,)]

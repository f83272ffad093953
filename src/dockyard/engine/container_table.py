"""Container records in the database: add, find (Docker's lookup rules), change, drop.

A record is one row: the columns the engine searches on (id, name, image,
status, created) and the whole `ContainerRecord` as JSON in ``doc``.
Uniqueness of names is the table's (a UNIQUE column), so two processes
naming a container the same at the same moment cannot both succeed.
"""

from __future__ import annotations

from dockyard.engine import names as namegen
from dockyard.engine.db import Database, IntegrityError, Transaction
from dockyard.engine.record import from_json, to_json
from dockyard.engine.status import check_move
from dockyard.engine.types import ContainerRecord
from dockyard.errors import Conflict, NotFound
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class AmbiguousName(NotFound):
    """A prefix that matches several containers (Docker answers 404 too)."""


def _load(doc: str) -> ContainerRecord:
    return from_json(ContainerRecord, jsonio.loads(doc))


def _dump(rec: ContainerRecord) -> str:
    return jsonio.dumps_compact(to_json(rec))


def name_in_use(name: str, owner: str) -> Conflict:
    return Conflict(
        f'Conflict. The container name "/{name}" is already in use by container "{owner}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )


class ContainerTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ adding

    def insert(self, rec: ContainerRecord, tx: Transaction | None = None) -> None:
        """Add ``rec``; a random name is chosen if it has none. Conflict if the name is taken."""
        if tx is None:
            with self.db.transaction() as own:
                self.insert(rec, own)
            return
        if not rec.name:
            taken = {row[0] for row in tx.query("SELECT name FROM containers")}
            rec.name = namegen.random_name(taken)
        try:
            tx.execute(
                "INSERT INTO containers (id, name, image_id, status, created, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (rec.id, rec.name, rec.image_id, rec.status, rec.created, _dump(rec)),
            )
        except IntegrityError:
            owner = tx.query("SELECT id FROM containers WHERE name = ?", (rec.name,))
            if owner:
                raise name_in_use(rec.name, owner[0][0]) from None
            raise Conflict(f"a container with id {rec.id} exists already") from None

    # ------------------------------------------------------------ finding

    def get(self, container_id: str) -> ContainerRecord:
        rows = self.db.query("SELECT doc FROM containers WHERE id = ?", (container_id,))
        if not rows:
            raise NotFound(f"No such container: {container_id}")
        return _load(rows[0][0])

    def find(self, text: str) -> ContainerRecord:
        """By full id, then exact name, then unique id prefix: Docker's order."""
        return _load(self._find_doc(text, self.db.query))

    def find_id(self, text: str) -> str:
        return self.find(text).id

    @staticmethod
    def _find_doc(text: str, query: Callable[[str, tuple[str, ...]], list[tuple[str, ...]]]) -> str:
        if not text:
            raise NotFound("No such container: (an empty name)")
        if len(text) == 64:
            rows = query("SELECT doc FROM containers WHERE id = ?", (text,))
            if rows:
                return rows[0][0]
        name = text[1:] if text.startswith("/") else text
        rows = query("SELECT doc FROM containers WHERE name = ?", (name,))
        if rows:
            return rows[0][0]
        if namegen.looks_like_id_prefix(text):
            # hex digits sort below "g": [prefix, prefix+"g") is every id it starts
            rows = query(
                "SELECT doc FROM containers WHERE id >= ? AND id < ? LIMIT 2",
                (text, text + "g"),
            )
            if len(rows) == 1:
                return rows[0][0]
            if len(rows) > 1:
                raise AmbiguousName(f"Multiple IDs found with provided prefix: {text}")
        raise NotFound(f"No such container: {text}")

    def all(self) -> list[ContainerRecord]:
        """Every container, newest first (as ``ps`` lists them)."""
        rows = self.db.query("SELECT doc FROM containers ORDER BY created DESC, rowid DESC")
        return [_load(doc) for (doc,) in rows]

    def using_image(self, image_id: str) -> list[str]:
        rows = self.db.query("SELECT id FROM containers WHERE image_id = ?", (image_id,))
        return [r[0] for r in rows]

    # ------------------------------------------------------------ changing

    def update(
        self,
        rec: ContainerRecord,
        expect: tuple[str, ...] | None = None,
        tx: Transaction | None = None,
    ) -> ContainerRecord:
        """Write ``rec`` back; with ``expect``, only if the stored status is one of those.

        Returns the record as stored. The move from the stored status to
        ``rec.status`` must be one the state machine allows.
        """
        if tx is None:
            with self.db.transaction() as own:
                return self.update(rec, expect, own)
        rows = tx.query("SELECT status FROM containers WHERE id = ?", (rec.id,))
        if not rows:
            raise NotFound(f"No such container: {rec.id}")
        stored = rows[0][0]
        if expect is not None and stored not in expect:
            raise Conflict(f"container {rec.name} is {stored} (wanted {' or '.join(expect)})")
        check_move(rec.name, stored, rec.status)
        tx.execute(
            "UPDATE containers SET name = ?, status = ?, doc = ? WHERE id = ?",
            (rec.name, rec.status, _dump(rec), rec.id),
        )
        return rec

    def delete(self, container_id: str, tx: Transaction | None = None) -> bool:
        if tx is None:
            with self.db.transaction() as own:
                return self.delete(container_id, own)
        return tx.execute("DELETE FROM containers WHERE id = ?", (container_id,)) > 0

"""The event log: what happened to containers, images, volumes and networks, kept on disk.

Docker's daemon keeps its last 256 events in memory and streams new ones
to subscribers. With no daemon, every ``dockyard`` process that does
something appends its event to one SQLite database, ``<root>/events/events.db``
(WAL mode, engine.db's connection settings: `db.settle`), and ``dockyard events``
reads it after the fact or follows it:

- Writers: the process that acts. ``die`` (and ``oom``) is written by
  whoever handles the exit (`engine.exits.cleanup`): the monitor's exit
  command ``dockyard container cleanup``, or the foreground ``run`` that
  holds the container. Its time is the monitor's ``finishedAt``, when the
  container really ended.
- Followers watch the log's directory with inotify: every commit writes to
  ``events.db-wal`` there, so a follower wakes the moment another process
  commits, reads the rows past the last one it saw (ids only grow, and a
  commit holds SQLite's write lock, so ids become visible in order), and
  sleeps again. A slow timeout re-checks anyway.
- Retention: the newest `KEEP` events (default 10 000, ``DOCKYARD_EVENTS_KEEP``)
  are kept; every `TRIM_EVERY`-th insert deletes what is older.

The log has its own database, not a table in ``engine.db``: appending an
event never waits behind a container transaction, trimming never touches
the container records, and a follower's inotify watch wakes for events only.

Recording an event is best-effort: a verb that did its work does not fail
because its event could not be written (a full disk, a broken log file).
"""

from __future__ import annotations

import posix
import time

from dockyard.engine.record import field, record
from dockyard.engine.sqlite import _sqlite3  # without functools (see there)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sqlite3 import Connection
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord
    from dockyard.linux.inotify import Watch

KEEP = 10_000
TRIM_EVERY = 100
BUSY_TIMEOUT = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ns INTEGER NOT NULL,
    type TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time_ns)
"""

# the types Docker's events carry (api/types/events)
CONTAINER = "container"
IMAGE = "image"
VOLUME = "volume"
NETWORK = "network"
DAEMON = "daemon"
TYPES = (CONTAINER, IMAGE, VOLUME, NETWORK, DAEMON, "plugin", "service", "node", "secret", "config")


@record
class Event:
    """One event, in Docker's terms (events.Message without the legacy fields)."""

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_ns: int = 0
    seq: int = 0  # its place in the log


def _keep() -> int:
    value = posix.environ.get(b"DOCKYARD_EVENTS_KEEP", b"")
    return int(value) if value.isdigit() and int(value) > 0 else KEEP


class EventLog:
    """The log under ``directory``; the connection is opened on first use."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = f"{directory}/events.db"
        self._conn: Connection | None = None
        self.keep = _keep()

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            _make_dir(self.directory)
            conn: Connection = _sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            try:
                from dockyard.engine.db import first_use, settle

                settle(conn)
                if conn.execute("PRAGMA user_version").fetchone()[0] != 1:
                    first_use(conn, self.path, lambda: _create_schema(conn), BUSY_TIMEOUT)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def append(self, event: Event) -> Event:
        """Write ``event`` (its time now if it has none); raises the database's error."""
        from dockyard.oci import jsonio

        if not event.time_ns:
            event.time_ns = time.time_ns()
        conn = self.conn
        cursor = conn.execute(
            "INSERT INTO events (time_ns, type, action, actor, attributes) VALUES (?, ?, ?, ?, ?)",
            (
                event.time_ns,
                event.type,
                event.action,
                event.actor_id,
                jsonio.dumps_compact(event.attributes),
            ),
        )
        event.seq = int(cursor.lastrowid or 0)
        if event.seq % TRIM_EVERY == 0:
            conn.execute("DELETE FROM events WHERE id <= ?", (event.seq - self.keep,))
        return event

    def emit(
        self,
        type_: str,
        action: str,
        actor_id: str,
        attributes: dict[str, str] | None = None,
        time_ns: int = 0,
    ) -> Event | None:
        """Record an event; None when it could not be written (best-effort, see above)."""
        event = Event(type_, action, actor_id, dict(attributes or {}), time_ns)
        try:
            return self.append(event)
        except (_sqlite3.Error, OSError):
            return None

    def last_seq(self) -> int:
        row = self.conn.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    def read(
        self, after_seq: int = 0, since_ns: int = 0, until_ns: int = 0, up_to_seq: int = 0
    ) -> list[Event]:
        """Events past ``after_seq`` (and up to ``up_to_seq``), timed within [since, until]."""
        sql = "SELECT id, time_ns, type, action, actor, attributes FROM events WHERE id > ?"
        params: list[Any] = [after_seq]
        if up_to_seq:
            sql += " AND id <= ?"
            params.append(up_to_seq)
        if since_ns:
            sql += " AND time_ns >= ?"
            params.append(since_ns)
        if until_ns:
            sql += " AND time_ns <= ?"
            params.append(until_ns)
        rows = self.conn.execute(sql + " ORDER BY id", tuple(params)).fetchall()
        return [_event(row) for row in rows]

    def watch(self) -> Watch:
        """A wake-up for commits by any process (inotify on the log's directory)."""
        from dockyard.linux.inotify import Watch

        self.conn  # noqa: B018  # the directory and the database exist before the watch
        return Watch(self.directory)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _create_schema(conn: Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != 1:
            for statement in SCHEMA.split(";"):
                conn.execute(statement)
            conn.execute("PRAGMA user_version = 1")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _make_dir(directory: str) -> None:
    """The log's directory, and the root above it for a command that comes first."""
    try:
        posix.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        parent = directory.rpartition("/")[0]
        if not parent or parent == directory:
            raise
        _make_dir(parent)
        posix.mkdir(directory, 0o700)


def _event(row: tuple[Any, ...]) -> Event:
    from dockyard.oci import jsonio

    seq, time_ns, type_, action, actor, attributes = row
    try:
        attrs = jsonio.loads(attributes)
    except ValueError:
        attrs = {}
    return Event(type_, action, actor, attrs if isinstance(attrs, dict) else {}, time_ns, seq)


# ---------------------------------------------------------------- what the verbs record


def container_attributes(rec: ContainerRecord) -> dict[str, str]:
    """Docker's: the container's labels, then its name and image (which win)."""
    attributes = dict(rec.config.labels)
    attributes["image"] = rec.config.image
    attributes["name"] = rec.name
    return attributes


def container_event(
    engine: Engine,
    rec: ContainerRecord,
    action: str,
    extra: dict[str, str] | None = None,
    time_ns: int = 0,
) -> Event | None:
    """``action`` of container ``rec`` (create, start, die, kill, health_status: healthy...)."""
    attributes = container_attributes(rec)
    if extra:
        attributes.update(extra)
    return engine.events.emit(CONTAINER, action, rec.id, attributes, time_ns)


def exec_event(
    engine: Engine, rec: ContainerRecord, action: str, exec_id: str, cmd: list[str]
) -> Event | None:
    """Docker's ``exec_create: CMD ARGS`` and ``exec_start: CMD ARGS`` (the command in
    the action, ``execID`` among the attributes)."""
    return container_event(engine, rec, f"{action}: {' '.join(cmd)}", {"execID": exec_id})


def network_endpoints_event(engine: Engine, rec: ContainerRecord, action: str) -> None:
    """``connect`` or ``disconnect`` of the container on each network it is on, as the
    daemon records them when a container starts and when its exit is handled."""
    from dockyard.engine.net_attach import endpoints

    try:
        nets = [net for net, _ in endpoints(engine, rec.id)]
        if not nets and rec.host.network_mode in ("none", "host"):
            nets = [engine.networks.find(rec.host.network_mode)]  # Docker's null and host
    except Exception:
        return
    for net in nets:
        network_event(
            engine, net.id, action, {"container": rec.id, "name": net.name, "type": net.driver}
        )


def image_event(engine: Engine, actor_id: str, action: str, name: str = "") -> Event | None:
    """Docker's image events: pull and push name a reference (``busybox:latest``,
    name ``busybox``); tag the image id and the new tag; untag, delete, import, load
    and save the id twice. The image's labels come first, while it exists."""
    from dockyard.errors import DockyardError

    attributes: dict[str, str] = {}
    if action != "delete":
        try:
            image_id = actor_id if actor_id.startswith("sha256:") else ""
            image_id = image_id or engine.images.find(actor_id).id
            attributes.update(engine.images.facts(image_id).labels)
        except DockyardError:
            pass
    if name:
        attributes["name"] = name
    return engine.events.emit(IMAGE, action, actor_id, attributes)


def image_removed(engine: Engine, image_id: str, untagged: list[str], deleted: list[str]) -> None:
    """``rmi``: an ``untag`` per name removed, then ``delete`` when the image went."""
    for _ in untagged:
        image_event(engine, image_id, "untag", image_id)
    for gone in deleted:
        image_event(engine, gone, "delete", gone)


def network_event(
    engine: Engine, network_id: str, action: str, attributes: dict[str, str]
) -> Event | None:
    """create/destroy carry ``name`` and ``type``; connect/disconnect also ``container``."""
    return engine.events.emit(NETWORK, action, network_id, attributes)


# ---------------------------------------------------------------- Docker's wire shape


def message_json(event: Event) -> dict[str, Any]:
    """The event as Docker's API sends it (events.Message, its JSON field order), the
    deprecated ``status``/``id``/``from`` filled as the daemon fills them."""
    doc: dict[str, Any] = {}
    if event.type in (CONTAINER, IMAGE):
        doc["status"] = event.action
        doc["id"] = event.actor_id
        if event.type == CONTAINER and event.attributes.get("image"):
            doc["from"] = event.attributes["image"]
    doc["Type"] = event.type
    doc["Action"] = event.action
    # a Go map: encoding/json writes its keys sorted
    attributes = {k: event.attributes[k] for k in sorted(event.attributes)}
    doc["Actor"] = {"ID": event.actor_id, "Attributes": attributes}
    doc["scope"] = "local"
    doc["time"] = event.time_ns // 1_000_000_000
    doc["timeNano"] = event.time_ns
    return doc


def text_line(event: Event) -> str:
    """``docker events``'s line: local time with nine fraction digits, type, action,
    actor and the attributes sorted by key."""
    from dockyard.oci.units import go_rfc3339

    seconds, nanos = divmod(event.time_ns, 1_000_000_000)
    stamp = go_rfc3339(seconds)
    stamp = f"{stamp[:19]}.{nanos:09d}{stamp[19:]}"
    line = f"{stamp} {event.type} {event.action} {event.actor_id}"
    if event.attributes:
        pairs = ", ".join(f"{k}={event.attributes[k]}" for k in sorted(event.attributes))
        line += f" ({pairs})"
    return line + "\n"

"""Volumes: named and anonymous directories under ``<root>/volumes/<name>/_data``.

A volume's record and the list of containers using it live in the
database; `remove` refuses a volume any container uses (the foreign key
from ``volume_users`` makes that hold even against a concurrent ``run``).
A new named volume mounted where the image has content is first filled
with that content (Docker's copy-up), unless ``nocopy`` is asked.
"""

from __future__ import annotations

import posix

from dockyard.engine import names
from dockyard.engine.db import Database, IntegrityError, Transaction
from dockyard.engine.record import from_json, to_json
from dockyard.engine.types import MountPoint, VolumeRecord
from dockyard.errors import Conflict, HostError, NotFound
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.events import EventLog
    from dockyard.engine.paths import EnginePaths


def now() -> str:
    from dockyard.engine.clock import rfc3339_now

    return rfc3339_now()


class VolumeService:
    def __init__(self, db: Database, paths: EnginePaths, events: EventLog | None = None) -> None:
        self.db = db
        self.paths = paths
        #: where create and destroy are recorded (engine/events.py); None records nothing
        self.events = events

    def event(self, name: str, action: str) -> None:
        if self.events is not None:
            self.events.emit("volume", action, name, {"driver": "local"})

    def _data(self, name: str) -> str:
        return f"{self.paths.volume_dir(name)}/_data"

    # ------------------------------------------------------------ records

    def create(
        self,
        name: str = "",
        labels: dict[str, str] | None = None,
        driver: str = "local",
        options: dict[str, str] | None = None,
        anonymous: bool = False,
        tx: Transaction | None = None,
    ) -> VolumeRecord:
        """Make a volume; an existing one of that name is returned as it is (Docker's rule)."""
        if driver not in ("", "local"):
            raise NotFound(f"volume driver {driver!r} not found: only the local driver exists")
        if options:
            raise Conflict("the local driver takes no options here (no -o type=... mounts yet)")
        if not name:
            name = names.new_id()
            anonymous = True
        names.check_volume_name(name)
        if tx is None:
            with self.db.transaction() as own:
                existed = own.query("SELECT 1 FROM volumes WHERE name = ?", (name,))
                vol = self.create(name, labels, driver, options, anonymous, own)
            if not existed:
                self.event(name, "create")
            return vol
        existing = tx.query("SELECT doc FROM volumes WHERE name = ?", (name,))
        if existing:
            return from_json(VolumeRecord, jsonio.loads(existing[0][0]))
        vol = VolumeRecord(
            name=name,
            created=now(),
            mountpoint=self._data(name),
            labels=dict(labels or {}),
            anonymous=anonymous,
        )
        _make_dirs(vol.mountpoint)
        tx.execute(
            "INSERT INTO volumes (name, created, anonymous, doc) VALUES (?, ?, ?, ?)",
            (name, vol.created, int(anonymous), jsonio.dumps_compact(to_json(vol))),
        )
        return vol

    def get(self, name: str) -> VolumeRecord:
        rows = self.db.query("SELECT doc FROM volumes WHERE name = ?", (name,))
        if not rows:
            raise NotFound(f"get {name}: no such volume")
        return from_json(VolumeRecord, jsonio.loads(rows[0][0]))

    def all(self) -> list[VolumeRecord]:
        rows = self.db.query("SELECT doc FROM volumes ORDER BY name")
        return [from_json(VolumeRecord, jsonio.loads(doc)) for (doc,) in rows]

    def users(self, name: str) -> list[str]:
        rows = self.db.query("SELECT container FROM volume_users WHERE volume = ?", (name,))
        return [r[0] for r in rows]

    def in_use(self) -> set[str]:
        return {r[0] for r in self.db.query("SELECT DISTINCT volume FROM volume_users")}

    def remove(self, name: str, force: bool = False) -> None:
        with self.db.transaction() as tx:
            if not tx.query("SELECT 1 FROM volumes WHERE name = ?", (name,)):
                if force:
                    return
                raise NotFound(f"get {name}: no such volume")
            users = [
                r[0]
                for r in tx.query("SELECT container FROM volume_users WHERE volume = ?", (name,))
            ]
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            try:
                tx.execute("DELETE FROM volumes WHERE name = ?", (name,))
            except IntegrityError:
                raise Conflict(f"remove {name}: volume is in use") from None
            # Out of sight first (inside the transaction, so no new user can
            # appear), deleted after: a crash leaves a .removing dir, not a half volume.
            dead = f"{self.paths.volumes}/.removing-{name}-{posix.getpid()}"
            try:
                posix.rename(self.paths.volume_dir(name), dead)
            except FileNotFoundError:
                dead = ""
        if dead:
            remove_tree(dead)
        self.event(name, "destroy")

    def prune(self, all_volumes: bool = False, labels: dict[str, str] | None = None) -> list[str]:
        """Remove unused volumes (anonymous ones only, unless ``all_volumes``), as Docker 23+."""
        removed = []
        used = self.in_use()
        for vol in self.all():
            if vol.name in used or (not all_volumes and not vol.anonymous):
                continue
            if labels and any(vol.labels.get(k) != v for k, v in labels.items()):
                continue
            try:
                self.remove(vol.name)
            except (Conflict, NotFound):
                continue
            removed.append(vol.name)
        return removed

    # ------------------------------------------------------------ containers

    def attach(self, tx: Transaction, container_id: str, mounts: list[MountPoint]) -> list[str]:
        """Create the volumes ``mounts`` name (or need) and record their use by the container.

        Fills in each volume mount's source. Returns the names of volumes it created.
        """
        created = []
        for m in mounts:
            if m.type != "volume":
                continue
            existed = (
                bool(tx.query("SELECT 1 FROM volumes WHERE name = ?", (m.name,)))
                if m.name
                else False
            )
            vol = self.create(m.name, anonymous=m.anonymous, tx=tx)
            if not existed:
                created.append(vol.name)
            m.name = vol.name
            m.source = vol.mountpoint
            tx.execute(
                "INSERT OR IGNORE INTO volume_users (volume, container) VALUES (?, ?)",
                (vol.name, container_id),
            )
        return created

    def release(self, tx: Transaction, container_id: str) -> list[str]:
        """Forget the container's uses; the anonymous volumes it used, now unused."""
        rows = tx.query(
            "SELECT v.name FROM volumes v JOIN volume_users u ON u.volume = v.name "
            "WHERE u.container = ? AND v.anonymous = 1",
            (container_id,),
        )
        tx.execute("DELETE FROM volume_users WHERE container = ?", (container_id,))
        left = []
        for (name,) in rows:
            if not tx.query("SELECT 1 FROM volume_users WHERE volume = ?", (name,)):
                left.append(name)
        return left


def _make_dirs(path: str) -> None:
    parts = path.split("/")
    for i in range(2, len(parts) + 1):
        try:
            posix.mkdir("/".join(parts[:i]), 0o755 if i == len(parts) else 0o701)
        except FileExistsError:
            pass
        except OSError as exc:
            raise HostError(f"cannot make the volume directory {path}: {exc.strerror}") from exc


def remove_tree(path: str) -> None:
    from dockyard.storage.store import remove_tree as store_remove_tree

    store_remove_tree(path)


def is_empty(path: str) -> bool:
    try:
        return not posix.listdir(path)
    except FileNotFoundError:
        return True


def seed(volume_data: str, rootfs: str, destination: str) -> None:
    """Copy what the image has at ``destination`` into an empty volume (Docker's copy-up).

    The source is opened inside the root (a link in the image cannot point
    the copy at the host); ownership, modes and times are kept.
    """
    from dockyard.linux import inroot

    if not is_empty(volume_data):
        return
    root_fd = posix.open(rootfs, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        try:
            src = inroot.open_in_root(root_fd, destination, posix.O_PATH | posix.O_DIRECTORY)
        except OSError:
            return  # nothing there, or not a directory: an empty volume
        try:
            _copy_tree(f"/proc/self/fd/{src}", volume_data)
        finally:
            posix.close(src)
    finally:
        posix.close(root_fd)


def _copy_tree(src: str, dst: str) -> None:
    """cp -a of ``src``'s contents into the existing directory ``dst``."""
    for entry in posix.scandir(src):
        _copy_entry(entry.path, f"{dst}/{entry.name}")
    _copy_meta(src, dst, posix.stat(src))


def _copy_entry(src: str, dst: str) -> None:
    st = posix.lstat(src)
    kind = st.st_mode & 0o170000
    if kind == 0o040000:
        posix.mkdir(dst, 0o700)
        for entry in posix.scandir(src):
            _copy_entry(entry.path, f"{dst}/{entry.name}")
    elif kind == 0o120000:
        posix.symlink(posix.readlink(src), dst)
        posix.lchown(dst, st.st_uid, st.st_gid)
        return
    elif kind == 0o100000:
        _copy_file(src, dst)
    else:
        posix.mknod(dst, st.st_mode, st.st_rdev)
    _copy_meta(src, dst, st)


def _copy_file(src: str, dst: str) -> None:
    fin = posix.open(src, posix.O_RDONLY | posix.O_CLOEXEC | posix.O_NOFOLLOW)
    try:
        fout = posix.open(
            dst, posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_CLOEXEC, 0o600
        )
        try:
            while posix.sendfile(fout, fin, None, 1 << 30) > 0:
                pass
        finally:
            posix.close(fout)
    finally:
        posix.close(fin)


def _copy_meta(src: str, dst: str, st: posix.stat_result) -> None:
    # chown first: it clears set-id bits, which chmod then restores
    posix.chown(dst, st.st_uid, st.st_gid)
    posix.chmod(dst, st.st_mode & 0o7777)
    posix.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))

"""Snapshots: a container's root filesystem made from an image's layers.

Two drivers behind one interface. ``overlay`` mounts overlayfs with the
image's layer directories as the (shared, read-only) lower dirs and one upper
and work dir per snapshot. ``vfs`` copies the layers, in order, into a
directory of the snapshot's own, applying whiteouts as it goes: slower and
bigger, for hosts where overlayfs cannot be mounted. Layers are stored in
overlayfs's format either way (0:0 character devices for whiteouts, the
``trusted.overlay.opaque`` xattr for opaque directories).

How the engine holds an image's layers: by its snapshot. A container's
snapshot is named by the container's id, and its record
(``snapshots/<id>/snapshot.json``) lists the chain IDs of the layers it
stands on. While the record exists, garbage collection keeps those layers
(gc.py counts them) and ``rmi`` refuses to delete the image (with ``-f`` it
deletes the image record, and the layers stay until the snapshot goes).
Nothing else is needed: no lease outlives the call that makes the snapshot.

`Snapshots.create` runs inside an operation (operations.py) that leases the
layers before it checks they exist, builds the snapshot in the operation's
private directory, and publishes it with a rename under records.lock, where it
also checks that the image still exists (``rmi`` looks for users under the same
lock: one of the two wins, never both). `Snapshots.remove` unmounts and renames
the snapshot away under the same lock, and collects the image's layers if the
image is gone meanwhile (``rmi -f``). A crash leaves the half-made snapshot or
the removed one in the operation's directory, which the next command cleans up.
"""

from __future__ import annotations

import errno
import os
import stat

from dockyard.errors import Conflict, HostError, InvalidArgument, NotFound, Unsupported
from dockyard.linux import libc

from .links import ensure_link
from .operations import Operation, begin
from .store import (
    OPAQUE_XATTR,
    RECORDS_LOCK,
    Damaged,
    Store,
    fsync_dir,
    hex_of,
    read_json,
    remove_tree,
    write_atomic,
    write_new_json,
)

# No pathlib at import (store.py): a container start makes and mounts a snapshot
# with string paths; `upper_dir` and the vfs driver's copy make Paths on demand.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    LayerDirs = Sequence[str | os.PathLike[str]]

OVERLAY, VFS = "overlay", "vfs"
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")  # mount(2) reads its options from one page


class Snapshot:
    """A snapshot's record (snapshot.json). A plain class: ``dataclasses`` costs
    more to import than a container start spends here, and every start makes one."""

    __slots__ = ("driver", "id", "image", "labels", "layers")

    def __init__(
        self,
        id: str,
        image: str,
        layers: list[str],  # chain IDs, base first
        driver: str,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.id = id
        self.image = image
        self.layers = layers
        self.driver = driver
        self.labels = dict(labels or {})

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "image": self.image,
            "layers": list(self.layers),
            "driver": self.driver,
            "labels": dict(self.labels),
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Snapshot({self.to_json()!r})"


def _valid_id(snapshot_id: str) -> str:
    if not snapshot_id or "/" in snapshot_id or snapshot_id.startswith("."):
        raise InvalidArgument(f"invalid snapshot id {snapshot_id!r}")
    return snapshot_id


def overlay_supported(store: Store) -> bool:
    """Try a tiny overlay mount inside the store once."""
    with begin(store) as op:
        probe = op.temp("overlay-probe")
        dirs = [f"{probe}/{n}" for n in ("lower", "upper", "work", "merged")]
        try:
            for d in dirs:
                os.makedirs(d, exist_ok=True)
            data = f"lowerdir={dirs[0]},upperdir={dirs[1]},workdir={dirs[2]}"
            libc.mount("overlay", dirs[3], "overlay", 0, data)
            libc.umount2(dirs[3], libc.MNT_DETACH)
            return True
        except OSError:
            return False


def _snapshot(path: str) -> Snapshot:
    raw = read_json(path)
    try:
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        return Snapshot(**raw)
    except TypeError as exc:
        raise Damaged(path, str(exc)) from None


class Snapshots:
    def __init__(self, store: Store, driver: str | None = None) -> None:
        self.store = store
        self._driver = driver

    @property
    def driver(self) -> str:
        """overlay if this host mounts it, else vfs: probed once per store and kept
        in ``<root>/snapshot-driver`` (the probe, a mount in an operation, costs
        ~10 ms, which every container start would pay)."""
        if self._driver is None:
            known = f"{self.store.path}/snapshot-driver"
            try:
                with open(known, encoding="utf-8") as f:
                    found = f.read().strip()
            except (OSError, ValueError):
                found = ""
            if found not in (OVERLAY, VFS):
                found = OVERLAY if overlay_supported(self.store) else VFS
                try:
                    write_atomic(self.store.root / "snapshot-driver", f"{found}\n".encode())
                except HostError:
                    pass  # a read-only store probes again next time
            self._driver = found
        return self._driver

    def _dir(self, snapshot_id: str) -> str:
        return f"{self.store.path}/snapshots/{_valid_id(snapshot_id)}"

    def all(self) -> list[Snapshot]:
        """Every readable snapshot (damaged ones are left to `damaged`)."""
        found = []
        for entry in os.scandir(f"{self.store.path}/snapshots"):
            try:
                found.append(_snapshot(f"{entry.path}/snapshot.json"))
            except (FileNotFoundError, NotADirectoryError, Damaged):
                continue
        return found

    def damaged(self) -> list[str]:
        """Snapshot directories whose record is missing or unreadable."""
        found = []
        for entry in os.scandir(f"{self.store.path}/snapshots"):
            try:
                _snapshot(f"{entry.path}/snapshot.json")
            except (FileNotFoundError, NotADirectoryError, Damaged):
                found.append(entry.path)
        return found

    def get(self, snapshot_id: str) -> Snapshot:
        try:
            return _snapshot(f"{self._dir(snapshot_id)}/snapshot.json")
        except FileNotFoundError:
            raise NotFound(f"no such snapshot: {snapshot_id}") from None

    def users_of_image(self, image_id: str) -> list[str]:
        """The snapshots (containers) made from an image: the hook ``rmi`` asks."""
        return sorted(s.id for s in self.all() if s.image == image_id)

    def create(
        self, snapshot_id: str, image_id: str, layers: list[str], layer_dirs: LayerDirs
    ) -> str:
        """Make the snapshot and return its root filesystem path (mounted, for overlay)."""
        path = self._dir(snapshot_id)
        if os.path.exists(path):
            raise Conflict(f"snapshot {snapshot_id} exists already")
        driver = self.driver
        dirs = [os.fspath(d) for d in layer_dirs]
        with begin(self.store) as op:
            op.lease(layers=layers)
            for chain_id, diff in zip(layers, dirs, strict=True):
                if not os.path.isfile(f"{os.path.dirname(diff)}/layer.json"):
                    raise NotFound(f"layer {chain_id} of image {image_id} is not in the store")
            work = op.temp("snapshot")
            os.mkdir(work)
            os.mkdir(f"{work}/rootfs")
            if driver == OVERLAY:
                os.mkdir(f"{work}/upper")
                os.mkdir(f"{work}/work")
                _root_like(f"{work}/upper", dirs)  # overlay's root is the upper dir's
            else:
                from pathlib import Path

                for diff in dirs:
                    apply_diff(Path(diff), Path(f"{work}/rootfs"))
                _root_like(f"{work}/rootfs", dirs)
            snapshot = Snapshot(snapshot_id, image_id, list(layers), driver)
            write_new_json(f"{work}/snapshot.json", snapshot.to_json())
            self._publish(op, work, snapshot)
        return self.mount(snapshot_id, dirs)

    def _publish(self, op: Operation, work: str, snapshot: Snapshot) -> None:
        with self.store.locked(RECORDS_LOCK):
            if not os.path.isfile(f"{self.store.path}/images/{hex_of(snapshot.image)}.json"):
                raise NotFound(f"no such image: {snapshot.image}")
            try:
                os.rename(work, self._dir(snapshot.id))
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    raise Conflict(f"snapshot {snapshot.id} exists already") from None
                raise HostError(f"cannot create snapshot {snapshot.id}: {exc}") from exc
            # No fsync of snapshots/ (a container's start pays it, ~3 ms): its record was
            # fsynced before the rename, so a power cut leaves the snapshot whole or
            # absent, and the engine makes an absent one again when it starts the container.

    def mount(self, snapshot_id: str, layer_dirs: LayerDirs) -> str:
        snapshot = self.get(snapshot_id)
        path = self._dir(snapshot_id)
        rootfs = f"{path}/rootfs"
        if snapshot.driver == OVERLAY and not os.path.ismount(rootfs):
            root = self.store.path
            # every path relative to the store root, lowers by their short links
            lowers = [ensure_link(root, d) for d in reversed(layer_dirs)]
            if not layer_dirs:
                os.makedirs(f"{path}/empty", exist_ok=True)
                lowers = [os.path.relpath(f"{path}/empty", root)]
            upper, work = (os.path.relpath(f"{path}/{d}", root) for d in ("upper", "work"))
            data = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}"
            if len(data) >= _PAGE_SIZE:
                raise HostError(
                    f"snapshot {snapshot_id}: {len(layer_dirs)} layers are too many for one "
                    f"overlay mount (its options must fit in {_PAGE_SIZE} bytes)"
                )
            try:
                _mount_from(root, "overlay", rootfs, "overlay", data)
            except OSError as exc:
                raise HostError(f"cannot mount overlay for snapshot {snapshot_id}: {exc}") from exc
        return rootfs

    def upper_dir(self, snapshot_id: str) -> Path:
        """Where an overlay snapshot's changes are: what `differ` reads."""
        if self.get(snapshot_id).driver != OVERLAY:
            raise Unsupported(f"snapshot {snapshot_id} is a copy (vfs): it has no upper dir")
        from pathlib import Path

        return Path(f"{self._dir(snapshot_id)}/upper")

    def unmount(self, snapshot_id: str) -> None:
        rootfs = f"{self._dir(snapshot_id)}/rootfs"
        if os.path.ismount(rootfs):
            libc.umount2(rootfs, libc.MNT_DETACH)

    def remove(self, snapshot_id: str) -> None:
        """Unmount and remove a snapshot; its layers go too if nothing else uses them."""
        path = self._dir(snapshot_id)
        image_gone = False
        with begin(self.store) as op:
            with self.store.locked(RECORDS_LOCK):
                if not os.path.exists(path):
                    raise NotFound(f"no such snapshot: {snapshot_id}")
                try:
                    image = self.get(snapshot_id).image
                    image_gone = not os.path.exists(
                        f"{self.store.path}/images/{hex_of(image)}.json"
                    )
                except (Damaged, NotFound):
                    image_gone = True
                self.unmount(snapshot_id)
                os.rename(path, op.temp("removed-snapshot"))
                fsync_dir(f"{self.store.path}/snapshots")
            if image_gone:  # rmi -f left the layers to this snapshot
                from .gc import collect

                collect(self.store, op)


def _mount_from(cwd: str, source: str, target: str, fstype: str, data: str) -> None:
    """mount(2) with relative paths in ``data`` resolved from ``cwd``. The working
    directory is the process's: callers must not resolve relative paths in other
    threads meanwhile (Dockyard's own paths are absolute)."""
    saved = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.chdir(cwd)
        libc.mount(source, target, fstype, 0, data)
    finally:
        os.fchdir(saved)
        os.close(saved)


def _root_like(root: str, layer_dirs: list[str]) -> None:
    """Give the container's root the image's mode and owner (the top layer's root,
    which inherits its parents'), not what the caller's umask made of a mkdir."""
    mode, uid, gid = 0o755, 0, 0
    if layer_dirs:
        st = os.stat(layer_dirs[-1])
        mode, uid, gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
    try:
        os.chown(root, uid, gid)
    except PermissionError:
        pass  # rootless: the store's owner owns everything
    os.chmod(root, mode)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def apply_diff(diff: Path, dest: Path) -> None:
    """Merge one overlay-format layer directory onto ``dest`` (the vfs driver)."""
    import shutil
    from pathlib import Path

    links: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(diff):
        rel = os.path.relpath(dirpath, diff)
        target_dir = dest if rel == "." else dest / rel
        if rel != "." and _opaque(dirpath) and target_dir.is_dir():
            for child in list(os.scandir(target_dir)):
                remove_tree(Path(child.path))
        for name in list(dirnames) + filenames:
            src = os.path.join(dirpath, name)
            dst = target_dir / name
            st = os.lstat(src)
            if _is_whiteout(st):
                remove_tree(dst)
                continue
            if stat.S_ISDIR(st.st_mode):
                if dst.is_symlink() or (dst.exists() and not dst.is_dir()):
                    remove_tree(dst)
                if not dst.exists():
                    os.mkdir(dst, 0o700)
                _copy_meta(src, dst, st)
                continue
            if dst.is_dir() and not dst.is_symlink():
                remove_tree(dst)
            elif dst.exists() or dst.is_symlink():
                dst.unlink()
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in links:
                os.link(links[key], dst, follow_symlinks=False)
                continue
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISREG(st.st_mode):
                shutil.copyfile(src, dst, follow_symlinks=False)
            else:
                os.mknod(dst, st.st_mode, st.st_rdev)
            _copy_meta(src, dst, st)
            if st.st_nlink > 1:
                links[key] = str(dst)
    # directory times last, since writing inside changed them
    for dirpath, _, _ in os.walk(diff):
        rel = os.path.relpath(dirpath, diff)
        st = os.lstat(dirpath)
        os.utime(dest if rel == "." else dest / rel, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_meta(src: str, dst: Path, st: os.stat_result) -> None:
    link = stat.S_ISLNK(st.st_mode)
    try:
        os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    except PermissionError:
        pass
    if not link:
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        try:
            for attr in os.listxattr(src, follow_symlinks=False):
                if not attr.startswith("trusted.overlay."):
                    os.setxattr(dst, attr, os.getxattr(src, attr, follow_symlinks=False))
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM):
                raise
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)

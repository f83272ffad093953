"""Build the container's filesystem view: mounts, /dev, pivot_root, masks.

Runs inside the container's init process, in its new mount namespace. Every
target is resolved with ``inroot`` against a descriptor of the root, and
mounted through ``/proc/self/fd/N``, so no path from the spec or the image
can land a mount outside the root.
"""

from __future__ import annotations

import _stat
import errno
import posix

from dockyard.errors import HostError, InvalidSpec
from dockyard.linux import fspath, inroot
from dockyard.linux import libc as L
from dockyard.runtime.mountopts import PROPAGATION, MountOptions, locked_flags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.oci.runtime_spec import Device, Mount, Spec

# runc's default devices: (path, major, minor)
DEFAULT_DEVICES = (
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
)
DEV_SYMLINKS = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
)
_NO_SYMLINK_TYPES = ("proc", "sysfs")


def _fail(what: str, exc: OSError) -> HostError:
    return HostError(f"{what}: {exc.strerror or exc}")


def prepare_root(rootfs: str, propagation: str) -> None:
    """Give the mount namespace its propagation and the rootfs a mount of its own.

    ``/`` gets linux.rootfsPropagation (rslave when unset), as runc does. With
    rshared, the copies of the host's shared mounts stay in the host's peer
    groups, so a shared bind made later joins the host's group and mounts made
    in it reach the host (Kubernetes' Bidirectional mounts, for which CRI sets
    rshared). The mount that holds the rootfs is then made private (a slave,
    when a slave propagation was asked for), so that the rootfs bind below
    never appears on the host and pivot_root, which refuses a shared parent,
    accepts it.
    """
    flags = PROPAGATION[propagation] if propagation else L.MS_SLAVE | L.MS_REC
    L.mount(None, "/", None, flags)
    _unshare_mount_of(rootfs, L.MS_SLAVE if flags & L.MS_SLAVE else L.MS_PRIVATE)
    L.mount(rootfs, rootfs, None, L.MS_BIND | L.MS_REC)


def _unshare_mount_of(path: str, flag: int) -> None:
    """Set ``flag`` on the mount ``path`` is on: ``path`` or its nearest ancestor
    that is a mount point (mount(2) says EINVAL for one that is not)."""
    while True:
        try:
            L.mount(None, path, None, flag)
            return
        except OSError as exc:
            if exc.errno != errno.EINVAL or path == "/":
                raise
        path = path.rpartition("/")[0] or "/"


_LOCKABLE = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC


def remount(fd: int, flags: int) -> None:
    """Bind-remount the mount at ``fd`` with ``flags``, keeping the flags it has locked."""
    path = inroot.fd_path(fd)
    keep = 0
    if flags & _LOCKABLE != _LOCKABLE:
        keep = locked_flags(posix.statvfs(path).f_flag) & _LOCKABLE
    L.mount(None, path, None, L.MS_BIND | L.MS_REMOUNT | flags | keep)


def mount_one(
    root_fd: int, mount: Mount, field: str, bundle: str, in_userns: bool, cgroup_ns: bool
) -> None:
    opts = MountOptions(mount.options, f"{field}.options")
    fstype = mount.type or ("bind" if opts.is_bind else "")
    if fstype == "bind" and not opts.is_bind:
        opts.flags |= L.MS_BIND
    if fstype == "cgroup" or fstype == "cgroup2":
        _mount_cgroup(root_fd, mount, opts, cgroup_ns)
        return
    if opts.is_bind:
        source = mount.source if mount.source.startswith("/") else f"{bundle}/{mount.source}"
        try:
            source_is_dir = fspath.isdir(source)
            if not fspath.lexists(source):
                raise InvalidSpec(f"{field}.source", f"{mount.source} does not exist")
        except OSError as exc:
            raise _fail(f"{field}: source {source}", exc) from exc
        target = _target(root_fd, mount.destination, source_is_dir, fstype, field)
        try:
            L.mount(source, inroot.fd_path(target), None, opts.flags & (L.MS_BIND | L.MS_REC))
            extra = opts.flags & ~(L.MS_BIND | L.MS_REC | L.MS_REMOUNT)
            if extra or _unfinished(opts):
                # ``target`` is the directory under the new mount: open the mount.
                posix.close(target)
                target = inroot.open_in_root(root_fd, mount.destination)
                if extra:
                    remount(target, extra)
                _finish(target, opts)
        except OSError as exc:
            raise _fail(f"{field}: bind mount of {source} on {mount.destination}", exc) from exc
        finally:
            posix.close(target)
        return
    target = _target(root_fd, mount.destination, True, fstype, field)
    try:
        L.mount(
            mount.source or fstype, inroot.fd_path(target), fstype, opts.flags, opts.data or None
        )
        if _unfinished(opts):
            posix.close(target)
            target = inroot.open_in_root(root_fd, mount.destination)
            _finish(target, opts)
    except OSError as exc:
        refused = exc.errno in (errno.EPERM, errno.EACCES)
        if (fstype == "mqueue" and refused) or (fstype == "sysfs" and in_userns):
            # Without their namespaces of our own the kernel refuses these; bind the host's.
            _bind_host_fallback(target, fstype, opts)
        else:
            raise _fail(f"{field}: mount {fstype} on {mount.destination}", exc) from exc
    finally:
        posix.close(target)


def _target(root_fd: int, destination: str, is_dir: bool, fstype: str, field: str) -> int:
    try:
        if fstype in _NO_SYMLINK_TYPES:
            # A /proc or /sys that is a symlink in the image is an attack or a broken image.
            try:
                return L.openat2(
                    root_fd,
                    destination.lstrip("/") or ".",
                    posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC,
                    0,
                    L.RESOLVE_IN_ROOT | L.RESOLVE_NO_SYMLINKS,
                )
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise HostError(
                        f"{field}: mount destination {destination} is a symlink; refusing "
                        f"to mount {fstype} there"
                    ) from None
                raise
        if is_dir:
            return inroot.mkdir_all(root_fd, destination)
        return inroot.make_file(root_fd, destination)
    except OSError as exc:
        raise _fail(f"{field}: mount destination {destination}", exc) from exc


def _unfinished(opts: MountOptions) -> bool:
    """Whether ``_finish`` has work left on the mount."""
    return bool(opts.propagation or opts.rec_set or opts.rec_clear)


def _finish(target: int, opts: MountOptions) -> None:
    path = inroot.fd_path(target)
    for flag in opts.propagation:
        L.mount(None, path, None, flag)
    if opts.rec_set or opts.rec_clear:
        L.mount_setattr(target, "", L.AT_EMPTY_PATH | L.AT_RECURSIVE, opts.rec_set, opts.rec_clear)


def _bind_host_fallback(target: int, fstype: str, opts: MountOptions) -> None:
    source = {"mqueue": "/dev/mqueue", "sysfs": "/sys"}[fstype]
    L.mount(source, inroot.fd_path(target), None, L.MS_BIND | L.MS_REC)
    if opts.flags & L.MS_RDONLY:
        remount(target, L.MS_RDONLY)


def _mount_cgroup(root_fd: int, mount: Mount, opts: MountOptions, cgroup_ns: bool) -> None:
    """A cgroup mount: cgroup2 on a unified host; on v1 hosts a tmpfs with a dir per hierarchy.

    Each hierarchy shows the container's own cgroup, never the host's tree: a
    fresh mount inside a cgroup namespace, otherwise a bind of our subtree.
    """
    flags = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC | (opts.flags & ~(L.MS_BIND | L.MS_REC))
    host = _host_cgroup_mounts()
    target = _target(root_fd, mount.destination, True, "cgroup", "cgroup")
    try:
        if any(point == "/sys/fs/cgroup" for point, _, _ in host):
            _mount_hierarchy(
                root_fd,
                mount.destination,
                "cgroup2",
                "",
                "/sys/fs/cgroup",
                _own_cgroups().get("", "/"),
                flags,
                cgroup_ns,
            )
            return
        L.mount("tmpfs", inroot.fd_path(target), "tmpfs", flags & ~L.MS_RDONLY, "mode=755")
        posix.close(target)
        target = -1
        # The new tmpfs, ours alone: each hierarchy's directory is made right in it.
        target = inroot.open_in_root(root_fd, mount.destination, posix.O_PATH | posix.O_DIRECTORY)
        own = _own_cgroups()
        for mountpoint, fstype, options in host:
            name = mountpoint.rsplit("/", 1)[1]
            controllers = ",".join(
                o for o in options.split(",") if o not in ("rw", "ro") and "atime" not in o
            )
            key = "" if fstype == "cgroup2" else controllers
            try:
                posix.mkdir(name, 0o755, dir_fd=target)  # nothing else is in there
            except FileExistsError:
                pass
            _mount_hierarchy(
                target,
                name,
                fstype,
                controllers,
                mountpoint,
                own.get(key, "/"),
                flags,
                cgroup_ns,
            )
        if flags & L.MS_RDONLY:
            remount(target, L.MS_RDONLY | L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC)
    except OSError as exc:
        raise _fail(f"cgroup mount on {mount.destination}", exc) from exc
    finally:
        if target >= 0:
            posix.close(target)


def _mount_hierarchy(
    parent_fd: int,
    destination: str,
    fstype: str,
    controllers: str,
    host_mountpoint: str,
    own_path: str,
    flags: int,
    cgroup_ns: bool,
) -> None:
    """Mount one hierarchy on ``destination``, resolved inside ``parent_fd``."""
    target = inroot.mkdir_all(parent_fd, destination)
    try:
        if cgroup_ns:
            L.mount(
                "cgroup",
                inroot.fd_path(target),
                fstype,
                flags,
                controllers if fstype == "cgroup" else None,
            )
            return
        L.mount(host_mountpoint + own_path, inroot.fd_path(target), None, L.MS_BIND | L.MS_REC)
        posix.close(target)
        target = inroot.open_in_root(parent_fd, destination)
        remount(target, flags)
    finally:
        posix.close(target)


def _host_cgroup_mounts() -> list[tuple[str, str, str]]:
    """(mountpoint, fstype, super options) of the host's cgroup hierarchies."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _, rest = right.partition(" ")
            if fstype not in ("cgroup", "cgroup2"):
                continue
            mountpoint = left.split(" ")[4]
            if mountpoint.startswith("/sys/fs/cgroup"):
                found.append((mountpoint, fstype, rest.split()[1]))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per hierarchy, keyed by controller list ('' for v2)."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            own[controllers] = path
    return own


# ---------------------------------------------------------------- /dev


def make_devices(root_fd: int, devices: list[Device], in_userns: bool) -> None:
    """The default devices and linux.devices; bind mounts where mknod is not allowed."""
    wanted: list[tuple[str, str, int, int, int, int | None, int | None]] = [
        (path, "c", major, minor, 0o666, 0, 0) for path, major, minor in DEFAULT_DEVICES
    ]
    for d in devices:
        wanted = [w for w in wanted if w[0] != d.path]
        mode = d.file_mode if d.file_mode is not None else 0o666
        wanted.append((d.path, d.type, d.major, d.minor, mode, d.uid, d.gid))
    parents: dict[str, int] = {}  # opened once for all the devices they hold
    try:
        for path, kind, major, minor, mode, uid, gid in wanted:
            parent_path, _, name = path.rpartition("/")
            try:
                parent = parents.get(parent_path)
                if parent is None:
                    parent = parents[parent_path] = inroot.mkdir_all(root_fd, parent_path or "/")
                _make_device(
                    root_fd, parent, path, name, kind, major, minor, mode, uid, gid, in_userns
                )
            except OSError as exc:
                raise _fail(f"device {path}", exc) from exc
    finally:
        for fd in parents.values():
            posix.close(fd)


def _make_device(
    root_fd: int,
    parent: int,
    path: str,
    name: str,
    kind: str,
    major: int,
    minor: int,
    mode: int,
    uid: int | None,
    gid: int | None,
    in_userns: bool,
) -> None:
    if in_userns and kind != "p":
        # mknod is not allowed in a user namespace: bind the host's node instead.
        target = inroot.make_file(root_fd, path)
        try:
            L.mount(path, inroot.fd_path(target), None, L.MS_BIND)
        finally:
            posix.close(target)
        return
    type_bits = {
        "c": _stat.S_IFCHR,
        "u": _stat.S_IFCHR,
        "b": _stat.S_IFBLK,
        "p": _stat.S_IFIFO,
    }[kind]
    node = type_bits | (mode & 0o7777)
    try:
        posix.mknod(name, node, posix.makedev(major, minor), dir_fd=parent)
    except FileExistsError:
        try:
            posix.unlink(name, dir_fd=parent)  # a file the image put there is replaced
        except IsADirectoryError:
            raise OSError(errno.EISDIR, "a directory is in the way", path) from None
        posix.mknod(name, node, posix.makedev(major, minor), dir_fd=parent)
    posix.chmod(name, mode & 0o7777, dir_fd=parent)  # mknod honours the umask; we do not
    if uid is not None or gid is not None:
        posix.chown(
            name,
            uid if uid is not None else -1,
            gid if gid is not None else -1,
            dir_fd=parent,
            follow_symlinks=False,
        )


def make_dev_links(root_fd: int, has_devpts: bool) -> None:
    links = list(DEV_SYMLINKS)
    if has_devpts:
        links.append(("pts/ptmx", "/dev/ptmx"))
    if fspath.exists("/proc/kcore"):
        links.append(("/proc/kcore", "/dev/core"))
    parent = inroot.mkdir_all(root_fd, "/dev")
    try:
        for target, link in links:
            name = link.rsplit("/", 1)[1]
            try:
                if link == "/dev/ptmx":
                    try:
                        posix.unlink(name, dir_fd=parent)
                    except FileNotFoundError:
                        pass
                posix.symlink(target, name, dir_fd=parent)
            except FileExistsError:
                pass
            except OSError as exc:
                raise _fail(f"symlink {link}", exc) from exc
    finally:
        posix.close(parent)


# ---------------------------------------------------------------- pivot and after


def pivot_into(rootfs: str, no_pivot: bool) -> None:
    """Make ``rootfs`` the process's root and detach the host's mounts from view."""
    if no_pivot:
        posix.chdir(rootfs)
        L.mount(rootfs, "/", None, L.MS_MOVE)
        posix.chroot(".")
        posix.chdir("/")
        return
    old_root = posix.open("/", posix.O_DIRECTORY | posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        posix.chdir(rootfs)
        # pivot_root(".", ".") stacks the old root on top of the new one, where
        # it can be unmounted without a directory to hold it (runc's trick).
        L.pivot_root(".", ".")
        posix.fchdir(old_root)
        L.mount(None, ".", None, L.MS_SLAVE | L.MS_REC)  # the unmount must not reach the host
        L.umount2(".", L.MNT_DETACH)
    finally:
        posix.close(old_root)
    posix.chdir("/")


def set_propagation(propagation: str) -> None:
    """linux.rootfsPropagation on the new root, after the pivot (before it, a shared
    root would be the host's). private and slave were applied in prepare_root:
    applying them again would undo the propagation of shared bind mounts."""
    flags = PROPAGATION[propagation]
    if not flags & (L.MS_PRIVATE | L.MS_SLAVE):
        L.mount(None, "/", None, flags)


def mask_paths(root_fd: int, paths: list[str]) -> None:
    for path in paths:
        try:
            fd = inroot.open_in_root(root_fd, path)
        except FileNotFoundError:
            continue
        try:
            if inroot.is_dir(fd):
                L.mount("tmpfs", inroot.fd_path(fd), "tmpfs", L.MS_RDONLY, "size=0k")
            else:
                L.mount("/dev/null", inroot.fd_path(fd), None, L.MS_BIND)
        except OSError as exc:
            raise _fail(f"masking {path}", exc) from exc
        finally:
            posix.close(fd)


def readonly_paths(root_fd: int, paths: list[str]) -> None:
    for path in paths:
        try:
            fd = inroot.open_in_root(root_fd, path)
        except FileNotFoundError:
            continue
        try:
            L.mount(inroot.fd_path(fd), inroot.fd_path(fd), None, L.MS_BIND | L.MS_REC)
            posix.close(fd)
            fd = inroot.open_in_root(root_fd, path)
            remount(fd, L.MS_RDONLY | L.MS_REC)
        except OSError as exc:
            raise _fail(f"making {path} read-only", exc) from exc
        finally:
            posix.close(fd)


def readonly_root() -> None:
    fd = posix.open("/", posix.O_PATH | posix.O_CLOEXEC)
    try:
        remount(fd, L.MS_RDONLY)
    except OSError as exc:
        raise _fail("making the root read-only", exc) from exc
    finally:
        posix.close(fd)


def write_sysctls(spec: Spec) -> None:
    for key, value in spec.linux.sysctl.items():
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError as exc:
            raise _fail(f"linux.sysctl.{key}", exc) from exc

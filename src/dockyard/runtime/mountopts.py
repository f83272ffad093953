"""Mount options of the runtime spec, split the way mount(2) wants them."""

from __future__ import annotations

from dockyard.errors import Unsupported
from dockyard.linux import libc as L

# option → (flags to set, flags to clear)
FLAGS: dict[str, tuple[int, int]] = {
    "defaults": (0, 0),
    "ro": (L.MS_RDONLY, 0),
    "rw": (0, L.MS_RDONLY),
    "nosuid": (L.MS_NOSUID, 0),
    "suid": (0, L.MS_NOSUID),
    "nodev": (L.MS_NODEV, 0),
    "dev": (0, L.MS_NODEV),
    "noexec": (L.MS_NOEXEC, 0),
    "exec": (0, L.MS_NOEXEC),
    "sync": (L.MS_SYNCHRONOUS, 0),
    "async": (0, L.MS_SYNCHRONOUS),
    "dirsync": (L.MS_DIRSYNC, 0),
    "mand": (L.MS_MANDLOCK, 0),
    "nomand": (0, L.MS_MANDLOCK),
    "noatime": (L.MS_NOATIME, 0),
    "atime": (0, L.MS_NOATIME),
    "nodiratime": (L.MS_NODIRATIME, 0),
    "diratime": (0, L.MS_NODIRATIME),
    "relatime": (L.MS_RELATIME, 0),
    "norelatime": (0, L.MS_RELATIME),
    "strictatime": (L.MS_STRICTATIME, 0),
    "nostrictatime": (0, L.MS_STRICTATIME),
    "lazytime": (L.MS_LAZYTIME, 0),
    "nolazytime": (0, L.MS_LAZYTIME),
    "nosymfollow": (L.MS_NOSYMFOLLOW, 0),
    "symfollow": (0, L.MS_NOSYMFOLLOW),
    "silent": (L.MS_SILENT, 0),
    "loud": (0, L.MS_SILENT),
    "bind": (L.MS_BIND, 0),
    "rbind": (L.MS_BIND | L.MS_REC, 0),
    "remount": (L.MS_REMOUNT, 0),
    "iversion": (1 << 23, 0),
    "noiversion": (0, 1 << 23),
    "acl": (1 << 16, 0),
    "noacl": (0, 1 << 16),
}

PROPAGATION: dict[str, int] = {
    "private": L.MS_PRIVATE,
    "rprivate": L.MS_PRIVATE | L.MS_REC,
    "shared": L.MS_SHARED,
    "rshared": L.MS_SHARED | L.MS_REC,
    "slave": L.MS_SLAVE,
    "rslave": L.MS_SLAVE | L.MS_REC,
    "unbindable": L.MS_UNBINDABLE,
    "runbindable": L.MS_UNBINDABLE | L.MS_REC,
}

# recursive option → (attributes to set, attributes to clear), applied with mount_setattr
RECURSIVE: dict[str, tuple[int, int]] = {
    "rro": (L.MOUNT_ATTR_RDONLY, 0),
    "rrw": (0, L.MOUNT_ATTR_RDONLY),
    "rnosuid": (L.MOUNT_ATTR_NOSUID, 0),
    "rsuid": (0, L.MOUNT_ATTR_NOSUID),
    "rnodev": (L.MOUNT_ATTR_NODEV, 0),
    "rdev": (0, L.MOUNT_ATTR_NODEV),
    "rnoexec": (L.MOUNT_ATTR_NOEXEC, 0),
    "rexec": (0, L.MOUNT_ATTR_NOEXEC),
    "rnodiratime": (L.MOUNT_ATTR_NODIRATIME, 0),
    "rdiratime": (0, L.MOUNT_ATTR_NODIRATIME),
    "rrelatime": (L.MOUNT_ATTR_RELATIME, L.MOUNT_ATTR__ATIME),
    "rnorelatime": (0, 0),
    "rnoatime": (L.MOUNT_ATTR_NOATIME, L.MOUNT_ATTR__ATIME),
    "ratime": (0, L.MOUNT_ATTR_NOATIME),
    "rstrictatime": (L.MOUNT_ATTR_STRICTATIME, L.MOUNT_ATTR__ATIME),
    "rnostrictatime": (0, 0),
    "rnosymfollow": (L.MOUNT_ATTR_NOSYMFOLLOW, 0),
    "rsymfollow": (0, L.MOUNT_ATTR_NOSYMFOLLOW),
}

UNSUPPORTED = ("idmap", "ridmap", "tmpcopyup")

# statvfs f_flag bits → the mount flags a bind remount must keep (the kernel
# refuses to clear flags that are locked, e.g. inside a user namespace)
_STATVFS_TO_MS = (
    (1, L.MS_RDONLY),
    (2, L.MS_NOSUID),
    (4, L.MS_NODEV),
    (8, L.MS_NOEXEC),
    (1024, L.MS_NOATIME),
    (2048, L.MS_NODIRATIME),
    (4096, L.MS_RELATIME),
)


class MountOptions:
    __slots__ = ("clear", "data", "flags", "propagation", "rec_clear", "rec_set")

    def __init__(self, options: list[str], field: str) -> None:
        self.flags = 0
        self.clear = 0
        self.propagation: list[int] = []
        self.rec_set = 0
        self.rec_clear = 0
        data: list[str] = []
        for option in options:
            if option in FLAGS:
                set_bits, clear_bits = FLAGS[option]
                self.flags = (self.flags | set_bits) & ~clear_bits
                self.clear |= clear_bits
            elif option in PROPAGATION:
                self.propagation.append(PROPAGATION[option])
            elif option in RECURSIVE:
                set_attr, clear_attr = RECURSIVE[option]
                self.rec_set |= set_attr
                self.rec_clear |= clear_attr
            elif option in UNSUPPORTED:
                raise Unsupported(f"{field}: mount option {option!r} is not supported")
            else:
                data.append(option)
        self.data = ",".join(data)

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & L.MS_BIND)


def locked_flags(stat_flags: int) -> int:
    """The mount flags of an existing mount, from statvfs().f_flag."""
    flags = 0
    for bit, ms in _STATVFS_TO_MS:
        if stat_flags & bit:
            flags |= ms
    return flags

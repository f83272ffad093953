"""Who the container's process runs as: ``-u``/the image's User through the image's own files.

Names are looked up in the container's /etc/passwd and /etc/group, read
with openat2(RESOLVE_IN_ROOT) from the root filesystem: an image whose
/etc/passwd is a symlink to the host's ``/etc/shadow`` (or any path out of
the root) reads its own file or nothing, never the host's.
"""

from __future__ import annotations

import posix

from dockyard.engine.record import field, record
from dockyard.errors import InvalidArgument, NotFound

MAX_FILE = 4 << 20  # an /etc/passwd larger than this is not one


@record
class ProcessUser:
    uid: int
    gid: int
    additional_gids: list[int] = field(default_factory=list)
    home: str = "/"


def read_in_root(rootfs: str, path: str) -> str:
    """A small text file of the container's, "" if it is missing or not a regular file."""
    from dockyard.linux import inroot

    try:
        root_fd = posix.open(rootfs, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError:
        return ""
    try:
        fd = inroot.open_in_root(
            root_fd, path, posix.O_RDONLY | posix.O_NOFOLLOW | posix.O_NONBLOCK
        )
    except OSError:
        return ""
    finally:
        posix.close(root_fd)
    try:
        if posix.fstat(fd).st_mode & 0o170000 != 0o100000:
            return ""
        data = posix.read(fd, MAX_FILE)
    except OSError:
        return ""
    finally:
        posix.close(fd)
    return data.decode("utf-8", errors="replace")


def _entries(text: str) -> list[list[str]]:
    return [ln.split(":") for ln in text.splitlines() if ln and not ln.startswith("#")]


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def resolve(spec: str, passwd: str, group: str, group_add: list[str] | None = None) -> ProcessUser:
    """``user``, ``uid``, ``user:group``, ``uid:gid`` (and ``--group-add``) -> ids and home."""
    user_part, _, group_part = (spec or "0").partition(":")
    uid = _number(user_part)
    entry = None
    for fields in _entries(passwd):
        if len(fields) >= 4 and fields[0 if uid is None else 2] == user_part:
            entry = fields
            break
    if uid is None:
        if entry is None:
            raise NotFound(f"unable to find user {user_part}: no matching entries in passwd file")
        uid = _number(entry[2])
        if uid is None:
            raise InvalidArgument(f"the image's /etc/passwd has a bad uid for {user_part}")
    gid = _number(entry[3]) if entry is not None else 0
    gid = gid if gid is not None else 0
    home = entry[5] if entry is not None and len(entry) > 5 and entry[5] else "/"
    name = entry[0] if entry is not None else ""
    groups = _entries(group)
    if group_part:
        found = _number(group_part)
        if found is None:
            found = _group_id(group_part, groups)
        gid = found
    # Docker's daemon lists the primary group among the additional ones too (`id` in
    # its containers says groups=0(root) for root), then the groups that name the user
    # (only when no group was given), then --group-add.
    extra: list[int] = [gid]
    if name and not group_part:
        for fields in groups:
            if len(fields) >= 4 and name in fields[3].split(","):
                number = _number(fields[2])
                if number is not None and number not in extra:
                    extra.append(number)
    for item in group_add or []:
        number = _number(item)
        if number is None:
            number = _group_id(item, groups)
        if number not in extra:
            extra.append(number)
    if uid > 0xFFFFFFFE or gid > 0xFFFFFFFE:
        raise InvalidArgument(f"user {spec!r}: uid or gid out of range")
    return ProcessUser(uid, gid, extra, home)


def _group_id(name: str, groups: list[list[str]]) -> int:
    for fields in groups:
        if len(fields) >= 3 and fields[0] == name:
            number = _number(fields[2])
            if number is not None:
                return number
    raise NotFound(f"unable to find group {name}: no matching entries in group file")

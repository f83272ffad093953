"""bpf(2) maps: make one, find one by id, read, write and walk its entries.

Keys and values are the raw bytes of the C structs the program reads. Every
function raises ``OSError(errno, message)`` as ``os`` does; a missing key is
``None`` or False rather than an error.
"""

from __future__ import annotations

from dockyard.linux import libc
from dockyard.linux.bpf import _attr

# enum bpf_cmd
BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_MAP_GET_NEXT_KEY = 4
BPF_MAP_GET_FD_BY_ID = 14
# enum bpf_map_type
BPF_MAP_TYPE_HASH = 1
BPF_MAP_TYPE_ARRAY = 2
BPF_MAP_TYPE_LRU_HASH = 9

_ENOENT = 2


def create(map_type: int, key_size: int, value_size: int, max_entries: int, name: bytes) -> int:
    """A new map; returns its fd."""
    attr = _attr(
        (map_type, 4),
        (key_size, 4),
        (value_size, 4),
        (max_entries, 4),
        (0, 4),  # map_flags
        (0, 4),  # inner_map_fd
        (0, 4),  # numa_node
        name[:15].ljust(16, b"\0"),
    )
    return libc.bpf(BPF_MAP_CREATE, attr)


def get_fd_by_id(map_id: int) -> int:
    return libc.bpf(BPF_MAP_GET_FD_BY_ID, _attr((map_id, 4)))


def _elem(command: int, map_fd: int, key: bytes, value: object, flags: int = 0) -> None:
    key_buf = libc.c_buffer(key)
    attr = _attr(
        (map_fd, 4),
        (0, 4),
        (libc.address_of(key_buf), 8),
        (libc.address_of(value) if value is not None else 0, 8),  # type: ignore[arg-type]
        (flags, 8),
    )
    libc.bpf(command, attr)


def update(map_fd: int, key: bytes, value: bytes) -> None:
    _elem(BPF_MAP_UPDATE_ELEM, map_fd, key, libc.c_buffer(value))


def lookup(map_fd: int, key: bytes, value_size: int) -> bytes | None:
    out = libc.c_buffer(value_size)
    try:
        _elem(BPF_MAP_LOOKUP_ELEM, map_fd, key, out)
    except OSError as exc:
        if exc.errno == _ENOENT:
            return None
        raise
    return out.raw


def delete(map_fd: int, key: bytes) -> bool:
    """Remove ``key``; False if it was not there."""
    try:
        _elem(BPF_MAP_DELETE_ELEM, map_fd, key, None)
    except OSError as exc:
        if exc.errno == _ENOENT:
            return False
        raise
    return True


def keys(map_fd: int, key_size: int) -> list[bytes]:
    """Every key of a hash map (a snapshot: entries may come and go meanwhile)."""
    out: list[bytes] = []
    key_buf = libc.c_buffer(bytes(key_size))
    next_buf = libc.c_buffer(bytes(key_size))
    first = True
    while len(out) < 1 << 20:
        attr = _attr(
            (map_fd, 4),
            (0, 4),
            (0 if first else libc.address_of(key_buf), 8),
            (libc.address_of(next_buf), 8),
        )
        try:
            libc.bpf(BPF_MAP_GET_NEXT_KEY, attr)
        except OSError as exc:
            if exc.errno == _ENOENT:
                break
            raise
        first = False
        out.append(next_buf.raw)
        key_buf = libc.c_buffer(next_buf.raw)
    return out

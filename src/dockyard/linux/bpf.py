"""bpf(2) for cgroup programs: load one, attach it, list, find and detach them.

What cgroup v2 device filters (BPF_PROG_TYPE_CGROUP_DEVICE) and the
published ports' connect-time redirect (BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
linux/bpf_map.py for its maps) need. Every function raises
``OSError(errno, message)`` on failure, as ``os`` does; a program the verifier
rejects carries the tail of the verifier's log in its message.
"""

from __future__ import annotations

from dockyard.linux import libc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctypes import Array, c_char

# (``ctypes`` itself costs ~8 ms to import; libc's C-core bindings do.)

# enum bpf_cmd
BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_QUERY = 16
# enum bpf_prog_type, enum bpf_attach_type
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18
BPF_CGROUP_DEVICE = 6
BPF_CGROUP_INET4_CONNECT = 10
BPF_CGROUP_INET4_GETPEERNAME = 29
# attach flags
BPF_F_ALLOW_MULTI = 2

_ATTR_SIZE = 128  # bigger than any attr used here; the kernel wants the tail zeroed
_LOG_SIZE = 1 << 16
_EINVAL, _EACCES, _ENOSPC = 22, 13, 28


def _attr(*fields: tuple[int, int] | bytes) -> Array[c_char]:
    """A zero-padded ``union bpf_attr`` from its fields in order: (value, size in
    bytes) for integers, bytes as they are."""
    raw = b"".join(
        field if isinstance(field, bytes) else field[0].to_bytes(field[1], "little")
        for field in fields
    )
    return libc.c_buffer(raw.ljust(_ATTR_SIZE, b"\0"))


def _u32(raw: bytes, offset: int) -> int:
    return int.from_bytes(raw[offset : offset + 4], "little")


def prog_load_cgroup_device(instructions: bytes, name: bytes = b"dockyard_dev") -> int:
    """Load a cgroup device program (8-byte ``struct bpf_insn`` each); returns its fd."""
    return prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, instructions, name)


def prog_load(prog_type: int, instructions: bytes, name: bytes, attach_type: int = 0) -> int:
    """Load a program (8-byte ``struct bpf_insn`` each) for ``attach_type``; returns its fd."""
    if not instructions or len(instructions) % 8:
        raise OSError(_EINVAL, "a BPF program is a non-empty array of 8-byte instructions")
    code = libc.c_buffer(instructions)
    license = libc.c_buffer(b"Apache\0")
    for log_level in (0, 1):
        log = libc.c_buffer(_LOG_SIZE if log_level else 1)
        attr = _attr(
            (prog_type, 4),
            (len(instructions) // 8, 4),
            (libc.address_of(code), 8),
            (libc.address_of(license), 8),
            (log_level, 4),
            (_LOG_SIZE if log_level else 0, 4),
            (libc.address_of(log) if log_level else 0, 8),
            (0, 4),  # kern_version
            (0, 4),  # prog_flags
            name[:15].ljust(16, b"\0"),  # prog_name
            (0, 4),  # prog_ifindex
            (attach_type, 4),  # expected_attach_type
        )
        try:
            return libc.bpf(BPF_PROG_LOAD, attr)
        except OSError as exc:
            if log_level == 0 and exc.errno in (_EINVAL, _EACCES):
                continue  # load again with the verifier's log to say why
            text = log.raw.split(b"\0", 1)[0].decode(errors="replace").strip()
            if text:
                raise OSError(exc.errno, f"{exc.strerror}; verifier: {text[-1000:]}") from None
            raise
    raise AssertionError("unreachable")


def prog_attach(target_fd: int, prog_fd: int, attach_type: int, flags: int) -> None:
    libc.bpf(BPF_PROG_ATTACH, _attr((target_fd, 4), (prog_fd, 4), (attach_type, 4), (flags, 4)))


def prog_detach(target_fd: int, prog_fd: int, attach_type: int) -> None:
    libc.bpf(BPF_PROG_DETACH, _attr((target_fd, 4), (prog_fd, 4), (attach_type, 4), (0, 4)))


def prog_query(target_fd: int, attach_type: int) -> list[int]:
    """Ids of the programs attached to ``target_fd`` (a cgroup directory fd)."""
    count = 16
    while True:
        ids = libc.c_buffer(4 * count)
        attr = _attr(
            (target_fd, 4),
            (attach_type, 4),
            (0, 4),  # query_flags
            (0, 4),  # attach_flags (out)
            (libc.address_of(ids), 8),
            (count, 4),  # prog_cnt (in: room, out: how many)
        )
        try:
            libc.bpf(BPF_PROG_QUERY, attr)
        except OSError as exc:
            if exc.errno != _ENOSPC:
                raise
            count = _u32(attr.raw, 24)
            continue
        found = _u32(attr.raw, 24)
        raw = ids.raw
        return [_u32(raw, 4 * i) for i in range(found)]


def prog_get_fd_by_id(prog_id: int) -> int:
    return libc.bpf(BPF_PROG_GET_FD_BY_ID, _attr((prog_id, 4)))


def _info(fd: int, size: int, *fields: tuple[int, int]) -> bytes:
    """``struct bpf_*_info`` of the object at ``fd``; ``fields`` are (offset, u64 value)
    pairs to set first (where the kernel is asked to copy arrays)."""
    raw = bytearray(size)
    for offset, value in fields:
        raw[offset : offset + 8] = value.to_bytes(8, "little")
    info = libc.c_buffer(bytes(raw))
    libc.bpf(BPF_OBJ_GET_INFO_BY_FD, _attr((fd, 4), (size, 4), (libc.address_of(info), 8)))
    return info.raw


def prog_info(prog_fd: int) -> tuple[bytes, list[int]]:
    """(name, ids of the maps it uses) of a loaded program."""
    ids = libc.c_buffer(4 * 8)
    # struct bpf_prog_info: nr_map_ids at 52 (u32), map_ids at 56 (u64), name at 64
    raw = _info(prog_fd, 232, (48, 8 << 32), (56, libc.address_of(ids)))
    count = min(_u32(raw, 52), 8)
    name = raw[64:80].split(b"\0", 1)[0]
    return name, [_u32(ids.raw, 4 * i) for i in range(count)]


def map_info(map_fd: int) -> tuple[bytes, int]:
    """(name, id) of a map."""
    raw = _info(map_fd, 88)  # struct bpf_map_info: id at 4, name at 24
    return raw[24:40].split(b"\0", 1)[0], _u32(raw, 4)

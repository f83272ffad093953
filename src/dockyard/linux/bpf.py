"""bpf(2) for cgroup v2 device filters: load a program, attach it, list and detach.

Only what a BPF_PROG_TYPE_CGROUP_DEVICE program needs. Every function raises
``OSError(errno, message)`` on failure, as ``os`` does; a program the verifier
rejects carries the tail of the verifier's log in its message.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}.get(
    os.uname().machine, 321
)

# enum bpf_cmd
BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_GET_FD_BY_ID = 13
BPF_PROG_QUERY = 16
# enum bpf_prog_type, enum bpf_attach_type
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
# attach flags
BPF_F_ALLOW_MULTI = 2

_ATTR_SIZE = 128  # bigger than any attr used here; the kernel wants the tail zeroed
_LOG_SIZE = 1 << 16


def _bpf(cmd: int, attr: ctypes.Array[ctypes.c_char]) -> int:
    result = _syscall(ctypes.c_long(_BPF), ctypes.c_long(cmd), attr, ctypes.c_long(len(attr)))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(result)


def prog_load_cgroup_device(instructions: bytes, name: bytes = b"dockyard_dev") -> int:
    """Load a cgroup device program (8-byte ``struct bpf_insn`` each); returns its fd."""
    if not instructions or len(instructions) % 8:
        raise OSError(errno.EINVAL, "a BPF program is a non-empty array of 8-byte instructions")
    code = ctypes.create_string_buffer(instructions, len(instructions))
    license = ctypes.create_string_buffer(b"Apache")
    for log_level in (0, 1):
        log = ctypes.create_string_buffer(_LOG_SIZE if log_level else 1)
        attr = ctypes.create_string_buffer(_ATTR_SIZE)
        struct.pack_into(
            "<IIQQIIQII16s",
            attr,
            0,
            BPF_PROG_TYPE_CGROUP_DEVICE,
            len(instructions) // 8,
            ctypes.addressof(code),
            ctypes.addressof(license),
            log_level,
            _LOG_SIZE if log_level else 0,
            ctypes.addressof(log) if log_level else 0,
            0,  # kern_version
            0,  # prog_flags
            name[:15],
        )
        try:
            return _bpf(BPF_PROG_LOAD, attr)
        except OSError as exc:
            if log_level == 0 and exc.errno in (errno.EINVAL, errno.EACCES):
                continue  # load again with the verifier's log to say why
            text = log.value.decode(errors="replace").strip()
            if text:
                raise OSError(exc.errno, f"{exc.strerror}; verifier: {text[-1000:]}") from None
            raise
    raise AssertionError("unreachable")


def prog_attach(target_fd: int, prog_fd: int, attach_type: int, flags: int) -> None:
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into("<IIII", attr, 0, target_fd, prog_fd, attach_type, flags)
    _bpf(BPF_PROG_ATTACH, attr)


def prog_detach(target_fd: int, prog_fd: int, attach_type: int) -> None:
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into("<IIII", attr, 0, target_fd, prog_fd, attach_type, 0)
    _bpf(BPF_PROG_DETACH, attr)


def prog_query(target_fd: int, attach_type: int) -> list[int]:
    """Ids of the programs attached to ``target_fd`` (a cgroup directory fd)."""
    count = 16
    while True:
        ids = (ctypes.c_uint32 * count)()
        attr = ctypes.create_string_buffer(_ATTR_SIZE)
        struct.pack_into(
            "<IIIIQI", attr, 0, target_fd, attach_type, 0, 0, ctypes.addressof(ids), count
        )
        try:
            _bpf(BPF_PROG_QUERY, attr)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            count = struct.unpack_from("<I", attr, 24)[0]
            continue
        found = struct.unpack_from("<I", attr, 24)[0]
        return list(ids[:found])


def prog_get_fd_by_id(prog_id: int) -> int:
    attr = ctypes.create_string_buffer(_ATTR_SIZE)
    struct.pack_into("<I", attr, 0, prog_id)
    return _bpf(BPF_PROG_GET_FD_BY_ID, attr)

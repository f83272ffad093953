"""libseccomp (dlopened through ctypes' C core) and the seccomp(2) system call.

libseccomp knows every architecture's syscall table and turns rules into a
classic BPF program; we export that program and load it ourselves with
seccomp(2), so that any filter flag the kernel has can be passed (libseccomp
2.5 knows no WAIT_KILLABLE_RECV) and a stub can be put in front of it.

libseccomp returns ``-errno``; like the rest of ``linux/`` these bindings
raise ``OSError`` instead. Only containers whose spec has ``linux.seccomp``
load this module, and they must call `load_library` before leaving the
host's root (the library is mapped then, and used later from inside).
"""

from __future__ import annotations

import _ctypes
import posix
import sys

from dockyard.linux import syscalls
from dockyard.linux.libc import _buffer, _check, _Function, _Int, _Long, _syscall, _UInt, _ULong

# Kernel values, from linux/seccomp.h.
SECCOMP_SET_MODE_FILTER = 1
FILTER_FLAG_TSYNC = 1 << 0
FILTER_FLAG_LOG = 1 << 1
FILTER_FLAG_SPEC_ALLOW = 1 << 2
FILTER_FLAG_NEW_LISTENER = 1 << 3
FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5

RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_USER_NOTIF = 0x7FC00000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000

# libseccomp's filter attributes (enum scmp_filter_attr)
ATTR_CTL_OPTIMIZE = 8

#: libseccomp's x32 token is not an AUDIT_ARCH value: x32 runs as x86_64
#: with bit 30 set in the syscall number.
ARCH_X32 = 0x4000003E
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

NR_SCMP_ERROR = -1

_POINTER_SIZE = 8 if sys.maxsize > 2**32 else 4
_ORDER = sys.byteorder

_lib: dict[str, _Function] = {}
_NAMES = (
    "seccomp_init",
    "seccomp_release",
    "seccomp_arch_add",
    "seccomp_arch_native",
    "seccomp_arch_resolve_name",
    "seccomp_attr_set",
    "seccomp_syscall_resolve_name",
    "seccomp_syscall_resolve_name_arch",
    "seccomp_rule_add_array",
    "seccomp_export_bpf",
    "seccomp_version",
)
_RESTYPES = {
    "seccomp_init": _ULong,
    "seccomp_arch_native": _UInt,
    "seccomp_arch_resolve_name": _UInt,
    "seccomp_version": _ULong,
}


def load_library() -> None:
    """dlopen libseccomp.so.2 (Debian's libseccomp2); OSError if it is missing."""
    if _lib:
        return
    try:
        handle = _ctypes.dlopen("libseccomp.so.2", 2)  # RTLD_NOW
    except OSError as exc:
        raise OSError(2, f"cannot load libseccomp.so.2 (install libseccomp2): {exc}") from None
    for name in _NAMES:
        fn = _Function(_ctypes.dlsym(handle, name))
        fn.restype = _RESTYPES.get(name, _Int)
        _lib[name] = fn


class _Version(_ctypes.Array):  # type: ignore[type-arg]
    _type_ = _UInt  # struct scmp_version: major, minor, micro
    _length_ = 3


def library_version() -> tuple[int, int, int]:
    load_library()
    version = _Version.from_address(_lib["seccomp_version"]())
    return int(version[0]), int(version[1]), int(version[2])


def _ok(rc: int, what: str) -> int:
    if rc < 0:
        raise OSError(-rc, f"{what}: {posix.strerror(-rc)}")
    return rc


def native_arch() -> int:
    return int(_lib["seccomp_arch_native"]())


def resolve_arch(name: str) -> int:
    """libseccomp's token for an arch name ("x86_64", "aarch64"...); 0 if unknown."""
    return int(_lib["seccomp_arch_resolve_name"](name.encode()))


def resolve_syscall(name: str, arch: int = 0) -> int:
    """The syscall's number on ``arch`` (0: native), a negative pseudo number for a
    syscall this arch multiplexes, or NR_SCMP_ERROR when the name is unknown."""
    if arch:
        return int(_lib["seccomp_syscall_resolve_name_arch"](_UInt(arch), name.encode()))
    return int(_lib["seccomp_syscall_resolve_name"](name.encode()))


class Filter:
    """A libseccomp filter context; `release` it when done."""

    __slots__ = ("_ctx",)

    def __init__(self, default_action: int) -> None:
        ctx = int(_lib["seccomp_init"](_UInt(default_action)))
        if not ctx:
            raise OSError(22, "seccomp_init refused the default action")
        self._ctx = ctx

    def add_arch(self, token: int) -> None:
        rc = _lib["seccomp_arch_add"](_ULong(self._ctx), _UInt(token))
        if rc != -17:  # EEXIST: the native arch is always there
            _ok(rc, "seccomp_arch_add")

    def set_attr(self, attr: int, value: int) -> None:
        _ok(
            _lib["seccomp_attr_set"](_ULong(self._ctx), _Int(attr), _UInt(value)),
            "seccomp_attr_set",
        )

    def add_rule(
        self, action: int, syscall: int, conditions: list[tuple[int, int, int, int]]
    ) -> None:
        """``conditions``: (argument index, SCMP_CMP_* operator, datum a, datum b)."""
        # struct scmp_arg_cmp {unsigned int arg; enum scmp_compare op; u64 a; u64 b;}
        array = b"".join(
            index.to_bytes(4, _ORDER)
            + op.to_bytes(4, _ORDER)
            + (a & 0xFFFFFFFFFFFFFFFF).to_bytes(8, _ORDER)
            + (b & 0xFFFFFFFFFFFFFFFF).to_bytes(8, _ORDER)
            for index, op, a, b in conditions
        )
        rc = _lib["seccomp_rule_add_array"](
            _ULong(self._ctx), _UInt(action), _Int(syscall), _UInt(len(conditions)), array or None
        )
        _ok(rc, "seccomp_rule_add")

    def export_bpf(self) -> bytes:
        """The filter as a BPF program: struct sock_filter[] in host byte order."""
        fd = posix.memfd_create("seccomp-bpf", posix.MFD_CLOEXEC)
        try:
            _ok(_lib["seccomp_export_bpf"](_ULong(self._ctx), _Int(fd)), "seccomp_export_bpf")
            posix.lseek(fd, 0, 0)
            chunks = []
            while chunk := posix.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            posix.close(fd)

    def release(self) -> None:
        if self._ctx:
            _lib["seccomp_release"](_ULong(self._ctx))
            self._ctx = 0


def sock_filter(code: int, jt: int, jf: int, k: int) -> bytes:
    """One BPF instruction (struct sock_filter), in host byte order."""
    return code.to_bytes(2, _ORDER) + bytes((jt, jf)) + (k & 0xFFFFFFFF).to_bytes(4, _ORDER)


def set_filter(program: bytes, flags: int) -> int:
    """seccomp(SECCOMP_SET_MODE_FILTER): the listener fd if NEW_LISTENER is in ``flags``.

    Needs no_new_privs or CAP_SYS_ADMIN in the caller's user namespace.
    """
    insns = _buffer(len(program))
    insns.raw = program
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}
    fprog = (
        (len(program) // 8).to_bytes(2, _ORDER)
        + bytes(_POINTER_SIZE - 2)
        + _ctypes.addressof(insns).to_bytes(_POINTER_SIZE, _ORDER)
    )
    return _check(
        _syscall(
            _Long(syscalls.number("seccomp")), _UInt(SECCOMP_SET_MODE_FILTER), _UInt(flags), fprog
        )
    )

"""Numbers of the system calls made without a libc wrapper, per architecture.

They differ between architectures: keyctl is 250 on x86_64 and 250 is
tgkill on ppc64le, so a wrong table makes another call. The table below holds
the architectures we know (tests/unit/linux/test_syscalls.py checks it
against libseccomp's tables); elsewhere libseccomp, when installed, gives the
number, and without it the call is refused with ENOSYS, saying why.
"""

from __future__ import annotations

import errno
import posix
import sys

# The calls added since Linux 5.1 have one number on every architecture of
# this table (the kernel's tables were unified at 424).
_SINCE_5_1 = {
    "pidfd_send_signal": 424,
    "pidfd_open": 434,
    "clone3": 435,
    "close_range": 436,
    "openat2": 437,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}
_GENERIC = {"pivot_root": 41, "keyctl": 219, "bpf": 280, "seccomp": 277}  # asm-generic
_TABLES: dict[str, dict[str, int]] = {
    "x86_64": {"pivot_root": 155, "keyctl": 250, "bpf": 321, "seccomp": 317},
    "aarch64": _GENERIC,
    "riscv64": _GENERIC,
    "ppc64le": {"pivot_root": 203, "keyctl": 271, "bpf": 361, "seccomp": 358},
    "ppc64": {"pivot_root": 203, "keyctl": 271, "bpf": 361, "seccomp": 358},
    "s390x": {"pivot_root": 217, "keyctl": 280, "bpf": 351, "seccomp": 348},
    "x86": {"pivot_root": 217, "keyctl": 288, "bpf": 357, "seccomp": 354},
    "arm": {"pivot_root": 218, "keyctl": 311, "bpf": 386, "seccomp": 383},
}
#: libseccomp's name of an architecture, from what uname says and the pointer size
_ARCHES_64 = {"x86_64": "x86_64", "aarch64": "aarch64", "riscv64": "riscv64"}
_ARCHES_64 |= {"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x"}
# A 32-bit process on a 64-bit kernel uses the 32-bit numbers.
_ARCHES_32 = {"x86_64": "x86", "i386": "x86", "i486": "x86", "i586": "x86", "i686": "x86"}
_ARCHES_32 |= {"aarch64": "arm", "armv6l": "arm", "armv7l": "arm", "armv8l": "arm"}

MACHINE = posix.uname().machine
ARCH = (_ARCHES_64 if sys.maxsize > 2**32 else _ARCHES_32).get(MACHINE, "")
_known: dict[str, int] = {**_TABLES[ARCH], **_SINCE_5_1} if ARCH in _TABLES else {}


def number(name: str) -> int:
    """The number of system call ``name`` on this architecture; OSError(ENOSYS) if unknown."""
    found = _known.get(name)
    if found is None:
        found = _from_libseccomp(name)
        _known[name] = found
    return found


def _from_libseccomp(name: str) -> int:
    from dockyard.linux import seccomp

    try:
        seccomp.load_library()
    except OSError as exc:
        raise OSError(
            errno.ENOSYS,
            f"the number of the {name} system call on {MACHINE} is not known "
            f"(dockyard knows {', '.join(sorted(_TABLES))}; libseccomp would tell: {exc.strerror})",
        ) from None
    found = seccomp.resolve_syscall(name)
    if found < 0:  # unknown, or multiplexed on this architecture
        raise OSError(errno.ENOSYS, f"{MACHINE} has no {name} system call (says libseccomp)")
    return found

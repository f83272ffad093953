"""Thin ctypes bindings to the libc calls and syscalls Python's ``os`` lacks.

Every function raises ``OSError(errno, message)`` on failure, as ``os`` does;
callers translate into Dockyard errors at their own boundary.
"""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

_MACHINE = os.uname().machine
# Syscalls without a glibc wrapper; numbers from the kernel's syscall tables.
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}[_MACHINE]
_PIDFD_SEND_SIGNAL = 424
_CLOSE_RANGE = 436
_OPENAT2 = 437
_KEYCTL = {"x86_64": 250, "aarch64": 219, "riscv64": 219}.get(_MACHINE, 250)
_MOUNT_SETATTR = 442

# unshare/setns/clone flags
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

NAMESPACE_FLAGS = {
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
    "mount": CLONE_NEWNS,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
    "user": CLONE_NEWUSER,
    "cgroup": CLONE_NEWCGROUP,
    "time": CLONE_NEWTIME,
}
#: names of the entries under /proc/PID/ns for each spec namespace type
NAMESPACE_PROC_NAMES = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "user": "user",
    "cgroup": "cgroup",
    "time": "time",
}

# mount(2) flags
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MS_LAZYTIME = 0x2000000

MNT_DETACH = 0x2

# mount_setattr(2), for the recursive r* options
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000
AT_EMPTY_PATH = 0x1000

# openat2(2) resolve flags
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

CLOSE_RANGE_CLOEXEC = 1 << 2

# prctl(2)
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

PER_LINUX = 0x0000
PER_LINUX32 = 0x0008

TIOCSCTTY = 0x540E
TIOCSWINSZ = 0x5414
TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _check_path(result: int, *paths: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), *paths[:1])
    return result


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


_libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p)
_libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
_libc.unshare.argtypes = (ctypes.c_int,)
_libc.setns.argtypes = (ctypes.c_int, ctypes.c_int)
_libc.sethostname.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
_libc.setdomainname.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
_libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong)
_libc.personality.argtypes = (ctypes.c_ulong,)


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    _check_path(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), target)


def umount2(target: str, flags: int = 0) -> None:
    _check_path(_libc.umount2(_b(target), flags), target)


def pivot_root(new_root: str, put_old: str) -> None:
    _check_path(_syscall(_PIVOT_ROOT, _b(new_root), _b(put_old)), new_root)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags))


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype))


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)))


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(_libc.setdomainname(raw, len(raw)))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5))



def keyctl(operation: int, name: str) -> int:
    """keyctl(2) with one string argument (KEYCTL_JOIN_SESSION_KEYRING)."""
    return _check(_syscall(_KEYCTL, ctypes.c_int(operation), _b(name)))


def personality(persona: int) -> None:
    _check(_libc.personality(persona))


def close_range(first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
    _check(_syscall(_CLOSE_RANGE, ctypes.c_uint(first), ctypes.c_uint(last),
                    ctypes.c_uint(flags)))


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64))


def openat2(dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
    how = _OpenHow(flags, mode, resolve)
    return _check_path(
        _syscall(_OPENAT2, ctypes.c_int(dirfd), _b(path), ctypes.byref(how),
                 ctypes.c_size_t(ctypes.sizeof(how))),
        path,
    )


class _MountAttr(ctypes.Structure):
    _fields_ = (("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64))


def mount_setattr(dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int = 0,
                  propagation: int = 0) -> None:
    attr = _MountAttr(attr_set, attr_clr, propagation, 0)
    _check_path(
        _syscall(_MOUNT_SETATTR, ctypes.c_int(dirfd), _b(path), ctypes.c_uint(flags),
                 ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
        path,
    )


def pidfd_send_signal(pidfd: int, sig: int) -> None:
    _check(_syscall(_PIDFD_SEND_SIGNAL, ctypes.c_int(pidfd), ctypes.c_int(sig), None,
                    ctypes.c_uint(0)))


# ---------------------------------------------------------------- capabilities

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32))


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set this thread's capability sets (bit masks of capability numbers)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)(
        _CapData(effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF),
        _CapData(effective >> 32, permitted >> 32, inheritable >> 32),
    )
    _check(_libc.capset(ctypes.byref(header), data))


def capget(pid: int = 0) -> tuple[int, int, int]:
    """(effective, permitted, inheritable) of a thread, as bit masks."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, pid)
    data = (_CapData * 2)()
    _check(_libc.capget(ctypes.byref(header), data))
    return (
        data[0].effective | data[1].effective << 32,
        data[0].permitted | data[1].permitted << 32,
        data[0].inheritable | data[1].inheritable << 32,
    )


def ioctl_int(fd: int, request: int, value: int) -> int:
    arg = ctypes.c_int(value)
    return _check(_libc.ioctl(fd, ctypes.c_ulong(request), ctypes.byref(arg)))


def ioctl_get_int(fd: int, request: int) -> int:
    arg = ctypes.c_uint(0)
    _check(_libc.ioctl(fd, ctypes.c_ulong(request), ctypes.byref(arg)))
    return arg.value


def ioctl_none(fd: int, request: int, arg: int = 0) -> int:
    return _check(_libc.ioctl(fd, ctypes.c_ulong(request), ctypes.c_ulong(arg)))


class _Winsize(ctypes.Structure):
    _fields_ = (("rows", ctypes.c_ushort), ("cols", ctypes.c_ushort),
                ("xpixel", ctypes.c_ushort), ("ypixel", ctypes.c_ushort))


def set_window_size(fd: int, rows: int, cols: int) -> None:
    size = _Winsize(rows, cols, 0, 0)
    _check(_libc.ioctl(fd, ctypes.c_ulong(TIOCSWINSZ), ctypes.byref(size)))

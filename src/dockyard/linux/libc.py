"""Thin bindings (through ctypes' C core) to the libc calls and syscalls Python's ``os`` lacks.

Every function raises ``OSError(errno, message)`` on failure, as ``os`` does;
callers translate into Dockyard errors at their own boundary.
"""

from __future__ import annotations

import _ctypes
import errno
import posix

from dockyard.linux import syscalls

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctypes import Array, c_char

# ``ctypes`` costs ~8 ms to import here (it defines dozens of types and pulls
# in ``struct``); these few calls need only its C core and five types.


class _Long(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "l"


class _Int(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "i"


class _UInt(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "I"


class _ULong(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "L"


class _Char(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "c"


class _Function(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _Int


_HANDLE = _ctypes.dlopen(None, 0)  # type: ignore[arg-type]  # None: this program


def _function(name: str, restype: type = _Int) -> _Function:
    fn = _Function(_ctypes.dlsym(_HANDLE, name))
    fn.restype = restype
    return fn


def _buffer(size: int) -> Array[c_char]:
    """A zeroed, writable C buffer the kernel can fill."""
    kind = type("_Buf", (_ctypes.Array,), {"_type_": _Char, "_length_": size})
    buffer: Array[c_char] = kind()
    return buffer


_syscall = _function("syscall", _Long)
# Syscalls without a glibc wrapper: their numbers differ per architecture.
_nr = syscalls.number

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
        err = _ctypes.get_errno()
        raise OSError(err, posix.strerror(err))
    return result


def _check_path(result: int, path: str) -> int:
    if result < 0:
        err = _ctypes.get_errno()
        raise OSError(err, posix.strerror(err), path)
    return result


def c_buffer(data: bytes | int) -> Array[c_char]:
    """A writable C buffer: ``data`` copied in, or that many zero bytes."""
    buffer = _buffer(data if isinstance(data, int) else len(data))
    if not isinstance(data, int):
        buffer.raw = data
    return buffer


def address_of(buffer: Array[c_char]) -> int:
    """Where ``buffer`` lives, for structures that point at it."""
    return int(_ctypes.addressof(buffer))


def bpf(command: int, attr: Array[c_char]) -> int:
    """bpf(2) with a ``union bpf_attr`` buffer, which the kernel may write back."""
    return _check(_syscall(_Long(_nr("bpf")), _Long(command), attr, _ULong(len(attr))))


def _b(value: str | None) -> bytes | None:
    return None if value is None else value.encode("utf-8", "surrogateescape")


def _u64s(*values: int) -> bytes:
    return b"".join(v.to_bytes(8, "little") for v in values)


_mount = _function("mount")
_umount2 = _function("umount2")
_unshare = _function("unshare")
_setns = _function("setns")
_sethostname = _function("sethostname")
_setdomainname = _function("setdomainname")
_prctl = _function("prctl")
_personality = _function("personality")
_capset = _function("capset")
_capget = _function("capget")
_ioctl = _function("ioctl")
_syncfs = _function("syncfs")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    _check_path(_mount(_b(source), _b(target), _b(fstype), _ULong(flags), _b(data)), target)


def umount2(target: str, flags: int = 0) -> None:
    _check_path(_umount2(_b(target), _Int(flags)), target)


def pivot_root(new_root: str, put_old: str) -> None:
    _check_path(_syscall(_Long(_nr("pivot_root")), _b(new_root), _b(put_old)), new_root)


def unshare(flags: int) -> None:
    _check(_unshare(_Int(flags)))


def setns(fd: int, nstype: int) -> None:
    _check(_setns(_Int(fd), _Int(nstype)))


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_sethostname(raw, _ULong(len(raw))))


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(_setdomainname(raw, _ULong(len(raw))))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_prctl(_Int(option), _ULong(arg2), _ULong(arg3), _ULong(arg4), _ULong(arg5)))


def keyctl(operation: int, name: str) -> int:
    """keyctl(2) with one string argument (KEYCTL_JOIN_SESSION_KEYRING)."""
    return _check(_syscall(_Long(_nr("keyctl")), _Long(operation), _b(name)))


def personality(persona: int) -> None:
    _check(_personality(_ULong(persona)))


def close_range(first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
    _check(_syscall(_Long(_nr("close_range")), _UInt(first), _UInt(last), _UInt(flags)))


def openat2(dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
    how = _u64s(flags, mode, resolve)  # struct open_how
    return _check_path(
        _syscall(_Long(_nr("openat2")), _Int(dirfd), _b(path), how, _ULong(len(how))), path
    )


def mount_setattr(
    dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int = 0, propagation: int = 0
) -> None:
    attr = _u64s(attr_set, attr_clr, propagation, 0)  # struct mount_attr
    _check_path(
        _syscall(
            _Long(_nr("mount_setattr")),
            _Int(dirfd),
            _b(path),
            _UInt(flags),
            attr,
            _ULong(len(attr)),
        ),
        path,
    )


#: getrlimit(2) resource numbers (the generic ones: x86, arm64, riscv, ppc and s390 share them)
_RLIMIT_NAMES = (
    "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
    "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
)  # fmt: skip
RLIMITS = {f"RLIMIT_{name}": number for number, name in enumerate(_RLIMIT_NAMES)}
_prlimit64 = _function("prlimit64")


def setrlimit(resource: int, soft: int, hard: int) -> None:
    """setrlimit(2) with 64-bit values (``resource`` loads a module to do it: ~1 ms)."""
    _check(_prlimit64(_Int(0), _Int(resource), _u64s(soft, hard), None))


CLONE_INTO_CGROUP = 0x200000000
_SIGCHLD = 17


def clone(flags: int, cgroup_fd: int | None = None) -> int:
    """fork(2) through clone3: ``flags`` (CLONE_NEW* namespaces the child is
    born in), and with ``cgroup_fd`` the cgroup v2 directory it is born in.

    CLONE_INTO_CGROUP means no migration afterwards, so no wait for the RCU
    grace period a write to cgroup.procs costs (~10 ms here). Like os.fork
    without its at-fork hooks: only for single-threaded callers.
    """
    if cgroup_fd is not None:
        flags |= CLONE_INTO_CGROUP
    args = _u64s(flags, 0, 0, 0, _SIGCHLD, 0, 0, 0, 0, 0, cgroup_fd or 0)
    return _check(_syscall(_Long(_nr("clone3")), args, _ULong(len(args))))


POLLIN = 0x1
POLLHUP = 0x10
_poll = _function("poll")


def poll(fds: list[tuple[int, int]], timeout: float | None = None) -> list[tuple[int, int]]:
    """poll(2) on (fd, events) pairs: (fd, revents) of those ready, [] on timeout.

    ``select.poll`` costs a module load (~0.7 ms) where one call is all a
    command needs. Interrupted calls are retried, as Python's own are.
    """
    import time

    pollfds = _buffer(8 * len(fds))  # struct pollfd: int fd, short events, short revents
    pollfds.raw = b"".join(
        fd.to_bytes(4, "little", signed=True) + events.to_bytes(4, "little") for fd, events in fds
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
        if _poll(pollfds, _ULong(len(fds)), _Int(wait)) >= 0:
            break
        err = _ctypes.get_errno()
        if err != errno.EINTR:  # a signal handler ran; go on waiting
            raise OSError(err, posix.strerror(err))
    raw = pollfds.raw
    ready = []
    for index, (fd, _) in enumerate(fds):
        revents = int.from_bytes(raw[8 * index + 6 : 8 * index + 8], "little")
        if revents:
            ready.append((fd, revents))
    return ready


def pidfd_send_signal(pidfd: int, sig: int) -> None:
    _check(_syscall(_Long(_nr("pidfd_send_signal")), _Int(pidfd), _Int(sig), None, _UInt(0)))


def pidfd_getfd(pidfd: int, target_fd: int) -> int:
    """A copy (close-on-exec) of descriptor ``target_fd`` of the process behind ``pidfd``;
    needs ptrace rights over it (Linux 5.6)."""
    return _check(_syscall(_Long(_nr("pidfd_getfd")), _Int(pidfd), _Int(target_fd), _UInt(0)))


_flock = _function("flock")
LOCK_EX = 2


def flock(fd: int, operation: int) -> None:
    """flock(2); a wait a signal handler interrupts goes on (``fcntl`` is a module
    load for one call)."""
    while _flock(_Int(fd), _Int(operation)) < 0:
        err = _ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, posix.strerror(err))


# ---------------------------------------------------------------- capabilities

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _cap_header(pid: int) -> bytes:
    return _LINUX_CAPABILITY_VERSION_3.to_bytes(4, "little") + pid.to_bytes(
        4, "little", signed=True
    )


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set this thread's capability sets (bit masks of capability numbers)."""
    data = b"".join(
        (mask >> shift & 0xFFFFFFFF).to_bytes(4, "little")
        for shift in (0, 32)
        for mask in (effective, permitted, inheritable)
    )
    _check(_capset(_cap_header(0), data))


def capget(pid: int = 0) -> tuple[int, int, int]:
    """(effective, permitted, inheritable) of a thread, as bit masks."""
    data = _buffer(24)
    _check(_capget(_cap_header(pid), data))
    raw = data.raw
    words = [int.from_bytes(raw[i : i + 4], "little") for i in range(0, 24, 4)]
    return words[0] | words[3] << 32, words[1] | words[4] << 32, words[2] | words[5] << 32


def ioctl_int(fd: int, request: int, value: int) -> int:
    arg = _buffer(4)
    arg.raw = value.to_bytes(4, "little", signed=True)
    return _check(_ioctl(_Int(fd), _ULong(request), arg))


def ioctl_get_int(fd: int, request: int) -> int:
    arg = _buffer(4)
    _check(_ioctl(_Int(fd), _ULong(request), arg))
    return int.from_bytes(arg.raw, "little")


def syncfs(fd: int) -> None:
    """Write back every dirty page and inode of the filesystem that holds ``fd``."""
    _check(_syncfs(_Int(fd)))


def ioctl_none(fd: int, request: int, arg: int = 0) -> int:
    return _check(_ioctl(_Int(fd), _ULong(request), _ULong(arg)))


def set_window_size(fd: int, rows: int, cols: int) -> None:
    size = b"".join(v.to_bytes(2, "little") for v in (rows, cols, 0, 0))  # struct winsize
    _check(_ioctl(_Int(fd), _ULong(TIOCSWINSZ), size))


SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_socket_fn = _function("socket")


def interface_up(name: str) -> None:
    """``ip link set NAME up`` in this process's network namespace."""
    af_inet, sock_dgram, sock_cloexec = 2, 2, 0o2000000
    sock = _check(_socket_fn(_Int(af_inet), _Int(sock_dgram | sock_cloexec), _Int(0)))
    try:
        ifreq = _buffer(40)  # struct ifreq: char name[16], then a union whose short is the flags
        ifreq.raw = name.encode("utf-8", "surrogateescape").ljust(16, b"\0") + bytes(24)
        _check(_ioctl(_Int(sock), _ULong(SIOCGIFFLAGS), ifreq))
        raw = ifreq.raw
        flags = int.from_bytes(raw[16:18], "little") | IFF_UP
        ifreq.raw = raw[:16] + flags.to_bytes(2, "little") + raw[18:]
        _check(_ioctl(_Int(sock), _ULong(SIOCSIFFLAGS), ifreq))
    finally:
        posix.close(sock)

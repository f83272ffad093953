"""The namespaces a container's init is born in, joins or makes, and in what order.

Usually the runtime clones the init straight into its new namespaces
(`clone_flags`). A namespace joined by path, a new user namespace (mapped by
the runtime before the others are made) or time offsets (written before
anyone enters) need the intermediate process (``runtime/intermediate.py``),
which calls the rest of this module in that order.
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError
from dockyard.linux import capabilities
from dockyard.linux import libc as L

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.oci.runtime_spec import Spec
    from dockyard.runtime.channel import Channel

_EINVAL = 22


def clone_flags(spec: Spec) -> int | None:
    """The CLONE_NEW* flags the init can be born with, straight from the runtime;
    None when it needs the intermediate (see the module's docstring)."""
    if spec.namespace("user") is not None or any(ns.path for ns in spec.linux.namespaces):
        return None
    if spec.linux.time_offsets:
        return None
    return new_namespace_flags(spec)


def new_namespace_flags(spec: Spec) -> int:
    """CLONE_NEW* of the namespaces to make, but user (made first, alone) and
    cgroup (made by the init once it is in its cgroup)."""
    flags = 0
    for ns in spec.linux.namespaces:
        if not ns.path and ns.type not in ("user", "cgroup"):
            flags |= L.NAMESPACE_FLAGS[ns.type]
    return flags


def join_namespaces(spec: Spec) -> None:
    """setns into every namespace the spec gives a path for, the user namespace first."""
    # The user namespace first: joining the others may need its privileges.
    joins = sorted((ns for ns in spec.linux.namespaces if ns.path), key=lambda n: n.type != "user")
    for ns in joins:
        try:
            fd = posix.open(ns.path, posix.O_RDONLY | posix.O_CLOEXEC)
        except OSError as exc:
            raise DockyardError(
                f"cannot open {ns.type} namespace {ns.path}: {exc.strerror}"
            ) from exc
        try:
            L.setns(fd, L.NAMESPACE_FLAGS[ns.type])
        except OSError as exc:
            raise DockyardError(
                f"cannot join {ns.type} namespace {ns.path}: {exc.strerror}"
                + (" (is it a namespace of that type?)" if exc.errno == _EINVAL else "")
            ) from exc
        finally:
            posix.close(fd)


def enter_new_user_namespace(chan: Channel) -> None:
    """Unshare the user namespace and become its root once the runtime mapped us."""
    may_set_gids = _has_cap_setgid()
    L.unshare(L.CLONE_NEWUSER)
    if not may_set_gids:
        _deny_setgroups()
    chan.send("userns")
    if chan.recv()[0] != "mapped":
        posix._exit(1)
    posix.setresgid(0, 0, 0)
    posix.setresuid(0, 0, 0)
    # Changing ids made us non-dumpable, which makes our /proc files
    # root's; we still write timens_offsets there.
    L.prctl(L.PR_SET_DUMPABLE, 1)


def unshare_new(spec: Spec) -> None:
    """Unshare the new namespaces (`new_namespace_flags`), then write the time offsets."""
    flags = new_namespace_flags(spec)
    if flags:
        L.unshare(flags)
    if flags & L.CLONE_NEWTIME and spec.linux.time_offsets:
        _write_time_offsets(spec.linux.time_offsets)


def _has_cap_setgid() -> bool:
    return bool(L.capget()[0] & (1 << capabilities.CAPABILITIES["CAP_SETGID"]))


def _deny_setgroups() -> None:
    """A runtime without CAP_SETGID (rootless) may only map its own gid, and the
    kernel wants setgroups denied first: else the container could drop the
    caller's groups and reach files that deny that group (CVE-2014-8989)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")


def _write_time_offsets(offsets: dict[str, tuple[int, int]]) -> None:
    clock_ids = {"monotonic": 1, "boottime": 7}
    with open("/proc/self/timens_offsets", "w") as f:
        for clock, (secs, nanosecs) in offsets.items():
            f.write(f"{clock_ids[clock]} {secs} {nanosecs}\n")

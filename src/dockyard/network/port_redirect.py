"""Published ports reached from the host: a connect-time redirect to the container.

A host process connecting to 127.0.0.1:PORT or to a bridge's address:PORT
reaches a published port through the kernel's DNAT (network/firewall.py).
Its socket is routed through ``lo`` then and keeps ``lo``'s 64 KiB GSO size
for its whole life, whatever the bridge allows. A cgroup ``connect4``
program on the cgroup v2 root (linux/sock_redirect.py) rewrites such a
connect() into one to the container's address:port instead, so the socket
is routed through the bridge from its first packet (BIG TCP, no NAT), and a
``getpeername4`` program shows the client the address it asked for, as
Cilium's socket load balancing does for Kubernetes services.

One pair of programs per engine (per store root: many engines run at
once), named ``dyc_``/``dyg_`` plus a hash of the root; its maps ``dyp_``
(ports), ``dyi_`` (the host's netns cookie and the root's path), ``dyr_``
(what getpeername restores). Without bpffs, a later CLI finds them by
asking the cgroup (BPF_PROG_QUERY), then the programs for their maps' ids.
Attached with the first published TCP port, detached with the last; every
change is made under ``<root>/port-redirect.lock`` (taken inside the
engine's database transaction that claims or frees the ports), which a
sweep of another engine's programs takes too.

Only a help, never needed: the DNAT rules stay for other hosts, containers'
hairpin and UDP, and anything the kernel refuses (no cgroup v2, an old
kernel, no CAP_SYS_ADMIN, the verifier) leaves the DNAT path alone doing
the work. ``DOCKYARD_PORT_REDIRECT=0`` turns it off.
"""

from __future__ import annotations

import posix

from dockyard.linux import bpf, bpf_map
from dockyard.network.backend import REDIRECT_ENV
from dockyard.network.backend import redirect_enabled as enabled

ENV = REDIRECT_ENV

_CGROUP2_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")
_CONNECT, _PEER = bpf.BPF_CGROUP_INET4_CONNECT, bpf.BPF_CGROUP_INET4_GETPEERNAME
_SO_NETNS_COOKIE = 71


def tag(root: str) -> str:
    import _sha256  # type: ignore[import-not-found]

    return str(_sha256.sha256(root.encode()).hexdigest()[:11])


def cgroup_root() -> str | None:
    """Where cgroup v2 is mounted (hybrid hosts: its ``unified`` directory)."""
    for path in _CGROUP2_ROOTS:
        if posix.access(f"{path}/cgroup.controllers", posix.F_OK):
            return path
    return None


def key(ip: str, port: int) -> bytes:
    """A ports map key or value: the address and the port as ``struct bpf_sock_addr``
    holds them (network byte order, the port's u32 padded with zeros)."""
    return bytes(int(part) for part in ip.split(".")) + port.to_bytes(2, "big") + bytes(2)


def entries(rules: list[tuple[str, int, str, int]], gateway: str) -> list[tuple[bytes, bytes]]:
    """(key, value) for (host ip, host port, container ip, container port) TCP bindings:
    a binding on every address is reached through any 127.0.0.0/8 address and the
    network's gateway; one on an address, through that address."""
    from dockyard.linux.sock_redirect import LOOPBACK_ANY

    out = []
    for host_ip, port, container_ip, container_port in rules:
        value = key(container_ip, container_port)
        if host_ip in ("", "0.0.0.0"):
            out.append((LOOPBACK_ANY + key("0.0.0.0", port)[4:], value))
            if gateway:
                out.append((key(gateway, port), value))
        else:
            out.append((key(host_ip, port), value))
    return out


class _Found:
    """One engine's attached programs and their maps' fds (closed by `close`)."""

    def __init__(self) -> None:
        self.programs: list[tuple[int, int]] = []  # (attach type, prog id)
        self.maps: dict[bytes, int] = {}  # name prefix (b"dyp_" ...) -> fd

    def close(self) -> None:
        for fd in self.maps.values():
            posix.close(fd)
        self.maps.clear()


def _find_all(cgroup_fd: int) -> dict[str, _Found]:
    """Every Dockyard engine's programs on the cgroup, by tag."""
    found: dict[str, _Found] = {}
    for attach_type in (_CONNECT, _PEER):
        try:
            ids = bpf.prog_query(cgroup_fd, attach_type)
        except OSError:
            continue  # a kernel without that attach type (or bpf): nothing of ours
        for prog_id in ids:
            try:
                fd = bpf.prog_get_fd_by_id(prog_id)
            except OSError:
                continue  # detached meanwhile
            try:
                name, map_ids = bpf.prog_info(fd)
            except OSError:
                continue
            finally:
                posix.close(fd)
            if name[:4] not in (b"dyc_", b"dyg_"):
                continue
            item = found.setdefault(name[4:].decode(), _Found())
            item.programs.append((attach_type, prog_id))
            for map_id in map_ids:
                try:
                    map_fd = bpf_map.get_fd_by_id(map_id)
                except OSError:
                    continue
                try:
                    prefix = bpf.map_info(map_fd)[0][:4]
                except OSError:
                    prefix = b""
                if not prefix or prefix in item.maps:
                    posix.close(map_fd)
                else:
                    item.maps[prefix] = map_fd
    return found


def _host_cookie() -> int:
    import _socket

    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        return int.from_bytes(sock.getsockopt(_socket.SOL_SOCKET, _SO_NETNS_COOKIE, 8), "little")
    finally:
        sock.close()


class _Session:
    """The cgroup root open, this engine's lock held, its programs found."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.tag = tag(root)
        cgroup = cgroup_root()
        if cgroup is None:
            raise OSError(95, "no cgroup v2 hierarchy")
        self.lock = _lock(root)
        try:
            self.cgroup = posix.open(cgroup, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
        except BaseException:
            posix.close(self.lock)
            raise
        self.all: dict[str, _Found] = {}
        try:
            self.all = _find_all(self.cgroup)
        except BaseException:
            self.close()
            raise
        self.mine = self.all.get(self.tag)

    def close(self) -> None:
        for item in self.all.values():
            item.close()
        posix.close(self.cgroup)
        posix.close(self.lock)

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach(self, items: list[tuple[bytes, bytes]]) -> None:
        """New maps holding ``items``, then the programs on the cgroup root."""
        from dockyard.linux import sock_redirect

        ports, info, rev = sock_redirect.make_maps(self.tag, _host_cookie(), self.root.encode())
        try:
            for k, v in items:
                bpf_map.update(ports, k, v)
            connect, peer = sock_redirect.load(self.tag, ports, info, rev)
            try:
                # getpeername first: a connect redirected is always shown as asked
                bpf.prog_attach(self.cgroup, peer, _PEER, bpf.BPF_F_ALLOW_MULTI)
                try:
                    bpf.prog_attach(self.cgroup, connect, _CONNECT, bpf.BPF_F_ALLOW_MULTI)
                except BaseException:
                    bpf.prog_detach(self.cgroup, peer, _PEER)
                    raise
            finally:
                posix.close(connect)
                posix.close(peer)
        finally:
            for fd in (ports, info, rev):
                posix.close(fd)

    def detach(self, found: _Found) -> None:
        _detach(self.cgroup, found)


def _detach(cgroup_fd: int, found: _Found) -> None:
    for attach_type, prog_id in sorted(found.programs):  # connect (10) first
        try:
            fd = bpf.prog_get_fd_by_id(prog_id)
        except OSError:
            continue
        try:
            bpf.prog_detach(cgroup_fd, fd, attach_type)
        except OSError as exc:
            if exc.errno != 2:  # ENOENT: someone else detached it
                raise
        finally:
            posix.close(fd)


def _lock(root: str, wait: bool = True) -> int:
    import fcntl

    fd = posix.open(
        f"{root}/port-redirect.lock", posix.O_RDWR | posix.O_CREAT | posix.O_CLOEXEC, 0o600
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        posix.close(fd)
        raise
    return fd


def add(root: str, items: list[tuple[bytes, bytes]]) -> bool:
    """Redirect ``items``' destinations for the engine at ``root``; False (and the DNAT
    path alone) if it is turned off or the kernel refuses any part of it."""
    if not items or not enabled():
        return False
    try:
        with _Session(root) as s:
            ports = s.mine.maps.get(b"dyp_") if s.mine else None
            if s.mine is None or ports is None or len(s.mine.programs) < 2:
                if s.mine is not None:
                    s.detach(s.mine)  # half made by a command killed mid-way
                s.attach(items)
            else:
                for k, v in items:
                    bpf_map.update(ports, k, v)
    except OSError:
        return False
    return True


def _matches(k: bytes, bindings: set[tuple[str, int]]) -> bool:
    port = int.from_bytes(k[4:6], "big")
    ip = ".".join(str(b) for b in k[:4])
    return (ip, port) in bindings or ("0.0.0.0", port) in bindings


def _prune(s: _Session, found: _Found, keep: set[tuple[str, int]]) -> int:
    """Remove the keys not in ``keep``; detach if none is left. How many keys were
    removed."""
    ports = found.maps.get(b"dyp_")
    removed = 0
    left = 0
    if ports is not None:
        for k in bpf_map.keys(ports, 8):
            if _matches(k, keep):
                left += 1
            elif bpf_map.delete(ports, k):
                removed += 1
    if not left:
        s.detach(found)
    return removed


def remove(root: str, bindings: set[tuple[str, int]]) -> None:
    """Stop redirecting (host ip or 0.0.0.0, host port) ``bindings``; the programs go
    with the engine's last one."""
    try:
        with _Session(root) as s:
            if s.mine is None:
                return
            ports = s.mine.maps.get(b"dyp_")
            left = 0
            if ports is not None:
                for k in bpf_map.keys(ports, 8):
                    if not _matches(k, bindings):
                        left += 1
                    else:
                        bpf_map.delete(ports, k)  # (False if gone meanwhile)
            if not left:
                s.detach(s.mine)
    except OSError:
        return


def check(root: str, live: set[tuple[str, int]], repair: bool) -> list[str]:
    """This engine's entries for ports it no longer holds (removed when ``repair``)."""
    if cgroup_root() is None:
        return []
    found: list[str] = []
    try:
        with _Session(root) as s:
            if s.mine is None:
                return []
            ports = s.mine.maps.get(b"dyp_")
            keys = bpf_map.keys(ports, 8) if ports is not None else []
            extra = [k for k in keys if not _matches(k, live)]
            if extra or len(extra) == len(keys):
                what = f"{len(extra)} entries for ports not published" if extra else "no port"
                found.append(f"port redirect program dyc_{s.tag}: {what}")
                if repair:
                    _prune(s, s.mine, live)
    except OSError:
        return []  # no bpf(2) here (or no right to it): nothing of ours can be there
    return found


def _owner(item: _Found) -> str:
    from dockyard.linux.sock_redirect import INFO_VALUE_SIZE

    info = item.maps.get(b"dyi_")
    raw = bpf_map.lookup(info, bytes(4), INFO_VALUE_SIZE) if info is not None else None
    return raw[8:].split(b"\0", 1)[0].decode(errors="replace") if raw else ""


def _entries(item: _Found) -> int:
    ports = item.maps.get(b"dyp_")
    return len(bpf_map.keys(ports, 8)) if ports is not None else 0


def sweep_others(root: str) -> list[str]:
    """Detach other engines' programs that are stale: a repair's work only, so that a
    check of one engine is never failed by another's leftovers."""
    if cgroup_root() is None:
        return []
    found: list[str] = []
    try:
        with _Session(root) as s:
            for name, item in s.all.items():
                if name != s.tag:
                    found += _foreign(s, name, item)
    except OSError:
        return []
    return found


def _foreign(s: _Session, name: str, item: _Found) -> list[str]:
    """Another engine's programs, detached if stale: its root gone, or no port in its map
    while nobody holds its lock (one that is busy is changing its ports right now)."""
    owner = _owner(item)
    if not owner or not posix.access(owner, posix.F_OK):
        s.detach(item)
        return [f"port redirect program dyc_{name}: its engine root {owner or '?'} is gone"]
    try:
        fd = _lock(owner, wait=False)
    except OSError:
        return []  # busy (or not ours to lock)
    try:
        if _entries(item):
            return []
        s.detach(item)
        return [f"port redirect program dyc_{name} of {owner}: no port left"]
    finally:
        posix.close(fd)


def redirected(root: str) -> list[tuple[bytes, bytes]]:
    """This engine's ports map, as it is now (for `check` and the tests)."""
    try:
        with _Session(root) as s:
            ports = s.mine.maps.get(b"dyp_") if s.mine else None
            if ports is None:
                return []
            return [(k, bpf_map.lookup(ports, k, 8) or b"") for k in bpf_map.keys(ports, 8)]
    except OSError:
        return []


def attached() -> dict[str, str]:
    """Every engine's programs on the cgroup root: tag -> the owner's root path."""
    cgroup = cgroup_root()
    if cgroup is None:
        return {}
    try:
        fd = posix.open(cgroup, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError:
        return {}
    try:
        found = _find_all(fd)
    finally:
        posix.close(fd)
    try:
        return {name: _owner(item) for name, item in found.items()}
    finally:
        for item in found.values():
            item.close()


def detach_owned_under(prefix: str) -> list[str]:
    """Detach the programs of every engine whose root is under ``prefix`` (the test
    suite's clean-up after a leak); their tags."""
    cgroup = cgroup_root()
    if cgroup is None:
        return []
    fd = posix.open(cgroup, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    gone = []
    try:
        found = _find_all(fd)
        for name, item in found.items():
            if _owner(item).startswith(prefix):
                _detach(fd, item)
                gone.append(name)
            item.close()
    finally:
        posix.close(fd)
    return gone

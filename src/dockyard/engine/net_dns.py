"""The embedded DNS from the engine's side: who is answered, with what, and when it changes.

A container on a user-defined network `join`s once its network is wired
(the end of `net_attach.setup`, or a ``network connect``) and `leave`s in
`teardown`: a member file, ``<dns dir>/members/<id>``, says so. While it is
a member (and its namespace file exists) the engine's resolver
(network/dns/) answers it at 127.0.0.11, and every container it shares a
network with finds it there by its name, its aliases, its short id and its
hostname (Docker's DNSNames). Membership is explicit because a namespace
file exists from the start of setup: a resolver that bound its socket in a
namespace whose loopback is still down would never get an answer out.

`sync` writes what the metadata says for the resolver to serve: after a
join or leave, a connect or disconnect, a rename, and by ``system check``
and ``network prune``. The whole of it runs under one lock, so the last
writer always wrote what the metadata says last.

Names nobody on the container's networks has go to the upstream servers:
its ``--dns`` if given, else the host's resolvers (``DOCKYARD_RESOLV_CONF``,
default /etc/resolv.conf), reached from the host's namespace, so loopback
ones work too. Not for a container whose networks are all ``--internal``:
it gets SERVFAIL, as in Docker.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.network_types import EndpointRecord, NetworkRecord
    from dockyard.engine.paths import EnginePaths
    from dockyard.engine.types import ContainerRecord
    from dockyard.network.dns.records import DnsClient, DnsEntry, DnsNetwork


def dns_dir(paths: EnginePaths) -> str:
    """One resolver per store: two stores may share a run root (docs: engine/paths.py)."""
    import _sha256  # type: ignore[import-not-found]

    key = _sha256.sha256(paths.root.encode()).hexdigest()[:12]
    return f"{paths.run_root}/dns/{key}"


def user_network(net: NetworkRecord) -> bool:
    """A network whose containers find each other by name (not the default bridge)."""
    return net.driver == "bridge" and not net.default


def dns_names(rec: ContainerRecord, ep: EndpointRecord) -> list[str]:
    """Docker's DNSNames of an endpoint: name, aliases, short id, hostname; the first is
    the one PTR answers give."""
    return _names(rec.name, ep.aliases, rec.id, rec.config.hostname)


def _names(name: str, aliases: list[str], container_id: str, hostname: str) -> list[str]:
    out: list[str] = []
    for each in (name, *aliases, container_id[:12], hostname):
        if each and each not in out:
            out.append(each)
    return out


def _ndots_set(options: list[str]) -> bool:
    """The user chose ndots (any N, 0 too, as Docker reads it): single labels that are
    not ours then get an empty answer, for the client to try its search domains."""
    return any(o.partition(":")[0] == "ndots" and o.partition(":")[2].isdigit() for o in options)


def gather(engine: Engine) -> tuple[list[DnsNetwork], list[DnsEntry], list[DnsClient]]:
    """What the resolver should serve now.

    It runs on every start on a user network: the few fields it needs are read
    from the records' JSON (keys are field names: engine/record.py) rather than
    by decoding whole records, a tenth of the time with twenty containers.
    """
    from dockyard.engine.etc_files import host_nameservers
    from dockyard.engine.networks import load
    from dockyard.network.dns.records import DnsClient, DnsEntry, DnsNetwork
    from dockyard.oci import jsonio

    netns_dir = f"{engine.paths.run_root}/netns"
    wired = _listdir(_members(engine)) & _listdir(netns_dir)
    rows = engine.db.query("SELECT doc FROM networks")
    networks = {net.id: net for net in (load(doc) for (doc,) in rows)}
    if not wired or not any(user_network(n) for n in networks.values()):
        return [], [], []
    joined: dict[str, list[dict[str, Any]]] = {}
    docs: dict[str, dict[str, Any]] = {}
    for container, ep_doc, rec_doc in engine.db.query(
        "SELECT e.container, e.doc, c.doc FROM endpoints e JOIN containers c ON c.id = e.container"
    ):
        if container not in wired:
            continue
        joined.setdefault(container, []).append(jsonio.loads(ep_doc))
        if container not in docs:
            docs[container] = jsonio.loads(rec_doc)
    host_servers: list[str] | None = None
    used: dict[str, DnsNetwork] = {}
    entries, clients = [], []
    for container, eps in sorted(joined.items()):
        eps.sort(key=lambda e: int(e.get("order", 0)))
        doc = docs[container]
        host = doc.get("host") or {}
        hostname = str((doc.get("config") or {}).get("hostname", ""))
        ours = [e for e in eps if e["network_id"] in networks]
        mine = [e for e in ours if user_network(networks[e["network_id"]])]
        if not mine:
            continue
        for ep in mine:
            net = networks[ep["network_id"]]
            used.setdefault(net.id, DnsNetwork(net.id, net.name))
            names = _names(str(doc["name"]), list(ep.get("aliases") or []), container, hostname)
            entries.append(DnsEntry(net.id, str(ep["address"]), names))
        upstreams = list(host.get("dns") or [])
        if not upstreams:
            if host_servers is None:
                host_servers = host_nameservers()
            upstreams = host_servers
        # Docker forwards for a container with a way out: one network not --internal
        outside = any(not networks[e["network_id"]].internal for e in ours)
        clients.append(
            DnsClient(
                container,
                f"{netns_dir}/{container}",
                [e["network_id"] for e in mine],
                upstreams,
                forward=outside,
                ndots=_ndots_set(list(host.get("dns_options") or [])),
            )
        )
    return list(used.values()), entries, clients


_CREATE = posix.O_CREAT | posix.O_WRONLY | posix.O_CLOEXEC


def _members(engine: Engine) -> str:
    return f"{dns_dir(engine.paths)}/members"


def _listdir(path: str) -> set[str]:
    try:
        return set(posix.listdir(path))
    except FileNotFoundError:
        return set()


def join(engine: Engine, container_id: str) -> None:
    """The container's network is wired: it is answered, and can be found (idempotent)."""
    directory = _members(engine)
    try:
        posix.close(posix.open(f"{directory}/{container_id}", _CREATE, 0o600))
    except FileNotFoundError:
        from dockyard.network.dns.control import _make_dir

        _make_dir(directory)
        posix.close(posix.open(f"{directory}/{container_id}", _CREATE, 0o600))
    sync(engine, container_id)


def leave(engine: Engine, container_id: str) -> None:
    """Its network goes: neither answered nor found any more (idempotent)."""
    try:
        posix.unlink(f"{_members(engine)}/{container_id}")
    except FileNotFoundError:
        return
    sync(engine)


def is_member(engine: Engine, container_id: str) -> bool:
    return posix.access(f"{_members(engine)}/{container_id}", posix.F_OK)


def sync(engine: Engine, container_id: str = "") -> None:
    """Make the resolver serve what the metadata says now (started, reloaded, or gone);
    HostError if ``container_id`` cannot be served."""
    from dockyard.engine.locks import ContainerLock
    from dockyard.network.dns.control import ResolverControl
    from dockyard.network.dns.records import render

    directory = dns_dir(engine.paths)
    lock = ContainerLock(f"{directory}/lock")
    lock.acquire()
    try:
        networks, entries, clients = gather(engine)
        reply = ResolverControl(directory).apply(render(networks, entries, clients), len(clients))
    except (OSError, TimeoutError) as exc:
        raise HostError(f"the DNS resolver: {exc}") from exc
    finally:
        lock.release()
    why = reply.failed.get(container_id) if container_id else None
    if why is not None:
        raise HostError(f"cannot serve DNS to container {container_id[:12]}: {why}")


def check(engine: Engine, repair: bool, busy: Collection[str] = ()) -> list[str]:
    """``system check``: a resolver that runs for nobody, or is missing for somebody.

    ``busy``: containers a command is working on (their locks are held). A start
    joins, a stop or removal leaves, a connect or rename reloads: while one is
    under way the resolver's count may rightly differ from the metadata's, so it
    is compared only when none of them has a membership or a namespace file.
    """
    from dockyard.network.dns.control import ResolverControl

    control = ResolverControl(dns_dir(engine.paths))
    found = []
    # members first: a start makes the namespace file before the membership, so a
    # member listed here whose file is missing below is not one that is joining
    members = _listdir(_members(engine))
    netns = _listdir(f"{engine.paths.run_root}/netns")
    for stale in sorted(members - netns - set(busy)):
        found.append(f"DNS membership of {stale[:12]}, whose network is gone")
        if repair:
            try:
                posix.unlink(f"{_members(engine)}/{stale}")
            except FileNotFoundError:
                pass
    if not (members | netns) & set(busy):
        expected = len(gather(engine)[2])
        served = control.status()
        if served is None and expected:
            found.append(f"DNS resolver not running for {expected} container(s) on user networks")
        elif served is not None and served != expected:
            found.append(f"DNS resolver serves {served} container(s), {expected} expected")
    if found and repair:
        sync(engine)
    return found


def needs_dns(pairs: list[tuple[NetworkRecord, EndpointRecord]]) -> bool:
    return any(user_network(net) for net, _ in pairs)

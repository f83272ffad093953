"""Network leftovers of runs that never cleaned up (a CLI killed -9, a crashed monitor).

What a container holds while it runs (its namespace file, its veths, its
published ports' rules and rows, its place in the embedded DNS) should be
gone once it is not running, and the DNS resolver runs exactly while some
container needs it;
`find` lists what is not, `repair` removes it. ``system check`` and
``network prune`` run them; a container that is running is never touched.

Nor is one a command is working on: a ``start`` wires the namespace, veths
and rules under the container's lock before its status says running, so a
container whose lock is held counts as live. The locks of the others are
held (taken without waiting) until their leftovers are gone, so no start can
begin wiring what is being removed. What is on the host (namespace files) is
listed before the records are read: a container started meanwhile has its
record by then.
"""

from __future__ import annotations

import posix

from dockyard.engine.exits import current_status
from dockyard.engine.networks import spec_of
from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.locks import ContainerLock

LIVE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def _settled(
    engine: Engine, candidates: set[str], held: list[ContainerLock]
) -> tuple[set[str], set[str], set[str]]:
    """(live, stale, busy) among every container and ``candidates`` (ids seen on the
    host without a record, say): stale ones are those not running whose lock this
    takes (appended to ``held``); busy ones, whose lock another holds (running or
    not), are live too."""
    from dockyard.errors import NotFound

    live, stale, busy = set(), set(), set()
    records = {rec.id: rec for rec in engine.containers.all()}
    for container_id in sorted(candidates | set(records)):
        rec = records.get(container_id)
        lock = engine.lock(container_id)
        if not lock.acquire(wait=False):
            live.add(container_id)  # a start, stop, rm, connect... is at it: not ours
            busy.add(container_id)
            continue
        try:  # its state as of now, under its lock
            fresh = engine.containers.get(container_id) if rec is not None else None
        except NotFound:
            fresh = None
        if fresh is not None and current_status(engine, fresh) in LIVE:
            live.add(container_id)
            lock.release()  # a running one is left alone: no need to hold it
            continue
        held.append(lock)
        stale.add(container_id)
    return live, stale, busy


def find(engine: Engine, remove: bool = False) -> list[str]:
    """One line per leftover; removed too when ``remove``."""
    held: list[ContainerLock] = []
    try:
        return _find(engine, remove, held)
    finally:
        for lock in held:
            lock.release()


def _find(engine: Engine, remove: bool, held: list[ContainerLock]) -> list[str]:
    from dockyard.engine.net_attach import _load_endpoint
    from dockyard.linux import netns

    found = []
    directory = f"{engine.paths.run_root}/netns"
    try:
        names = posix.listdir(directory)
    except FileNotFoundError:
        names = []
    published = {str(c) for (c,) in engine.db.query("SELECT DISTINCT container FROM published")}
    live, stale_ids, busy = _settled(engine, set(names) | published, held)
    for name in names:
        if name in stale_ids:
            found.append(f"network namespace {directory}/{name} of a container that is not running")
            if remove:
                netns.remove(f"{directory}/{name}")
    stale = sorted(c for c in published if c in stale_ids)
    for container in stale:
        found.append(f"published ports of {container[:12]}, which is not running")
    if remove and stale:
        from dockyard.engine.net_ports import forget_redirects

        with engine.db.transaction() as tx:
            forget_redirects(engine, tx, stale)
            for container in stale:
                tx.execute("DELETE FROM published WHERE container = ?", (container,))
    found += _redirects(engine, remove)
    from dockyard.engine.networks import load

    # read, not ensure_defaults(): a check must not make the default networks
    bridges = [
        net
        for net in (load(doc) for (doc,) in engine.db.query("SELECT doc FROM networks"))
        if net.driver == "bridge"
    ]
    if not bridges:
        from dockyard.engine.net_dns import check

        return found + check(engine, remove, busy)

    def owned() -> tuple[set[str], set[str]]:
        """(interfaces, containers) that are someone's: all but the stale containers',
        read when asked (after the backend listed the host): a container created since
        its own records were read has its rows by the time it has a veth or a rule."""
        ifnames = {
            _load_endpoint(doc).host_ifname
            for container, doc in engine.db.query("SELECT container, doc FROM endpoints")
            if container not in stale_ids
        }
        owners = {str(c) for (c,) in engine.db.query("SELECT id FROM containers")}
        return ifnames, (owners | live) - stale_ids

    left = engine.networks.backend.leftovers([spec_of(n) for n in bridges], owned, remove)
    found += [
        f"interface {name} in a Dockyard bridge, owned by no running container"
        for name in left.interfaces
    ]
    found += [
        f"port rules in table {table} of {owner[:12]}, which is not running"
        for table, owner in left.rule_owners
    ]
    from dockyard.engine.net_dns import check

    return found + check(engine, remove, busy)


def _redirects(engine: Engine, remove: bool) -> list[str]:
    """The connect-time redirect's entries against the ports held (under the transaction
    every publish and unpublish takes), and other engines' stale programs."""
    from dockyard.network import port_redirect

    with engine.db.transaction() as tx:
        rows = tx.query("SELECT host_ip, host_port FROM published WHERE proto = 'tcp'")
        live = {(str(ip), int(port)) for ip, port in rows}
        return port_redirect.check(engine.paths.root, live, remove)


def sweep_other_engines(engine: Engine) -> list[str]:
    """Port redirect programs of other engines whose root is gone or whose ports are all
    gone (network/port_redirect.py): detached. Repairs only: one engine's check does
    not fail on another's leftovers."""
    from dockyard.network import port_redirect

    return port_redirect.sweep_others(engine.paths.root)


def repair(engine: Engine) -> list[str]:
    return find(engine, remove=True) + sweep_other_engines(engine)

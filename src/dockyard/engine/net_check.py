"""Network leftovers of runs that never cleaned up (a CLI killed -9, a crashed monitor).

What a container holds while it runs (its namespace file, its veths, its
published ports' rules and rows, its place in the embedded DNS) should be
gone once it is not running, and the DNS resolver runs exactly while some
container needs it;
`find` lists what is not, `repair` removes it. ``system check`` and
``network prune`` run them; a container that is running is never touched.
"""

from __future__ import annotations

import posix

from dockyard.engine.exits import current_status
from dockyard.engine.networks import spec_of
from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine

LIVE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def _live(engine: Engine) -> set[str]:
    return {rec.id for rec in engine.containers.all() if current_status(engine, rec) in LIVE}


def find(engine: Engine, remove: bool = False) -> list[str]:
    """One line per leftover; removed too when ``remove``."""
    from dockyard.engine.net_attach import _load_endpoint
    from dockyard.linux import netns

    live = _live(engine)
    found = []
    directory = f"{engine.paths.run_root}/netns"
    try:
        names = posix.listdir(directory)
    except FileNotFoundError:
        names = []
    for name in names:
        if name not in live:
            found.append(f"network namespace {directory}/{name} of a container that is not running")
            if remove:
                netns.remove(f"{directory}/{name}")
    stale = [
        str(c)
        for (c,) in engine.db.query("SELECT DISTINCT container FROM published")
        if c not in live
    ]
    for container in stale:
        found.append(f"published ports of {container[:12]}, which is not running")
    if remove and stale:
        with engine.db.transaction() as tx:
            for container in stale:
                tx.execute("DELETE FROM published WHERE container = ?", (container,))
    from dockyard.engine.networks import load

    # read, not ensure_defaults(): a check must not make the default networks
    bridges = [
        net
        for net in (load(doc) for (doc,) in engine.db.query("SELECT doc FROM networks"))
        if net.driver == "bridge"
    ]
    if not bridges:
        from dockyard.engine.net_dns import check

        return found + check(engine, remove)
    live_ifnames = {
        _load_endpoint(doc).host_ifname
        for container, doc in engine.db.query("SELECT container, doc FROM endpoints")
        if container in live
    }
    left = engine.networks.backend.leftovers(
        [spec_of(n) for n in bridges], live_ifnames, live, remove
    )
    found += [
        f"interface {name} in a Dockyard bridge, owned by no running container"
        for name in left.interfaces
    ]
    found += [
        f"port rules in table {table} of {owner[:12]}, which is not running"
        for table, owner in left.rule_owners
    ]
    from dockyard.engine.net_dns import check

    return found + check(engine, remove)


def repair(engine: Engine) -> list[str]:
    return find(engine, remove=True)

"""Published ports of a running container: host ports claimed, DNAT rules made, both undone.

Host ports are claimed at start in one transaction over the ``published``
table (a port two containers ask for at once goes to one of them), after
checking that no host process has bound it: a taken port is a clear error
before the container's process runs. ``-p 80`` and ``-P`` take a random
free port of the kernel's ephemeral range, as Docker does.
"""

from __future__ import annotations

from dockyard.engine.networks import spec_of
from dockyard.errors import Conflict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.db import Transaction
    from dockyard.engine.engine import Engine
    from dockyard.engine.network_types import EndpointRecord, NetworkRecord
    from dockyard.engine.types import ContainerRecord
    from dockyard.network.backend import PortRule


def wanted(rec: ContainerRecord) -> list[tuple[str, str, str]]:
    """(container port "80/tcp", host ip, host port or range or "") for each binding asked."""
    out = []
    for port, bindings in rec.host.port_bindings.items():
        for b in bindings or []:
            out.append((port, b.host_ip, b.host_port))
    if rec.host.publish_all_ports:
        for port in rec.config.exposed_ports:
            if port not in rec.host.port_bindings:
                out.append((port, "", ""))
    return out


def _taken(tx: Transaction, proto: str, host_ip: str, port: int) -> bool:
    rows = tx.query(
        "SELECT host_ip FROM published WHERE proto = ? AND host_port = ?", (proto, port)
    )
    ip = host_ip or "0.0.0.0"
    return any(other in (ip, "0.0.0.0") or ip == "0.0.0.0" for (other,) in rows)


def _claim(tx: Transaction, proto: str, host_ip: str, text: str) -> int:
    from dockyard.network.ports import bindable, check_bindable, ephemeral_range

    if text and "-" not in text:
        port = int(text)
        if _taken(tx, proto, host_ip, port):
            raise Conflict(
                f"driver failed programming external connectivity: Bind for "
                f"{host_ip or '0.0.0.0'}:{port} failed: port is already allocated"
            )
        check_bindable(host_ip, port, proto)
        return port
    if text:
        low, _, high = text.partition("-")
        first, last = int(low), int(high)
    else:
        first, last = ephemeral_range()
    import random

    span = last - first + 1
    start = random.randrange(span) if not text else 0
    for i in range(span):
        port = first + (start + i) % span
        if not _taken(tx, proto, host_ip, port) and bindable(host_ip, port, proto):
            return port
    raise Conflict(f"no free host port in {first}-{last} for {proto}")


def publish(engine: Engine, rec: ContainerRecord, net: NetworkRecord, ep: EndpointRecord) -> None:
    from dockyard.engine.networks import HOST_BINDING_OPTION
    from dockyard.network.backend import PortRule

    default_ip = net.options.get(HOST_BINDING_OPTION, "")
    rules = []
    with engine.db.transaction() as tx:
        for port, asked_ip, host_port in wanted(rec):
            host_ip = asked_ip or default_ip
            number, _, proto = port.partition("/")
            proto = proto or "tcp"
            chosen = _claim(tx, proto, host_ip, host_port)
            tx.execute(
                "INSERT INTO published (container, proto, host_ip, host_port, container_port) "
                "VALUES (?, ?, ?, ?, ?)",
                (rec.id, proto, host_ip or "0.0.0.0", chosen, int(number)),
            )
            rules.append(PortRule(host_ip, chosen, proto, ep.address, int(number)))
        _redirect(engine, rules, spec_of(net).gateway)
    engine.networks.backend.publish(spec_of(net), rec.id, rules)


def _redirect(engine: Engine, rules: list[PortRule], gateway: str) -> None:
    """The host's own TCP connects to these ports go straight to the container
    (network/port_redirect.py), under the transaction that claims them; the DNAT
    rules stay for everyone else."""
    tcp = [
        (r.host_ip, r.host_port, r.container_ip, r.container_port)
        for r in rules
        if r.proto == "tcp"
    ]
    if tcp:
        from dockyard.network import port_redirect

        port_redirect.add(engine.paths.root, port_redirect.entries(tcp, gateway))


def unpublish(engine: Engine, rec: ContainerRecord) -> None:
    from dockyard.engine.net_attach import endpoints

    pairs = endpoints(engine, rec.id)
    if pairs:
        engine.networks.backend.unpublish(spec_of(pairs[0][0]), rec.id)
    with engine.db.transaction() as tx:
        forget_redirects(engine, tx, [rec.id])
        tx.execute("DELETE FROM published WHERE container = ?", (rec.id,))


def forget_redirects(engine: Engine, tx: Transaction, containers: list[str]) -> None:
    """Stop redirecting these containers' TCP ports (in the transaction that frees them)."""
    held: set[tuple[str, int]] = set()
    for container in containers:
        rows = tx.query(
            "SELECT host_ip, host_port FROM published WHERE container = ? AND proto = 'tcp'",
            (container,),
        )
        held |= {(str(ip), int(port)) for ip, port in rows}
    if held:
        from dockyard.network import port_redirect

        port_redirect.remove(engine.paths.root, held)


def published(engine: Engine, container_id: str) -> list[tuple[str, str, int, int]]:
    """(proto, host ip, host port, container port) of each port the container holds."""
    rows = engine.db.query(
        "SELECT proto, host_ip, host_port, container_port FROM published WHERE container = ? "
        "ORDER BY container_port, proto, host_ip",
        (container_id,),
    )
    return [(str(a), str(b), int(c), int(d)) for a, b, c, d in rows]


def port_map(engine: Engine, rec: ContainerRecord) -> dict[str, list[dict[str, str]] | None]:
    """Docker's NetworkSettings.Ports: every exposed or published port -> its host sides."""
    out: dict[str, list[dict[str, str]] | None] = {}
    for port in rec.config.exposed_ports:
        out[port] = None
    for port in rec.host.port_bindings:
        out.setdefault(port, None)
    for proto, host_ip, host_port, container_port in published(engine, rec.id):
        key = f"{container_port}/{proto}"
        sides = out.get(key) or []
        sides.append({"HostIp": host_ip, "HostPort": str(host_port)})
        out[key] = sides
    return out


def ports_text(engine: Engine, rec: ContainerRecord) -> str:
    """``ps``'s PORTS, as Docker groups them: "0.0.0.0:8000-8001->80-81/tcp, 443/tcp"."""
    held = sorted(published(engine, rec.id), key=lambda h: (h[1], h[0], h[3]))
    groups: list[list[tuple[str, str, int, int]]] = []
    for item in held:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and last[:2] == item[:2]
            and item[2] == last[2] + 1
            and item[3] == last[3] + 1
        ):
            groups[-1].append(item)
        else:
            groups.append([item])
    parts = []
    for group in groups:
        (proto, ip, host_first, first), last = group[0], group[-1]
        hosts = f"{host_first}-{last[2]}" if len(group) > 1 else str(host_first)
        ports = f"{first}-{last[3]}" if len(group) > 1 else str(first)
        parts.append(f"{ip}:{hosts}->{ports}/{proto}")
    done = {f"{cp}/{proto}" for proto, _, _, cp in held}
    parts += [p for p in rec.config.exposed_ports if p not in done]
    return ", ".join(parts)

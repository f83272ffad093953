"""Networks as a whole: their records, the three Docker always has, create/ls/rm/prune.

Docker's ``bridge``, ``host`` and ``none`` are made on first use; the
default bridge takes 172.17.0.0/16 unless a host route overlaps it, then
the next free block of the address pools (so does every ``network
create`` without ``--subnet``). A network's record is committed first (its
name is then taken), then its bridge and firewall table are made; a run
that needs a bridge that is gone (after a reboot, or a create killed half
way) makes it again. Containers' side: engine/net_attach.py.

Knobs, as dockerd's flags: ``DOCKYARD_BRIDGE`` (its ``--bridge``: the
default bridge's interface), ``DOCKYARD_BIP`` (``--bip``: its subnet),
``DOCKYARD_ADDRESS_POOLS`` (``--default-address-pool``: ``BASE/LEN:SIZE,...``).
"""

from __future__ import annotations

import posix

from dockyard.engine import names
from dockyard.engine.db import Database, IntegrityError, Transaction
from dockyard.engine.network_types import NetworkRecord
from dockyard.engine.record import from_json, to_json
from dockyard.errors import Conflict, HostError, InvalidArgument, NotFound
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.events import EventLog
    from dockyard.network.backend import NetworkBackend, NetworkSpec

DEFAULT_BRIDGE = "dockyard0"
PREDEFINED = ("bridge", "host", "none")
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
MTU_OPTION = "com.docker.network.driver.mtu"
MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
ICC_OPTION = "com.docker.network.bridge.enable_icc"
HOST_BINDING_OPTION = "com.docker.network.bridge.host_binding_ipv4"
KNOWN_OPTIONS = (BRIDGE_NAME_OPTION, MTU_OPTION, MASQUERADE_OPTION, ICC_OPTION, HOST_BINDING_OPTION)


def _env(name: str) -> str:
    value = posix.environ.get(name.encode())
    return value.decode() if value else ""


def load(doc: str) -> NetworkRecord:
    return from_json(NetworkRecord, jsonio.loads(doc))


def spec_of(net: NetworkRecord) -> NetworkSpec:
    from dockyard.network.backend import NetworkSpec

    masquerade = net.options.get(MASQUERADE_OPTION, "true").lower() not in ("false", "0")
    return NetworkSpec(
        net.id, net.name, net.bridge, net.subnet, net.gateway, net.mtu, net.internal, masquerade
    )


class NetworkService:
    #: where create and destroy are recorded (engine/events.py); None records nothing
    events: EventLog | None = None

    def _event(self, net: NetworkRecord, action: str) -> None:
        if self.events is not None:
            self.events.emit("network", action, net.id, {"name": net.name, "type": net.driver})

    def __init__(self, db: Database, run_root: str) -> None:
        self.db = db
        self.run_root = run_root
        self.bridge_name = _env("DOCKYARD_BRIDGE") or DEFAULT_BRIDGE
        self.bip = _env("DOCKYARD_BIP")
        self.pools_text = _env("DOCKYARD_ADDRESS_POOLS")
        self._backend: NetworkBackend | None = None

    @property
    def backend(self) -> NetworkBackend:
        if self._backend is None:
            from dockyard.network.bridge import BridgeDriver

            self._backend = BridgeDriver()
        return self._backend

    def pools(self) -> list[tuple[str, int]]:
        from dockyard.network import ipam

        return ipam.parse_pools(self.pools_text) if self.pools_text else list(ipam.DEFAULT_POOLS)

    # ------------------------------------------------------------ lookups

    def all(self) -> list[NetworkRecord]:
        self.ensure_defaults()
        rows = self.db.query("SELECT doc FROM networks ORDER BY created, rowid")
        return [load(doc) for (doc,) in rows]

    def find(self, text: str, tx: Transaction | None = None) -> NetworkRecord:
        """By full id, exact name, then unique id prefix (Docker's order)."""
        self.ensure_defaults()
        query = tx.query if tx is not None else self.db.query
        for sql, arg in (
            ("SELECT doc FROM networks WHERE id = ?", text),
            ("SELECT doc FROM networks WHERE name = ?", text),
        ):
            rows = query(sql, (arg,))
            if rows:
                return load(rows[0][0])
        if text and all(c in "0123456789abcdef" for c in text):
            rows = query(
                "SELECT doc FROM networks WHERE id >= ? AND id < ? LIMIT 2", (text, text + "g")
            )
            if len(rows) == 1:
                return load(rows[0][0])
            if len(rows) > 1:
                raise NotFound(f"network {text} is ambiguous ({len(rows)} matches found on id)")
        raise NotFound(f"network {text} not found")

    def get(self, network_id: str) -> NetworkRecord:
        rows = self.db.query("SELECT doc FROM networks WHERE id = ?", (network_id,))
        if not rows:
            raise NotFound(f"network {network_id} not found")
        return load(rows[0][0])

    # ------------------------------------------------------------ the predefined three

    def ensure_defaults(self) -> None:
        if self.db.query("SELECT 1 FROM networks WHERE name = 'bridge'"):
            return
        from dockyard.network import ipam

        if self.bip:  # dockerd's --bip: the bridge's own address with the prefix length
            gateway, _, bits = self.bip.partition("/")
            try:
                subnet = ipam.Subnet.of(ipam.to_int(gateway), int(bits or 24))
            except ValueError:
                raise InvalidArgument(f"invalid DOCKYARD_BIP {self.bip}: not ADDRESS/LEN") from None
            if ipam.to_int(gateway) in (subnet.network, subnet.broadcast):
                gateway = ipam.first_host(subnet)
            subnet_text = str(subnet)
        else:
            subnet_text, gateway = self._free_subnet(
                [(ipam.DEFAULT_BRIDGE_SUBNET, 16), *self.pools()]
            )
        now = _now()
        made = [
            NetworkRecord(
                id=names.new_id(),
                name="bridge",
                driver="bridge",
                created=now,
                subnet=subnet_text,
                gateway=gateway,
                bridge=self.bridge_name,
                default=True,
                options={
                    "com.docker.network.bridge.default_bridge": "true",
                    BRIDGE_NAME_OPTION: self.bridge_name,
                    MTU_OPTION: "1500",
                },
            ),
            NetworkRecord(id=names.new_id(), name="host", driver="host", created=now),
            NetworkRecord(id=names.new_id(), name="none", driver="null", created=now),
        ]
        with self.db.transaction() as tx:
            if tx.query("SELECT 1 FROM networks WHERE name = 'bridge'"):
                return  # another process made them meanwhile
            for net in made:
                self._insert(tx, net)

    def _free_subnet(
        self, pools: list[tuple[str, int]], tx: Transaction | None = None
    ) -> tuple[str, str]:
        from dockyard.network import hostnet, ipam

        query = tx.query if tx is not None else self.db.query
        used = [
            ipam.Subnet(load(doc).subnet)
            for (doc,) in query("SELECT doc FROM networks")
            if load(doc).subnet
        ]
        try:
            routes = hostnet.host_routes()
        except OSError as exc:
            raise HostError(f"cannot read the host's routes: {exc.strerror or exc}") from exc
        block = ipam.pick_subnet(pools, used, routes)
        return str(block), ipam.first_host(block)

    def _insert(self, tx: Transaction, net: NetworkRecord) -> None:
        try:
            tx.execute(
                "INSERT INTO networks (id, name, created, doc) VALUES (?, ?, ?, ?)",
                (net.id, net.name, net.created, jsonio.dumps_compact(to_json(net))),
            )
        except IntegrityError:
            raise Conflict(f"network with name {net.name} already exists") from None

    # ------------------------------------------------------------ create, remove, prune

    def create(
        self,
        name: str,
        driver: str = "bridge",
        subnet: str = "",
        gateway: str = "",
        ip_range: str = "",
        internal: bool = False,
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
        attachable: bool = False,
    ) -> NetworkRecord:
        from dockyard.network import ipam

        self.ensure_defaults()
        if driver not in ("bridge", ""):
            raise NotFound(f"plugin {driver!r} not found: only the bridge driver exists")
        _check_name(name)
        if name in PREDEFINED:
            raise Conflict(f"network with name {name} already exists")
        opts = dict(options or {})
        for key in opts:
            if key not in KNOWN_OPTIONS:
                raise InvalidArgument(f"unknown bridge network option {key!r}")
        mtu = ipam_int(opts.get(MTU_OPTION, "1500"), "MTU", 68, 65535)
        if opts.get(ICC_OPTION, "true").lower() in ("false", "0"):
            # containers of one bridge talk at layer 2: only br_netfilter would show
            # that traffic to a firewall, and Dockyard does not load it
            raise InvalidArgument(f"{ICC_OPTION}=false is not supported")
        binding = opts.get(HOST_BINDING_OPTION, "")
        if binding and not ipam.valid_address(binding):
            raise InvalidArgument(f"invalid {HOST_BINDING_OPTION}: {binding}")
        net_id = names.new_id()
        bridge = opts.get(BRIDGE_NAME_OPTION) or f"dy-{net_id[:12]}"
        if len(bridge) > 15 or "/" in bridge or not bridge.strip():
            raise InvalidArgument(f"invalid bridge name {bridge!r}: at most 15 characters")
        with self.db.transaction() as tx:
            if subnet:
                block = ipam.Subnet(subnet)
                for (doc,) in tx.query("SELECT doc FROM networks"):
                    other = load(doc)
                    if other.subnet and ipam.Subnet(other.subnet).overlaps(block):
                        raise Conflict(
                            f"Pool overlaps with other one on this address space "
                            f"({subnet} and network {other.name}'s {other.subnet})"
                        )
                    if other.bridge == bridge:
                        raise Conflict(f"bridge {bridge} is used by network {other.name}")
                subnet_text = str(block)
                gateway = gateway or ipam.first_host(block)
            else:
                if gateway or ip_range:
                    raise InvalidArgument("--gateway and --ip-range need --subnet")
                subnet_text, gateway = self._free_subnet(self.pools(), tx)
                block = ipam.Subnet(subnet_text)
            ipam.check_in(block, gateway, "gateway")
            if ip_range and not ipam.Subnet(ip_range).inside(block):
                raise InvalidArgument(
                    f"--ip-range {ip_range} is not inside the subnet {subnet_text}"
                )
            net = NetworkRecord(
                id=net_id,
                name=name,
                driver="bridge",
                created=_now(),
                subnet=subnet_text,
                gateway=gateway,
                ip_range=ip_range,
                bridge=bridge,
                mtu=mtu,
                internal=internal,
                attachable=attachable,
                labels=dict(labels or {}),
                options=opts,
            )
            self._insert(tx, net)
        try:
            self.backend.create_network(spec_of(net))
        except BaseException:
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM networks WHERE id = ?", (net.id,))
            raise
        self._event(net, "create")
        return net

    def users(self, network_id: str) -> list[str]:
        return [
            r[0]
            for r in self.db.query(
                "SELECT container FROM endpoints WHERE network = ?", (network_id,)
            )
        ]

    def remove(self, text: str) -> NetworkRecord:
        net = self.find(text)
        if net.name in PREDEFINED:
            raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
        users = self.users(net.id)
        if users:
            raise Conflict(
                f"error while removing network: network {net.name} id {net.id} has active "
                f"endpoints (containers {', '.join(u[:12] for u in users)})"
            )
        self.backend.remove_network(spec_of(net))
        with self.db.transaction() as tx:
            try:
                tx.execute("DELETE FROM networks WHERE id = ?", (net.id,))
            except IntegrityError:
                raise Conflict(f"network {net.name} got a container meanwhile") from None
        self._event(net, "destroy")
        return net

    def prune(self, keep: object = None) -> list[str]:
        """Remove every user network no container is on; their names."""
        gone = []
        for net in self.all():
            if net.name in PREDEFINED or self.users(net.id):
                continue
            if keep is not None and not keep(net):  # type: ignore[operator]
                continue
            try:
                self.remove(net.id)
            except (Conflict, NotFound):
                continue
            gone.append(net.name)
        return gone

    def ready(self, net: NetworkRecord) -> None:
        """Its bridge and table exist (made again if a reboot or a killed create lost them).

        Many first runs at once all find the default bridge missing: one makes
        it, under a lock, and the others find it made."""
        if net.driver != "bridge" or self.backend.network_exists(spec_of(net)):
            return
        from dockyard.engine.locks import ContainerLock

        lock = ContainerLock(f"{self.run_root}/locks/network-{net.id}")
        lock.acquire()
        try:
            if not self.backend.network_exists(spec_of(net)):
                self.backend.create_network(spec_of(net))
        finally:
            lock.release()


_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _check_name(name: str) -> None:
    if not name or name[0] not in _NAME_CHARS or any(c not in _NAME_CHARS + "_.-" for c in name):
        raise InvalidArgument(
            f"invalid network name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )


def ipam_int(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidArgument(f"invalid {what}: {text}") from None
    if not low <= value <= high:
        raise InvalidArgument(f"invalid {what}: {text} (from {low} to {high})")
    return value


def _now() -> str:
    from dockyard.engine.clock import rfc3339_now

    return rfc3339_now()

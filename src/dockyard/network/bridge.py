"""The bridge driver: a Linux bridge per network, a veth per container, NAT by nftables.

    host:       <bridge> (gateway address) ── veth dyvXXXXXXXX ─┐
    container:                                                 └─ eth0 (its address, default route)

A container's side is wired with linux/netlink.py (fast, on every start);
bridges with pyroute2 (network/hostnet.py); rules with libnftables
(network/firewall.py). Undoing is idempotent: what is gone already is
not an error.
"""

from __future__ import annotations

import posix

from dockyard.errors import Conflict, HostError
from dockyard.network.backend import EndpointSpec, Leftovers, NetworkSpec, PortRule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from dockyard.linux.netlink import Netlink

ENODEV, ENOENT, EEXIST = 19, 2, 17
LOOPBACK_INDEX = 1  # lo is always interface 1 in a new namespace


def _nft() -> object:
    from dockyard.linux.nftables import Nftables

    try:
        return Nftables()
    except OSError as exc:
        raise HostError(f"nftables: {exc.strerror}") from exc


def _run_nft(commands: list[dict[str, object]]) -> dict[str, object]:
    from dockyard.linux.nftables import NftError

    nft = _nft()
    try:
        return nft.run(commands)  # type: ignore[attr-defined, no-any-return]
    except NftError as exc:
        raise HostError(f"nftables refused Dockyard's rules: {exc.strerror}") from exc
    finally:
        nft.close()  # type: ignore[attr-defined]


class BridgeDriver:
    """`NetworkBackend` for ``--driver bridge``."""

    # ------------------------------------------------------------ networks

    def create_network(self, net: NetworkSpec) -> None:
        from dockyard.network import firewall, hostnet

        try:
            hostnet.create_bridge(net.bridge, net.gateway, net.prefixlen, net.mtu)
        except OSError as exc:
            if exc.errno == EEXIST:
                raise Conflict(
                    f"cannot create network {net.name}: an interface named {net.bridge} exists "
                    "(choose another with -o com.docker.network.bridge.name=NAME)"
                ) from exc
            raise HostError(f"cannot create bridge {net.bridge}: {exc}") from exc
        try:
            _run_nft(firewall.table_commands(net))
            if not net.internal:
                hostnet.enable_forwarding()
        except OSError as exc:
            hostnet.delete_link(net.bridge)
            raise HostError(f"cannot turn on IPv4 forwarding: {exc}") from exc
        except BaseException:
            hostnet.delete_link(net.bridge)
            raise

    def network_exists(self, net: NetworkSpec) -> bool:
        from dockyard.linux.netlink import Netlink

        with Netlink() as nl:
            try:
                nl.link_index(net.bridge)
                return True
            except OSError as exc:
                if exc.errno != ENODEV:
                    raise HostError(f"cannot look up bridge {net.bridge}: {exc}") from exc
        return False

    def remove_network(self, net: NetworkSpec) -> None:
        from dockyard.linux.nftables import NftError
        from dockyard.network import firewall, hostnet

        nft = _nft()
        try:
            nft.run(firewall.delete_table(net.table))  # type: ignore[attr-defined]
        except NftError as exc:
            if exc.errno != ENOENT and "No such file" not in str(exc):
                raise HostError(f"cannot remove table {net.table}: {exc}") from exc
        finally:
            nft.close()  # type: ignore[attr-defined]
        try:
            hostnet.delete_link(net.bridge)
        except OSError as exc:
            raise HostError(f"cannot remove bridge {net.bridge}: {exc}") from exc

    # ------------------------------------------------------------ containers

    def attach(self, netns_path: str, net: NetworkSpec, ep: EndpointSpec) -> None:
        from dockyard.linux import netns
        from dockyard.linux.netlink import Netlink

        try:
            with Netlink() as host:
                bridge = host.link_index(net.bridge)
                fd = posix.open(netns_path, posix.O_RDONLY | posix.O_CLOEXEC)
                try:
                    try:
                        host.add_veth(ep.host_ifname, ep.ifname, fd, net.mtu, ep.mac)
                    except FileExistsError:
                        # the previous run's, its namespace still being dismantled
                        host.delete_link(ep.host_ifname)
                        host.add_veth(ep.host_ifname, ep.ifname, fd, net.mtu, ep.mac)
                finally:
                    posix.close(fd)
                veth = host.link_index(ep.host_ifname)
                host.set_link(veth, up=True, master=bridge)
                _big_tcp(host, bridge, veth)
            with netns.entered(netns_path):
                inside = Netlink()
            with inside:
                inside.set_link(LOOPBACK_INDEX, up=True)
                index = inside.link_index(ep.ifname)
                inside.add_address(index, ep.address, net.prefixlen)
                inside.set_link(index, up=True)
                if ep.default_route and not net.internal:
                    inside.add_default_route(net.gateway, index)
        except OSError as exc:
            raise HostError(
                f"cannot connect container {ep.container_id[:12]} to network {net.name}: {exc}"
            ) from exc

    def detach(self, net: NetworkSpec, ep: EndpointSpec) -> None:
        from dockyard.linux.netlink import Netlink

        try:
            with Netlink() as host:
                host.delete_link(ep.host_ifname)
        except OSError as exc:
            raise HostError(f"cannot remove interface {ep.host_ifname}: {exc}") from exc

    # ------------------------------------------------------------ ports

    def publish(self, net: NetworkSpec, container_id: str, rules: list[PortRule]) -> None:
        from dockyard.network import firewall

        if rules:
            _run_nft(firewall.publish_commands(net, container_id, rules))

    def unpublish(self, net: NetworkSpec, container_id: str) -> None:
        self._drop_rules(net, {container_id})

    def _drop_rules(
        self,
        net: NetworkSpec,
        owners: set[str] | None,
        keep: Callable[[], Collection[str]] | None = None,
    ) -> list[str]:
        """Delete the publish rules of ``owners`` (or of everyone not in ``keep()``, asked
        once the rules are listed)."""
        from dockyard.linux.nftables import NftError
        from dockyard.network import firewall

        nft = _nft()
        try:
            try:
                listing = nft.run(firewall.list_publish(net))  # type: ignore[attr-defined]
            except NftError:
                return []  # no table: nothing published
            listed = firewall.rules_of(listing)
            kept = keep() if owners is None and keep is not None else ()
            found = [
                (handle, owner)
                for handle, owner in listed
                if (owner in owners if owners is not None else owner not in kept)
            ]
            if found:
                nft.run(firewall.delete_rules(net, [h for h, _ in found]))  # type: ignore[attr-defined]
            return [owner for _, owner in found]
        except NftError as exc:
            raise HostError(f"cannot remove published ports: {exc}") from exc
        finally:
            nft.close()  # type: ignore[attr-defined]

    # ------------------------------------------------------------ leftovers

    def leftovers(
        self,
        nets: list[NetworkSpec],
        owned: Callable[[], tuple[set[str], set[str]]],
        remove: bool,
    ) -> Leftovers:
        """Veths in our bridges and publish rules that nobody owns; removed too when
        ``remove``. ``owned()`` gives the interfaces and containers that are someone's;
        it is asked after each listing of the host, so that what a container starting
        meanwhile made (after its records) is never taken for a leftover."""
        from dockyard.network import hostnet

        found = Leftovers()
        bridges = {n.bridge for n in nets}
        links = hostnet.links()
        live_ifnames = owned()[0]
        for name, master in links.items():
            if master in bridges and name.startswith("dyv") and name not in live_ifnames:
                found.interfaces.append(name)
                if remove:
                    hostnet.delete_link(name)
        for net in nets:
            if remove:
                owners = self._drop_rules(net, None, lambda: owned()[1])
            else:
                listed = self._list_owners(net)
                live = owned()[1]
                owners = [o for _, o in listed if o not in live]
            found.rule_owners += [(net.table, o) for o in sorted(set(owners))]
        return found

    def _list_owners(self, net: NetworkSpec) -> list[tuple[int, str]]:
        from dockyard.linux.nftables import NftError
        from dockyard.network import firewall

        nft = _nft()
        try:
            return firewall.rules_of(nft.run(firewall.list_publish(net)))  # type: ignore[attr-defined]
        except NftError:
            return []
        finally:
            nft.close()  # type: ignore[attr-defined]


def _big_tcp(host: Netlink, bridge: int, veth: int) -> None:
    """BIG TCP on the bridge and the container's host veth (its eth0 is left as it is):
    a host socket the port redirect sends to the container's address is routed to
    the bridge and takes its GSO size, 185000 bytes instead of 64 KiB, for 2-2.6x the
    throughput here (docs/network.md). Best effort: a kernel before 6.3 ignores it,
    one that refuses it leaves the default."""
    from dockyard.network.backend import BIG_TCP_SIZE, redirect_enabled

    if not redirect_enabled():
        return
    for index in (bridge, veth):
        try:
            host.set_ipv4_max_size(index, BIG_TCP_SIZE)
        except OSError:
            return

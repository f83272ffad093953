"""``client.networks``: create, get, list, prune; and `Network`, docker-py's model object."""

from __future__ import annotations

from dockyard import errors as engine_errors
from dockyard.client.errors import translate
from dockyard.client.model import Model

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.client import Client


def _container_id(container: object) -> str:
    return str(getattr(container, "id", container))


class Network(Model):
    @property
    def name(self) -> str:
        return str(self.attrs["Name"])

    @property
    def containers(self) -> list[Any]:
        return [self.client.containers.get(cid) for cid in self.attrs.get("Containers") or {}]

    def reload(self) -> None:
        self.attrs = self.client.networks.get(self.id).attrs

    def connect(
        self,
        container: object,
        aliases: list[str] | None = None,
        ipv4_address: str | None = None,
        **kwargs: Any,
    ) -> None:
        from dockyard.engine.net_connect import connect

        if kwargs:
            raise TypeError(f"connect() got unexpected keyword arguments: {', '.join(kwargs)}")
        try:
            connect(
                self.client.engine, _container_id(container), self.id, aliases, ipv4_address or ""
            )
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc

    def disconnect(self, container: object, force: bool = False) -> None:
        from dockyard.engine.net_connect import disconnect

        try:
            disconnect(self.client.engine, _container_id(container), self.id, force)
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc

    def remove(self) -> None:
        try:
            self.client.engine.networks.remove(self.id)
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc


class NetworkCollection:
    def __init__(self, client: Client) -> None:
        self.client = client

    def _model(self, net: Any) -> Network:
        from dockyard.engine.network_json import network_json

        return Network(self.client, network_json(self.client.engine, net))

    def create(
        self,
        name: str,
        driver: str | None = None,
        options: dict[str, str] | None = None,
        ipam: dict[str, Any] | None = None,
        internal: bool = False,
        labels: dict[str, str] | None = None,
        attachable: bool = False,
        **kwargs: Any,
    ) -> Network:
        """docker-py's create; ``ipam`` as ``{"Config": [{"Subnet": ..., "Gateway": ...,
        "IPRange": ...}]}`` (docker-py's IPAMConfig is such a dict)."""
        if kwargs.get("enable_ipv6"):
            raise translate(engine_errors.Unsupported("IPv6 networks are not supported"))
        pools = list((ipam or {}).get("Config") or (ipam or {}).get("pool_configs") or [])
        pool = dict(pools[0]) if pools else {}
        try:
            net = self.client.engine.networks.create(
                name,
                driver or "bridge",
                str(pool.get("Subnet") or pool.get("subnet") or ""),
                str(pool.get("Gateway") or pool.get("gateway") or ""),
                str(pool.get("IPRange") or pool.get("iprange") or ""),
                internal,
                labels,
                options,
                attachable,
            )
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        return self._model(net)

    def get(self, network_id: str) -> Network:
        try:
            return self._model(self.client.engine.networks.find(network_id))
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc

    def list(
        self,
        names: list[str] | None = None,
        ids: list[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[Network]:
        from dockyard.engine.network_filters import matcher

        items = []
        for key, value in (filters or {}).items():
            for one in value if isinstance(value, list) else [value]:
                items.append(f"{key}={one}")
        engine = self.client.engine
        try:
            keep = matcher(items, ("driver", "id", "label", "name", "scope", "type", "dangling"))
            users = dict(
                engine.db.query("SELECT network, COUNT(*) FROM endpoints GROUP BY network")
            )
            nets = [n for n in engine.networks.all() if keep(n, users.get(n.id, 0))]
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        if names:
            nets = [n for n in nets if n.name in names]
        if ids:
            nets = [n for n in nets if any(n.id.startswith(i) for i in ids)]
        return [self._model(n) for n in nets]

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        from dockyard.engine.network_filters import matcher

        items = [f"{k}={v}" for k, v in (filters or {}).items()]
        try:
            removed = self.client.engine.networks.prune(
                matcher(items, ("label", "label!", "until"))
            )
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        return {"NetworksDeleted": removed}

"""``client.volumes``: create, get, list, prune; and `Volume`, docker-py's model object."""

from __future__ import annotations

from dockyard import errors as engine_errors
from dockyard.client.errors import translate
from dockyard.client.model import Model

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.client import Client


class Volume(Model):
    id_key = "Name"

    @property
    def name(self) -> str:
        return self.id

    def reload(self) -> None:
        self.attrs = self.client.volumes.get(self.id).attrs

    def remove(self, force: bool = False) -> None:
        try:
            self.client.engine.volumes.remove(self.id, force=force)
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc


class VolumeCollection:
    def __init__(self, client: Client) -> None:
        self.client = client

    def create(
        self,
        name: str | None = None,
        driver: str | None = None,
        driver_opts: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> Volume:
        from dockyard.engine.volume_json import volume_json

        try:
            vol = self.client.engine.volumes.create(
                name or "", labels, driver or "local", driver_opts
            )
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        return Volume(self.client, volume_json(vol))

    def get(self, volume_id: str) -> Volume:
        from dockyard.engine.volume_json import volume_json

        try:
            return Volume(self.client, volume_json(self.client.engine.volumes.get(volume_id)))
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc

    def list(self, filters: dict[str, Any] | None = None) -> list[Volume]:
        from dockyard.engine.volume_json import select, volume_json

        items = [f"{k}={v}" for k, v in (filters or {}).items()]
        try:
            return [Volume(self.client, volume_json(v)) for v in select(self.client.engine, items)]
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        labels: dict[str, str] = {}
        everything = False
        for key, value in (filters or {}).items():
            if key == "label":
                k, _, v = str(value).partition("=")
                labels[k] = v
            elif key == "all":
                everything = str(value).lower() in ("true", "1")
        removed = self.client.engine.volumes.prune(everything, labels)
        return {"VolumesDeleted": removed, "SpaceReclaimed": 0}

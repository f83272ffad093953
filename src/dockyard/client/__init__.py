"""The Python API: docker-py's high-level client, in-process, with no daemon.

    import dockyard

    client = dockyard.from_env()
    print(client.containers.run("busybox", ["echo", "hi"]))   # b'hi\\n'
    box = client.containers.run("busybox", "sleep 60", detach=True)
    box.stop()
    box.remove()

`Client` holds an engine (engine/): every call works on the same store,
database and monitors as the ``dockyard`` command, so containers made here
show in ``dockyard ps`` and the other way round.
"""

from __future__ import annotations

from dockyard.client.errors import (
    APIError,
    ContainerError,
    DockerException,
    ImageNotFound,
    NotFound,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.client.containers import ContainerCollection
    from dockyard.client.events import EventStream
    from dockyard.client.images import ImageCollection
    from dockyard.client.networks import NetworkCollection
    from dockyard.client.volumes import VolumeCollection
    from dockyard.engine.engine import Engine

__all__ = [
    "APIError",
    "Client",
    "ContainerError",
    "DockerException",
    "ImageNotFound",
    "NotFound",
    "from_env",
]


def _env(name: str, default: str) -> str:
    import os

    return os.environ.get(name) or default


class Client:
    """The engine under ``root`` (the store) and ``run_root`` (what a reboot forgets)."""

    def __init__(
        self,
        root: str | None = None,
        run_root: str | None = None,
        insecure_registries: list[str] | None = None,
    ) -> None:
        from dockyard.engine.engine import Engine

        self.engine: Engine = Engine(
            root or _env("DOCKYARD_ROOT", "/var/lib/dockyard"),
            run_root or _env("DOCKYARD_RUN_ROOT", "/run/dockyard"),
            insecure_registries
            if insecure_registries is not None
            else [h for h in _env("DOCKYARD_INSECURE_REGISTRIES", "").split(",") if h],
            _env("DOCKYARD_CGROUP_PARENT", ""),
            _env("DOCKYARD_DEFAULT_RUNTIME", "dockyard"),
        )

    @property
    def containers(self) -> ContainerCollection:
        from dockyard.client.containers import ContainerCollection

        return ContainerCollection(self)

    @property
    def images(self) -> ImageCollection:
        from dockyard.client.images import ImageCollection

        return ImageCollection(self)

    @property
    def volumes(self) -> VolumeCollection:
        from dockyard.client.volumes import VolumeCollection

        return VolumeCollection(self)

    @property
    def networks(self) -> NetworkCollection:
        from dockyard.client.networks import NetworkCollection

        return NetworkCollection(self)

    def events(
        self,
        since: object = None,
        until: object = None,
        filters: dict[str, object] | None = None,
        decode: bool | None = None,
    ) -> EventStream:
        """docker-py's ``events()``: JSON lines (dicts with ``decode=True``) from the
        engine's event log; past ones with ``since``/``until``, then new ones until
        ``until`` or ``close()``."""
        from dockyard.client.events import events

        return events(self, since, until, filters, decode)

    def ping(self) -> bool:
        return True

    def version(self) -> dict[str, Any]:
        """Docker's ``GET /version``: the engine's version and its components'."""
        from dockyard import OCI_VERSION
        from dockyard.engine.info import server_version

        return {**server_version(), "OciVersion": OCI_VERSION}

    def info(self) -> dict[str, Any]:
        """Docker's ``GET /info``: containers, images, driver, runtimes, host."""
        from dockyard.engine.info import system_info

        return system_info(self.engine)

    def df(self) -> dict[str, Any]:
        """Docker's ``GET /system/df``: LayersSize, Images, Containers, Volumes, BuildCache."""
        from dockyard.engine.disk_usage import disk_usage

        return disk_usage(self.engine)

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def from_env(**kwargs: object) -> Client:
    """A client configured from the environment (DOCKYARD_ROOT, DOCKYARD_RUN_ROOT, ...)."""
    return Client(**kwargs)  # type: ignore[arg-type]

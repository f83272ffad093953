"""docker-py's ``Container.rename/diff/commit/export`` and ``containers.prune``.

Mixed into `Container` and `ContainerCollection` (client/containers.py), the
work done by the engine's verbs, errors turned into the API's.
"""

from __future__ import annotations

from dockyard.client.errors import translate
from dockyard.errors import DockyardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from dockyard.client import Client
    from dockyard.client.images import Image

CHUNK = 2 * 1024 * 1024  # docker-py's DEFAULT_DATA_CHUNK_SIZE


def _call(action: Any) -> Any:
    try:
        return action()
    except DockyardError as exc:
        raise translate(exc) from exc


class ContainerOps:
    client: Client

    @property
    def id(self) -> str:  # Model's (the container's full id)
        raise NotImplementedError

    def rename(self, name: str) -> None:
        from dockyard.engine.rename import rename

        _call(lambda: rename(self.client.engine, self.id, name))

    def diff(self) -> list[dict[str, Any]]:
        """``[{"Path": "/etc", "Kind": 0}, ...]``: 0 changed, 1 added, 2 deleted."""
        from dockyard.engine.changes import KINDS, container_changes

        found = _call(lambda: container_changes(self.client.engine, self.id))
        return [{"Path": c.path, "Kind": KINDS[c.kind]} for c in found]

    def commit(
        self,
        repository: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        author: str | None = None,
        pause: bool = True,
        changes: str | list[str] | None = None,
        conf: dict[str, Any] | None = None,
    ) -> Image:
        """A new image of the container's changes (docker-py's commit)."""
        from dockyard.engine.commit import commit

        if conf:
            raise translate(DockyardError("conf: a whole config is not supported; use changes"))
        name = f"{repository}:{tag}" if repository and tag else repository or ""
        wanted = [changes] if isinstance(changes, str) else list(changes or [])
        engine = self.client.engine
        image_id = _call(
            lambda: commit(engine, self.id, name, author or "", message or "", wanted, pause)
        )
        return self.client.images.get(image_id)

    def export(self, chunk_size: int | None = CHUNK) -> Iterator[bytes]:
        """The container's filesystem as a tar, in chunks (spooled first, then read)."""
        import tempfile

        from dockyard.engine.export import export

        spool = tempfile.TemporaryFile(prefix="dockyard-export-")  # noqa: SIM115
        try:
            _call(lambda: export(self.client.engine, self.id, spool))
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return _chunks(spool, chunk_size or CHUNK)


def _chunks(spool: Any, size: int) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(size):
            yield chunk


class CollectionOps:
    client: Client

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers: ``{"ContainersDeleted": [...], "SpaceReclaimed": N}``."""
        from dockyard.engine.prune import parse_filters, prune_containers

        items = []
        for key, value in (filters or {}).items():
            for v in value if isinstance(value, list) else [value]:
                items.append(f"{key}={v}")
        engine = self.client.engine
        deleted, space = _call(lambda: prune_containers(engine, parse_filters(items)))
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": space}

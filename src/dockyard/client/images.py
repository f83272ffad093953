"""``client.images``: pull, get, list, remove; and `Image`, docker-py's model object."""

from __future__ import annotations

from dockyard import errors as engine_errors
from dockyard.client.errors import ImageNotFound, translate
from dockyard.client.model import Model

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from typing import Any

    from dockyard.client import Client
    from dockyard.storage.images import ImageRecord


class Image(Model):
    def __repr__(self) -> str:
        return f"<Image: {', '.join(repr(t) for t in self.tags) or self.short_id}>"

    @property
    def short_id(self) -> str:
        return self.id[:19]  # "sha256:" and 12 digits, as docker-py's

    @property
    def tags(self) -> list[str]:
        return [t for t in self.attrs.get("RepoTags") or [] if t != "<none>:<none>"]

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.attrs.get("Config") or {}).get("Labels") or {})

    def reload(self) -> None:
        self.attrs = self.client.images.get(self.id).attrs

    def history(self) -> list[dict[str, Any]]:
        """docker-py's: the steps, newest first, as the Engine API gives them."""
        from dockyard.engine.image_ops import history, seconds

        try:
            steps = history(self.client.engine, self.id)
        except engine_errors.DockyardError as exc:
            raise translate(exc, image=True) from exc
        return [
            {
                "Id": step.image_id,
                "Created": int(seconds(step.created) or 0),
                "CreatedBy": step.created_by,
                "Tags": (self.tags or None) if index == 0 else None,
                "Size": step.size,
                "Comment": step.comment,
            }
            for index, step in enumerate(steps)
        ]

    def tag(self, repository: str, tag: str | None = None, **kwargs: Any) -> bool:
        """docker-py's: name this image ``repository:tag`` (``latest`` when no tag); True."""
        from dockyard.image import reference

        name = f"{repository}:{tag}" if tag else repository
        try:
            target = reference.parse(name)
            if target.digest:
                raise engine_errors.InvalidArgument("refusing to create a tag with a digest")
            self.client.engine.images.store.images.tag(str(target), self.id)
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        return True


class ImageCollection:
    def __init__(self, client: Client) -> None:
        self.client = client

    def _model(self, record: ImageRecord) -> Image:
        from dockyard.engine.image_json import inspect_data

        return Image(self.client, inspect_data(self.client.engine.images.store, record))

    def get(self, name: str) -> Image:
        try:
            return self._model(self.client.engine.images.find(name))
        except engine_errors.DockyardError as exc:
            raise translate(exc, image=True) from exc

    def list(
        self,
        name: str | None = None,
        all: bool = False,
        filters: dict[str, Any] | None = None,
    ) -> list[Image]:
        """Each image once, newest first; ``name`` and ``filters`` as Docker's images API."""
        from dockyard.engine.image_list import select

        items = _filter_items(filters)
        engine = self.client.engine
        try:
            found = select(engine, items, name)
        except engine_errors.DockyardError as exc:
            raise translate(exc, image=True) from exc
        seen: dict[str, ImageRecord] = {}
        for entry in found:
            seen.setdefault(entry.image.id, entry.image)
        return [self._model(image) for image in seen.values()]

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """Remove unused images: dangling ones, or every unused one with
        ``filters={"dangling": False}`` (docker-py's answer shape)."""
        from dockyard.engine.image_ops import prune
        from dockyard.engine.prune import parse_filters

        wanted = dict(filters or {})
        dangling = str(wanted.pop("dangling", True)).lower() not in ("false", "0")
        try:
            result = prune(self.client.engine, not dangling, parse_filters(_filter_items(wanted)))
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        deleted: list[dict[str, str]] = []
        for image_id in result.deleted:
            deleted += [{"Untagged": name} for name in result.untagged.get(image_id, [])]
            deleted.append({"Deleted": image_id})
        deleted += [{"Deleted": layer} for layer in result.layers]
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": result.freed}

    def pull(
        self,
        repository: str,
        tag: str | None = None,
        all_tags: bool = False,
        platform: str | None = None,
    ) -> Image | builtins.list[Image]:
        """docker-py's: the image pulled, or (``all_tags``) every image of the repository."""
        from dockyard.client.containers import _Discard

        name = f"{repository}:{tag}" if tag and "@" not in repository else repository
        images = self.client.engine.images
        if all_tags:
            from dockyard.engine.image_pull_all import pull_all_tags

            try:
                pull_all_tags(images, name, _Discard(), quiet=True, platform=platform or "")  # type: ignore[arg-type]
            except engine_errors.DockyardError as exc:
                raise translate(exc) from exc
            return self.list(repository)
        try:
            image_id = images.pull(name, _Discard(), quiet=True, platform=platform or "")  # type: ignore[arg-type]
            return self._model(images.store.images.get(image_id))
        except engine_errors.NotFound as exc:
            raise ImageNotFound(str(exc)) from exc
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc

    def remove(self, image: str, force: bool = False, noprune: bool = False) -> None:
        from dockyard.engine.image_ops import remove

        try:
            remove(self.client.engine, image, force)
        except engine_errors.DockyardError as exc:
            raise translate(exc, image=True) from exc


def _filter_items(filters: dict[str, Any] | None) -> list[str]:
    """docker-py's filters dict as the CLI's ``key=value`` items."""
    items = []
    for key, value in (filters or {}).items():
        for v in value if isinstance(value, list) else [value]:
            items.append(f"{key}={str(v).lower() if isinstance(v, bool) else v}")
    return items

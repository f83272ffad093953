"""The image verbs' work: ``tag``, ``rmi``, ``image prune`` and ``history``.

Each returns what happened as data (the lines Docker prints are made from
it by the CLI): ``rmi`` the names untagged and images deleted, ``prune``
the images deleted with their tags and what the collection freed,
``history`` one entry per step of the image's config with its layer's size.
"""

from __future__ import annotations

from dockyard.engine.record import field, record
from dockyard.errors import Conflict, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.prune import PruneFilter
    from dockyard.storage.gc import Collected
    from dockyard.storage.images import ImageRecord


def tag(engine: Engine, source: str, target: str) -> str:
    """Name the image ``source`` finds ``target`` too; the full target name."""
    from dockyard.image import reference

    image = engine.images.find(source)
    ref = reference.parse(target)
    if ref.digest:
        raise InvalidArgument("refusing to create a tag with a digest reference")
    engine.images.store.images.tag(str(ref), image.id)
    from dockyard.engine.events import image_event

    image_event(engine, image.id, "tag", ref.familiar)
    return str(ref)


@record
class Removal:
    """What ``rmi NAME`` did: names untagged (familiar), images deleted, and the
    collection's notes (layers removed, removals put off)."""

    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _users(engine: Engine, image_id: str) -> tuple[list[str], list[str]]:
    """(running, stopped) containers made from the image."""
    from dockyard.engine.exits import current_status
    from dockyard.engine.status import Status

    running: list[str] = []
    stopped: list[str] = []
    for container_id in engine.containers.using_image(image_id):
        try:
            rec = engine.containers.get(container_id)
        except Exception:
            continue
        live = current_status(engine, rec) in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)
        (running if live else stopped).append(container_id)
    return running, stopped


def remove(engine: Engine, text: str, force: bool = False) -> Removal:
    """``rmi`` (`_remove`), and its events: an ``untag`` per name, a ``delete`` per image."""
    from dockyard.engine.events import image_removed

    image_id = engine.images.find(text).id
    out = _remove(engine, text, force)
    image_removed(engine, image_id, out.untagged, out.deleted)
    return out


def _remove(engine: Engine, text: str, force: bool = False) -> Removal:
    """``rmi``: untag a name, or delete an image given by id (or by its last name).

    As Docker: the last name of an image a container uses is kept without ``-f``
    ("must force"); with ``-f`` the image goes unless a container runs it (then
    only the name goes). By id, a running container's image cannot be deleted at
    all, a stopped one's only with ``-f``.
    """
    from dockyard.errors import DockyardError
    from dockyard.image import reference

    store = engine.images.store
    image = engine.images.find(text)
    try:
        name = str(reference.parse(text))
    except DockyardError:
        name = ""
    out = Removal()
    running, stopped = _users(engine, image.id)
    if name and "@" in name:  # by digest: drop it; delete the image if nothing else names it
        by_id = store.remove_repo_digest(image, name)
        out.untagged.append(reference.parse(name).familiar)
        if not by_id:
            return out
        names: list[str] = []
    elif name in store.images.names():
        by_id = False
        names = [name]
        last = store.images.tags_of(image.id) == [name]
        if last and (running or stopped) and not force:
            raise Conflict(
                f'conflict: unable to remove repository reference "{text}" (must force) - '
                f"container {(running + stopped)[0][:12]} is using its referenced image "
                f"{image.short_id}"
            )
        if not last or running:  # the image stays: only the name goes
            store.images.untag(name)
            out.untagged.append(reference.parse(name).familiar)
            out.untagged += _forget_digests(engine, image, reference.parse(name).repository)
            return out
    else:
        by_id = True
        names = []
        if running:
            raise Conflict(
                f"conflict: unable to delete {image.short_id} (cannot be forced) - image is "
                f"being used by running container {running[0][:12]}"
            )
        if stopped and not force:
            raise Conflict(
                f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                f"being used by stopped container {stopped[0][:12]}"
            )
    result = store.remove(image, names, force, by_id)
    out.untagged += [reference.parse(n).familiar for n in result.untagged]
    for deleted in result.deleted:
        out.untagged += [reference.parse(d).familiar for d in image.repo_digests]
        out.deleted.append(deleted)
    if result.collected is not None:
        out.notes = collection_notes(result.collected)
    return out


def _forget_digests(engine: Engine, image: ImageRecord, repository: str) -> list[str]:
    """As Docker: a repository's digests of an image go with its last tag there."""
    from dockyard.image import reference

    store = engine.images.store
    if any(t.rpartition(":")[0] == repository for t in store.images.tags_of(image.id)):
        return []
    gone = []
    for digest in image.repo_digests:
        if digest.partition("@")[0] == repository:
            store.remove_repo_digest(image, digest)
            gone.append(reference.parse(digest).familiar)
    return gone


def collection_notes(collected: Collected) -> list[str]:
    """What a collection removed, and what waits: Docker's "Deleted:" lines, then notes."""
    lines = [f"Deleted: {layer}" for layer in collected.layers]
    if collected.deferred_layers or collected.deferred_blobs:
        lines.append(
            f"Pending: {len(collected.deferred_layers)} layers and "
            f"{len(collected.deferred_blobs)} blobs are in use by a running operation; "
            "they are removed when it ends"
        )
    if collected.blocked:
        lines.append(
            "Pending: nothing was collected: damaged records ("
            + ", ".join(collected.blocked)
            + "); run 'dockyard system check'"
        )
    return lines


@record
class PruneResult:
    deleted: list[str] = field(default_factory=list)  # image ids
    untagged: dict[str, list[str]] = field(default_factory=dict)  # id -> familiar names
    layers: list[str] = field(default_factory=list)  # layers collected
    freed: int = 0
    notes: list[str] = field(default_factory=list)


def prune(
    engine: Engine, all_images: bool = False, filters: PruneFilter | None = None
) -> PruneResult:
    """``image prune``: dangling images (every unused one with ``all_images``) that no
    container uses and the filters (``until``, ``label``) match; then a collection."""
    from dockyard.engine.clock import parse_ns
    from dockyard.engine.image_list import labels_of
    from dockyard.image import reference

    used = {rec.image_id for rec in engine.containers.all()}

    def wanted(image: object) -> bool:
        if image.id in used:  # type: ignore[attr-defined]
            return False
        if filters is None:
            return True
        created = parse_ns(image.created) if image.created else 0  # type: ignore[attr-defined]
        return filters.matches(labels_of(engine, image), created)  # type: ignore[arg-type]

    deleted, untagged, collected = engine.images.store.prune(all_images, wanted)
    return PruneResult(
        deleted=[image.id for image in deleted],
        untagged={k: [reference.parse(t).familiar for t in v] for k, v in untagged.items()},
        layers=list(collected.layers),
        freed=collected.freed,
        notes=[n for n in collection_notes(collected) if not n.startswith("Deleted: ")],
    )


def seconds(created: str) -> float | None:
    """An image's (or step's) creation time as a Unix time; None if it has none we read."""
    from dockyard.engine.clock import parse_ns

    try:
        return parse_ns(created) / 1e9 if created else None
    except ValueError:
        return None


@record
class HistoryEntry:
    image_id: str  # the image's id on its newest step, "<missing>" on the others
    created: str
    created_by: str
    size: int
    comment: str


def history(engine: Engine, name: str) -> list[HistoryEntry]:
    """``history``: the image's steps, newest first, each with its layer's size."""
    store = engine.images.store
    image = engine.images.find(name)
    config = store.images.config(image)
    sizes = [store.layers.record(chain).size for chain in image.layers]
    steps = list(config.history)
    if not steps:
        from dockyard.oci.image_spec import History

        steps = [History(created=config.created) for _ in config.diff_ids]
    out = []
    layer = 0
    for step in steps:
        size = 0
        if not step.empty_layer and layer < len(sizes):
            size = sizes[layer]
            layer += 1
        out.append(HistoryEntry("<missing>", step.created, step.created_by, size, step.comment))
    out.reverse()
    if out:
        out[0].image_id = image.id
    return out

"""``images``: which images to list and under which names, with Docker's filters.

An image is listed once per tag; once per repository it has a digest in but
no tag (``<none>`` tag); and as ``<none>:<none>`` when nothing names it (a
dangling image). Filters: ``dangling=``, ``reference=`` (a glob over the
name, as Docker matches it), ``label=`` (``k`` or ``k=v``), ``before=`` and
``since=`` (another image), ``until=`` (a time). The positional
``REPOSITORY[:TAG]`` is a reference filter.
"""

from __future__ import annotations

import fnmatch

from dockyard.engine.record import record
from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.storage.images import ImageRecord

FILTERS = ("dangling", "reference", "label", "before", "since", "until")


@record
class ImageEntry:
    """One line of ``images``: the image and the name it is shown under."""

    image: ImageRecord
    repository: str  # familiar ("busybox"), or "<none>"
    tag: str  # or "<none>"
    digest: str  # the repository's digest of the image, or "<none>"
    name: str  # the full name the tag is ("docker.io/library/busybox:latest"), or ""

    @property
    def dangling(self) -> bool:
        return self.repository == "<none>" and self.tag == "<none>"


def entries(engine: Engine) -> list[ImageEntry]:
    """Every image under each of its names, newest first."""
    from dockyard.image import reference

    store = engine.images.store
    names = store.images.names()
    out: list[ImageEntry] = []
    for image in store.images.all():
        digests = {d.split("@")[0]: d.split("@")[1] for d in image.repo_digests}
        shown: set[str] = set()
        for tag in store.images.tags_of(image.id, names):
            ref = reference.parse(tag)
            shown.add(ref.repository)
            digest = digests.get(ref.repository, "<none>")
            out.append(ImageEntry(image, ref.familiar_repository, ref.tag or "<none>", digest, tag))
        for repo, digest in digests.items():
            if repo not in shown:
                shown.add(repo)
                familiar = reference.parse(repo).familiar_repository
                out.append(ImageEntry(image, familiar, "<none>", digest, ""))
        if not shown:
            out.append(ImageEntry(image, "<none>", "<none>", "<none>", ""))
    out.sort(key=lambda e: (e.image.created, e.image.added), reverse=True)
    return out


def parse_filters(items: list[str]) -> list[tuple[str, str]]:
    found = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"bad format of filter (expected name=value): {item}")
        if key not in FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
        found.append((key, value))
    return found


def select(
    engine: Engine, filters: list[str] | None = None, repository: str | None = None
) -> list[ImageEntry]:
    """The entries ``images [REPOSITORY[:TAG]] [--filter ...]`` lists."""
    from dockyard.engine.clock import parse_ns

    chosen = entries(engine)
    for key, value in parse_filters(filters or []):
        if key == "dangling":
            want = value.lower() in ("true", "1")
            chosen = [e for e in chosen if e.dangling == want]
        elif key == "reference":
            chosen = [e for e in chosen if e.name and reference_matches(e, value)]
        elif key == "label":
            label, _, wanted = value.partition("=")
            chosen = [e for e in chosen if _has_label(engine, e.image, label, wanted)]
        elif key in ("before", "since"):
            pivot = parse_ns(engine.images.find(value).created)
            chosen = [
                e
                for e in chosen
                if (parse_ns(e.image.created) < pivot if key == "before" else
                    parse_ns(e.image.created) > pivot)
            ]  # fmt: skip
        else:  # until
            from dockyard.engine.logs import parse_since

            limit = parse_since(value)
            chosen = [e for e in chosen if parse_ns(e.image.created) < limit]
    if repository:
        chosen = [e for e in chosen if e.name and reference_matches(e, repository)]
    return chosen


def reference_matches(entry: ImageEntry, pattern: str) -> bool:
    """Docker's reference filter: a glob over the familiar or the full name, with or
    without the tag, as the pattern has one or not."""
    familiar = f"{entry.repository}:{entry.tag}"
    if ":" in pattern.rsplit("/", 1)[-1]:
        return fnmatch.fnmatchcase(familiar, pattern) or fnmatch.fnmatchcase(entry.name, pattern)
    return fnmatch.fnmatchcase(entry.repository, pattern) or fnmatch.fnmatchcase(
        entry.name.rsplit(":", 1)[0], pattern
    )


def labels_of(engine: Engine, image: ImageRecord) -> dict[str, str]:
    return dict(engine.images.store.images.config(image).config.labels)


def _has_label(engine: Engine, image: ImageRecord, key: str, value: str) -> bool:
    labels = labels_of(engine, image)
    return key in labels and (not value or labels[key] == value)

"""Images in and out of files: ``save``, ``load`` and ``import``.

- `save`: images (each once, with the names asked for) as a docker-archive,
  an OCI archive, or into an OCI layout directory.
- `load`: what an archive is (a docker-archive has ``manifest.json``, an OCI
  layout ``index.json``), found from a directory or a file read in place;
  from a pipe, the members are spooled into the store's private directory as
  they come (the archive's index may come last), removed when the load ends.
- `import_tarball`: a root filesystem tarball as a one-layer image, with
  ``--change`` instructions (engine/dockerfile_changes.py) and a message.
"""

from __future__ import annotations

import posix

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

    from dockyard.engine.engine import Engine
    from dockyard.image.docker_archive import SaveItem
    from dockyard.image.layout import Bundle
    from dockyard.image.transport import ImageSource

FORMATS = ("docker-archive", "oci-archive", "oci-dir")


def save_items(engine: Engine, names: list[str]) -> list[SaveItem]:
    """The images ``names`` find, each once, with those of the names that are its tags."""
    from dockyard.image import reference
    from dockyard.image.docker_archive import SaveItem

    store = engine.images.store
    items: dict[str, SaveItem] = {}
    for text in names:
        image = engine.images.find(text)
        item = items.get(image.id)
        if item is None:
            config = store.images.config(image)
            item = items[image.id] = SaveItem(
                names=[],
                manifest_raw=store.read_blob(image.manifest_digest),
                manifest_media_type=image.manifest_media_type,
                manifest_digest=image.manifest_digest,
                manifest=store.images.manifest(image),
                diff_ids=list(config.diff_ids),
            )
        try:
            ref = reference.parse(text)
        except InvalidArgument:
            continue
        if ref.tag and str(ref) in store.images.names() and str(ref) not in item.names:
            item.names.append(str(ref))
    return list(items.values())


def save(engine: Engine, names: list[str], fmt: str, out: IO[bytes]) -> None:
    """``save`` into a stream: a docker-archive or an OCI archive."""
    from dockyard.image.docker_archive import BlobReader, save_docker_archive, save_oci
    from dockyard.image.layout import BundleWriter

    if fmt not in FORMATS[:2]:
        raise InvalidArgument(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    store = engine.images.store
    # the images are leased while they are written: rmi meanwhile leaves their blobs
    with store.using(*(engine.images.find(text) for text in names)):
        items = save_items(engine, names)
        blobs = BlobReader(store.open_blob, store.layers.open_diff)
        writer = BundleWriter(out, as_dir=False)
        try:
            if fmt == "docker-archive":
                save_docker_archive(items, blobs, writer)
            else:
                save_oci(items, blobs, writer)
            writer.close()
        except BaseException:
            writer.abandon()
            raise


def save_dir(engine: Engine, names: list[str], directory: str) -> None:
    """``save --format oci-dir``: into an OCI layout directory (added to one that exists)."""
    from dockyard.image.docker_archive import BlobReader, save_oci
    from dockyard.image.layout import Bundle, BundleWriter, read_index

    store = engine.images.store
    # the images are leased while they are written: rmi meanwhile leaves their blobs
    with store.using(*(engine.images.find(text) for text in names)):
        items = save_items(engine, names)
        blobs = BlobReader(store.open_blob, store.layers.open_diff)
        existing = None
        if posix.access(f"{directory}/index.json", posix.F_OK):
            existing = read_index(Bundle(directory))
        save_oci(items, blobs, BundleWriter(directory, as_dir=True), existing)


def sources(bundle: Bundle) -> list[tuple[ImageSource, list[str]]]:
    """Every image in a docker-archive or OCI layout, with the names to give it."""
    from dockyard.image import reference
    from dockyard.image.docker_archive import DockerArchiveSource, read_manifest_json
    from dockyard.image.layout import LayoutSource, entry_names, read_index

    found: list[tuple[ImageSource, list[str]]] = []
    if bundle.exists("manifest.json"):
        for archived in read_manifest_json(bundle):
            source = DockerArchiveSource(bundle, archived)
            found.append((source, source.names()))
        return found
    index = read_index(bundle)
    by_digest: dict[str, tuple[LayoutSource, list[str]]] = {}
    for entry in index.manifests:
        full, ref_name = entry_names(entry)
        names = []
        if full:
            names.append(str(reference.parse(full)))
        elif ref_name and ("/" in ref_name or ":" in ref_name):
            try:
                names.append(str(reference.parse(ref_name)))
            except ValueError:
                pass
        if entry.digest in by_digest:
            by_digest[entry.digest][1].extend(names)
        else:
            by_digest[entry.digest] = (LayoutSource(bundle, entry), names)
    return list(by_digest.values())


def random_access(path: str, stdin_fd: int = 0) -> bool:
    """A directory, or a regular file read from its start (the archive reader seeks)."""
    import stat

    try:
        st = posix.stat(path)
    except OSError:
        return path != "/dev/stdin"  # a missing -i file: Bundle says so
    if stat.S_ISDIR(st.st_mode):
        return True
    if not stat.S_ISREG(st.st_mode):
        return False
    return path != "/dev/stdin" or posix.lseek(stdin_fd, 0, 1) == 0  # SEEK_CUR


def load_path(engine: Engine, path: str, platform: str = "") -> list[tuple[str, list[str]]]:
    """Load every image of the archive or layout at ``path``: (image id, names) each."""
    from dockyard.image import copy
    from dockyard.image.layout import Bundle
    from dockyard.image.platform import parse_platform

    store = engine.images.store  # made first: a failed load leaves an empty store, no less
    bundle = Bundle(path)
    try:
        wanted = parse_platform(platform) if platform else None
        loaded = []
        for source, names in sources(bundle):
            result = copy.pull(source, store, wanted=wanted, tags=names)
            loaded.append((result.image_id, names))
        from dockyard.engine.events import image_event

        for image_id, _ in loaded:
            image_event(engine, image_id, "load", image_id)
        return loaded
    finally:
        bundle.close()


def load_stream(
    engine: Engine, stream: IO[bytes], what: str, platform: str = ""
) -> list[tuple[str, list[str]]]:
    """Load an archive read forward (a pipe): spooled into the store's private
    directory member by member, each header checked as it comes, then loaded."""
    from dockyard.image.spool import spool_archive

    store = engine.images.store
    with store.scratch() as scratch:
        spool = scratch / "archive"
        spool.mkdir()
        spool_archive(stream, spool, what)
        return load_path(engine, str(spool), platform)


def import_tarball(
    engine: Engine,
    path: str,
    repository: str = "",
    changes: list[str] | None = None,
    message: str = "",
    platform: str = "",
) -> str:
    """``import``: the tarball at ``path`` (plain, gzip or zstd) as a one-layer image."""
    from dockyard.engine.dockerfile_changes import apply_changes
    from dockyard.image import copy, reference
    from dockyard.image.platform import parse_platform
    from dockyard.image.tarball import TarballSource
    from dockyard.oci.image_spec import ContainerConfig

    tags = [str(reference.parse(repository))] if repository else []
    config = ContainerConfig.from_json(apply_changes({}, changes or []))
    source = TarballSource(path, config, message, parse_platform(platform) if platform else None)
    image_id = copy.pull(source, engine.images.store, tags=tags).image_id
    from dockyard.engine.events import image_event

    image_event(engine, image_id, "import", image_id)
    return image_id

"""Images as the engine uses them: find by any name Docker accepts, pull, pull when missing.

`ImageService.pull` writes Docker's pull output (``latest: Pulling from
library/busybox``, per-layer progress on a terminal, ``Digest:``,
``Status:``) to the stream it is given: ``dockyard pull`` gives stdout,
``dockyard run`` of a missing image gives stderr, as Docker does, so the
container's output alone reaches stdout.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from dockyard.engine.events import EventLog
    from dockyard.engine.image_facts import ImageFacts
    from dockyard.storage.images import ImageRecord
    from dockyard.storage.local import LocalStore
    from dockyard.storage.snapshots import Snapshots

PULL_POLICIES = ("missing", "always", "never")
#: docker/cli's words for another --pull value
PULL_POLICY_ERROR = 'invalid pull option: \'{}\': must be one of "always", "missing" or "never"'


class ImageService:
    def __init__(
        self, root: str, insecure: list[str] | None = None, events: EventLog | None = None
    ) -> None:
        self.root = root
        self.insecure = list(insecure or [])
        self._store: LocalStore | None = None
        self._snapshots: Snapshots | None = None
        #: where pull records its event (engine/events.py); None records nothing
        self.events = events

    @property
    def store(self) -> LocalStore:
        if self._store is None:
            from dockyard.storage.local import LocalStore

            self._store = LocalStore(self.root)
        return self._store

    @property
    def snapshots(self) -> Snapshots:
        """The store's snapshots, without the rest of the store's machinery (pulls,
        layers, gc): all a container start needs of it."""
        if self._snapshots is None:
            if self._store is not None:
                self._snapshots = self._store.snapshots
            else:
                from dockyard.storage.snapshots import Snapshots
                from dockyard.storage.store import Store

                self._snapshots = Snapshots(Store(self.root))
        return self._snapshots

    def layer_dirs(self, image_id: str) -> tuple[list[str], list[str]]:
        """(chain ids, layer directories) of an image, base first."""
        from dockyard.storage import lookup

        chains = lookup.image_layers(self.root, image_id)
        if chains is None:
            record = self.store.images.get(image_id)  # says why it cannot
            return list(record.layers), [str(d) for d in self.store.layer_dirs(record)]
        return chains, [lookup.layer_dir(self.root, c) for c in chains]

    def chain_dirs(self, chains: list[str]) -> list[str]:
        """The directories of these layers (chain ids), base first."""
        from dockyard.storage import lookup

        return [lookup.layer_dir(self.root, c) for c in chains]

    def find(self, text: str) -> ImageRecord:
        """An image by name (normalised as Docker does), repo digest or (short) id."""
        from dockyard.image import reference

        full: str | None
        try:
            full = str(reference.parse(text))
        except InvalidArgument:
            full = None
        try:
            return self.store.images.resolve(text, full)
        except NotFound:
            # Docker's daemon names it normalised: busybox:latest, not busybox
            shown = text if text.startswith("sha256:") or full is None else _familiar(text)
            raise NotFound(f"No such image: {shown}") from None

    def facts(self, image_id: str) -> ImageFacts:
        from dockyard.engine.image_facts import read_facts
        from dockyard.storage import lookup

        blob = lookup.config_blob(self.root, image_id)
        if blob is None:
            blob = self.store.read_blob(image_id)  # says why it cannot
        return read_facts(image_id, blob)

    def quick_find(self, text: str) -> str | None:
        """The image id of a plain tagged name, read without the store's machinery;
        None sends the caller to `find` (which also knows ids, digests, errors)."""
        from dockyard.engine.refname import quick_full_name
        from dockyard.storage import lookup

        full = quick_full_name(text)
        return lookup.image_for_name(self.root, full) if full else None

    def pull(
        self, name: str, out: TextIO, quiet: bool = False, platform: str = "", jobs: int = 4
    ) -> str:
        """Pull ``name`` into the store, printing as ``docker pull``; the image id."""
        from dockyard.image import reference

        image_id, newer = self.pull_tag(name, out, quiet, platform, jobs)
        if not quiet:
            out.write(status_line(newer, reference.parse(name).familiar))
            out.flush()
        return image_id

    def pull_tag(
        self, name: str, out: TextIO, quiet: bool = False, platform: str = "", jobs: int = 4
    ) -> tuple[str, bool]:
        """`pull` but its ``Status:`` line: (the image id, True if it was new)."""
        from dockyard.image import copy, progress, reference
        from dockyard.image.credstore import CredentialStore
        from dockyard.image.http import HttpClient
        from dockyard.image.options import ClientOptions
        from dockyard.image.platform import parse_platform
        from dockyard.image.registry import Registry
        from dockyard.image.sources import RegistrySource

        ref = reference.parse(name)
        if not quiet:
            if ref.tag and ":" not in name.rsplit("/", 1)[-1] and not ref.digest:
                out.write(f"Using default tag: {ref.tag}\n")
            out.write(f"{ref.reference}: Pulling from {ref.path}\n")
            out.flush()
        store = self.store
        before = store.images.names().get(str(ref)) if ref.tag else None
        with HttpClient(
            CredentialStore(), insecure=self.insecure, options=ClientOptions.from_env()
        ) as client:
            source = RegistrySource(Registry(client, ref.api_host), ref)
            result = copy.pull(
                source,
                store,
                wanted=parse_platform(platform) if platform else None,
                tags=[str(ref)] if ref.tag else [],
                repo_digests=lambda digest: [f"{ref.repository}@{digest}"],
                progress=progress.for_stream(out, quiet),
                jobs=jobs,
            )
        if not quiet:
            out.write(f"Digest: {result.digest}\n")
        out.flush()
        if self.events is not None:
            labels = self.facts(result.image_id).labels
            self.events.emit(
                "image", "pull", ref.familiar, {**labels, "name": ref.familiar_repository}
            )
        return result.image_id, result.downloaded or before != result.image_id

    def list_tags(self, name: str) -> list[str]:
        """The tags the registry has for the repository ``name``."""
        from dockyard.image import reference
        from dockyard.image.credstore import CredentialStore
        from dockyard.image.http import HttpClient
        from dockyard.image.options import ClientOptions
        from dockyard.image.registry import Registry

        ref = reference.parse(name, default_tag=False)
        with HttpClient(
            CredentialStore(), insecure=self.insecure, options=ClientOptions.from_env()
        ) as client:
            return Registry(client, ref.api_host).list_tags(ref.path)

    def ensure(self, name: str, policy: str, out: TextIO, platform: str = "") -> str:
        """The id of the image for ``run``/``create``, pulled as ``--pull
        missing|always|never`` says."""
        if policy not in PULL_POLICIES:
            raise InvalidArgument(PULL_POLICY_ERROR.format(policy))
        if policy != "always":
            quick = self.quick_find(name)
            if quick is not None:
                return quick
            try:
                return self.find(name).id
            except NotFound:
                if policy == "never":
                    raise
        from dockyard.image import reference

        ref = reference.parse(name)
        if policy != "always":
            out.write(f"Unable to find image '{ref.familiar}' locally\n")
        return self.pull(str(ref), out, platform=platform)


def status_line(newer: bool, familiar: str) -> str:
    """Docker's last line of a pull: whether anything was new for ``familiar``."""
    if newer:
        return f"Status: Downloaded newer image for {familiar}\n"
    return f"Status: Image is up to date for {familiar}\n"


def _familiar(text: str) -> str:
    from dockyard.image import reference

    return reference.parse(text).familiar

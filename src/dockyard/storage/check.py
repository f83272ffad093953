"""``system check``: find what is wrong in the store and repair what can be repaired.

It runs alone (store.lock exclusive: no operation runs, so what no lock
vouches for can be judged) and goes from the bottom up:

- leftovers in tmp/: dead operations' directories, and entries no lock holds;
- names.json and image records that cannot be read (what a power cut could
  leave): a damaged record is rebuilt from the blobs (the manifest that names
  the image's config gives the rest); a damaged names.json is emptied, its tags
  lost; what cannot be rebuilt is removed, and said so;
- blobs whose content does not match their digest (removed);
- images: a layer that is missing or whose record is damaged is unpacked
  again from its stored blob; an image missing a blob it cannot do without is
  removed with its tags, to be pulled again;
- tags that point at no image (removed);
- snapshots with a damaged record: named, not touched (they hold a
  container's files, and only the engine knows which image they came from);
- layers and blobs that nothing uses and no operation leases: the leftovers
  of a pull killed between its layers and its image record (removed). If
  ``gc.pending`` says an operation that ended owes that collection (it ends
  the store lock before it collects), they are reported as pending removals,
  not as problems, and removed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from dockyard.errors import DockyardError
from dockyard.oci.image_spec import ImageConfig, Index, Manifest, parse_manifest

from .gc import collect
from .images import ImageRecord, Images
from .layers import Layers, chain_ids
from .operations import PENDING, Operation, clean_all, start
from .snapshots import Snapshots
from .store import Store

_SMALL = 4 << 20  # manifests and configs are smaller than this; layer blobs are skipped


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)  # what was found
    repaired: list[str] = field(default_factory=list)  # what was done about it
    unrepaired: list[str] = field(default_factory=list)  # what is still wrong
    pending: list[str] = field(default_factory=list)  # removals owed, not problems


def _blob_ok(store: Store, digest: str) -> bool:
    h = hashlib.sha256()
    try:
        with store.open_blob(digest) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except DockyardError:
        return False
    return f"sha256:{h.hexdigest()}" == digest


def check(store: Store, repair: bool = True, verify_blobs: bool = True) -> CheckReport:
    report = CheckReport()
    with store.exclusive():
        left = clean_all(store, dry_run=not repair)
        for name in left.dead:
            what = "removed the" if repair else "found"
            (report.repaired if repair else report.problems).append(
                f"{what} leftovers of an interrupted operation: {name}"
            )
        for name in left.orphans:
            report.problems.append(f"tmp/{name}: no operation holds it")
            if repair:
                report.repaired.append(f"removed tmp/{name}")
        # Owed: an operation that ended asked for a collection it has not run yet.
        owed = (store.root / PENDING).exists()
        op = start(store, "check")
        try:
            _Checker(store, op, report, repair).run(verify_blobs)
            collected = collect(store, op, dry_run=not repair)
        finally:
            op.close()
    for path in collected.blocked:
        report.unrepaired.append(f"{path}: damaged; unused layers and blobs were not collected")
    if owed and (collected.layers or collected.blobs):
        done = "removed" if repair else "await removal:"
        report.pending.append(
            f"{done} {len(collected.layers)} layers and {len(collected.blobs)} blobs "
            "that an ended operation left for collection"
        )
    else:
        unused = [f"layer {c}" for c in collected.layers] + [f"blob {b}" for b in collected.blobs]
        for what in unused:
            report.problems.append(f"{what} is used by no image or snapshot")
            if repair:
                report.repaired.append(f"removed the unused {what}")
    if not repair:
        report.unrepaired = list(report.problems)
    return report


class _Checker:
    def __init__(self, store: Store, op: Operation, report: CheckReport, repair: bool) -> None:
        self.store = store
        self.op = op
        self.report = report
        self.repair = repair
        self.images = Images(store)
        self.layers = Layers(store)

    def problem(self, text: str, fix: str | None) -> None:
        """Report ``text``; ``fix`` says what a repair did (None: cannot be repaired)."""
        self.report.problems.append(text)
        if fix is None:
            self.report.unrepaired.append(text)
        elif self.repair:
            self.report.repaired.append(fix)

    def run(self, verify_blobs: bool) -> None:
        self._names()
        self._records()
        bad_blobs = self._blobs() if verify_blobs else set()
        broken: list[ImageRecord] = []
        lost: list[tuple[ImageRecord, int]] = []  # (image, index of a layer to unpack again)
        for record in self.images.all():
            why = self._image_problem(record, bad_blobs)
            if why:
                self.problem(
                    f"image {record.short_id}: {why}",
                    f"removed the broken image {record.short_id} (pull it again)",
                )
                broken.append(record)
                continue
            for i, chain_id in enumerate(record.layers):
                if not self.layers.has(chain_id):
                    state = "damaged" if self.layers.path(chain_id).exists() else "missing"
                    self.problem(
                        f"layer {chain_id} of image {record.short_id} is {state}",
                        f"unpacked layer {chain_id} again from its blob",
                    )
                    lost.append((record, i))
        if not self.repair:
            for name, target in sorted(self.images.names().items()):
                if not self.images.exists(target):
                    self.problem(f"tag {name}: points at a missing image {target}", "")
            return
        with self.images.transaction() as tx:
            for record in broken:
                tx.delete(record.id)
            for name, target in sorted(tx.names.items()):
                if not tx.exists(target):
                    self.problem(
                        f"tag {name}: points at a missing image {target}", f"removed the tag {name}"
                    )
                    del tx.names[name]
        if self.repair:
            for record, i in lost:
                if not self.layers.has(record.layers[i]):  # two images may share it
                    self._restore(record, i)
        for path in Snapshots(self.store).damaged():
            self.problem(f"snapshot {path}: its record is damaged", None)

    def _restore(self, record: ImageRecord, i: int) -> None:
        manifest = self.images.manifest(record)
        config = self.images.config(record)
        parent = record.layers[i - 1] if i else ""
        self.layers.restore(
            self.op, record.layers[i], config.diff_ids[i], parent, manifest.layers[i].digest
        )

    def _names(self) -> None:
        damage = next((d for d in self.images.damaged() if d.path == self.store.names_path), None)
        if damage is None:
            return
        self.problem(
            f"names.json is damaged ({damage.why})",
            "emptied names.json: its tags are lost, the images stay (tag them again)",
        )
        if self.repair:
            os.rename(self.store.names_path, self.op.temp_path("damaged-names"))

    def _records(self) -> None:
        for damage in self.images.damaged():
            if damage.path == self.store.names_path:
                continue
            image_id = "sha256:" + damage.path.name.removesuffix(".json")
            rebuilt = self._rebuild(image_id)
            short = image_id[7:19]
            fix = (
                f"rebuilt the record of image {short} from its manifest"
                if rebuilt
                else f"removed the record of image {short}: no manifest names its config"
            )
            self.problem(f"image {short}: its record is damaged ({damage.why})", fix)
            if not self.repair:
                continue
            with self.images.transaction() as tx:
                if rebuilt:
                    tx.put(rebuilt)
                else:
                    tx.delete(image_id)

    def _rebuild(self, image_id: str) -> ImageRecord | None:
        """An image record made again from the blobs: its config and a manifest naming it."""
        manifest_digest, manifest, index_digest = "", None, ""
        small = {}
        for digest in sorted(self.store.blob_digests()):
            path = self.store.blob_path(digest)
            if path.stat().st_size > _SMALL:
                continue
            data = path.read_bytes()
            if not data.lstrip().startswith(b"{"):
                continue
            try:
                small[digest] = parse_manifest(data)
            except DockyardError:
                continue
        for digest, parsed in small.items():
            if isinstance(parsed, Manifest) and parsed.config.digest == image_id:
                manifest_digest, manifest = digest, parsed
        if manifest is None:
            return None
        for digest, parsed in small.items():
            if isinstance(parsed, Index) and any(
                m.digest == manifest_digest for m in parsed.manifests
            ):
                index_digest = digest
        try:
            config = ImageConfig.parse(self.store.read_blob(image_id))
        except DockyardError:
            return None
        chains = chain_ids(config.diff_ids)
        return ImageRecord(
            id=image_id,
            manifest_digest=manifest_digest,
            manifest_media_type=manifest.media_type,
            layers=chains,
            index_digest=index_digest,
            created=config.created,
            size=sum(self.layers.size(c) for c in chains),
            platform=str(config.platform),
        )

    def _blobs(self) -> set[str]:
        bad = set()
        for digest in sorted(self.store.blob_digests()):
            if not _blob_ok(self.store, digest):
                self.problem(
                    f"blob {digest}: content does not match its digest",
                    f"removed the blob {digest}",
                )
                bad.add(digest)
                if self.repair:
                    self.store.blob_path(digest).unlink(missing_ok=True)
        return bad

    def _image_problem(self, record: ImageRecord, bad_blobs: set[str]) -> str:
        for digest in (record.manifest_digest, record.id):
            if digest in bad_blobs or not self.store.has_blob(digest):
                return f"blob {digest} is missing or corrupt"
        try:
            manifest = self.images.manifest(record)
            config = self.images.config(record)
        except DockyardError as exc:
            return str(exc)
        if manifest.config.digest != record.id:
            return "its manifest names another config"
        if chain_ids(config.diff_ids) != record.layers or len(manifest.layers) != len(
            record.layers
        ):
            return "its layers do not match its config"
        for layer in manifest.layers:
            if layer.digest in bad_blobs or not self.store.has_blob(layer.digest):
                return f"layer blob {layer.digest} is missing or corrupt"
        return ""

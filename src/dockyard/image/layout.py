"""OCI image layouts (a directory, or a tar of one: oci-archive) read and written.

    oci-layout            {"imageLayoutVersion": "1.0.0"}
    index.json            an image index; each entry one image, named by annotation
    blobs/sha256/<hex>    everything else, by digest

Reading goes through `Bundle`, one interface over a directory and a tar file
(opened for random access; stdin is spooled to a temp file first). Members
of a tar are read with pread(2), so layers can be read by parallel threads
without fighting over one file offset (a compressed tar, which cannot be,
is read one member at a time under a lock). Writing goes through
`BundleWriter`, over a directory or a tar stream (a file or stdout) written
in one pass.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time
from pathlib import Path
from typing import IO

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import jsonio
from dockyard.oci.image_spec import (
    ANNOTATION_CONTAINERD_NAME,
    ANNOTATION_REF_NAME,
    OCI_INDEX,
    Descriptor,
    Index,
    Platform,
    load_json,
)

from .digest import Readable, hex_of
from .transport import ResolvedImage, resolve_manifest

OCI_LAYOUT_FILE = "oci-layout"
OCI_LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}
MAX_METADATA = 16 << 20


def blob_name(digest: str) -> str:
    return f"blobs/{digest.partition(':')[0]}/{hex_of(digest)}"


class _MemberReader(io.RawIOBase):
    """One member of an uncompressed tar, read at its own offset with pread(2)."""

    def __init__(self, fd: int, start: int, size: int) -> None:
        super().__init__()
        self._fd = fd
        self._pos = start
        self._end = start + size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = min(len(buffer), self._end - self._pos)
        if want <= 0:
            return 0
        n = os.preadv(self._fd, [memoryview(buffer)[:want]], self._pos)
        self._pos += n
        return n


class _LockedReader(io.RawIOBase):
    """A member of a compressed tar: tarfile seeks the shared stream on every read."""

    def __init__(self, member: IO[bytes], lock: threading.Lock) -> None:
        super().__init__()
        self._member = member
        self._lock = lock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        with self._lock:
            data = self._member.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._member.close()
        super().close()


class Bundle:
    """Files by relative path, from a directory or a tar archive."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        self._fd = -1  # the tar's descriptor, when its members can be read in place
        self._lock = threading.Lock()
        if not self.path.is_dir():
            try:
                self._tar = tarfile.open(self.path, "r:*")  # noqa: SIM115
                members = self._tar.getmembers()
            except (OSError, tarfile.TarError, ValueError, EOFError) as exc:
                if self._tar is not None:
                    self._tar.close()
                # tarfile lists every method it tried, one per line: the first says it
                problem = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
                if isinstance(exc, OSError) and exc.strerror:
                    problem = exc.strerror
                elif problem.startswith("file could not be opened"):
                    problem = "it is none of plain, gzip, bzip2 or xz tar"
                elif problem == "unexpected end of data":
                    problem += " (is the archive cut short?)"
                raise InvalidArgument(
                    f"{self.path}: not a directory or a tar archive: {problem}"
                ) from exc
            for member in members:
                name = "/".join(p for p in member.name.split("/") if p and p != ".")
                self._members[name] = member
            if isinstance(self._tar.fileobj, io.BufferedReader):  # not gzip, bz2 or xz
                self._fd = self._tar.fileobj.fileno()

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()

    def _resolve(self, name: str) -> tarfile.TarInfo | None:
        member = self._members.get(name)
        for _ in range(8):  # docker-archive files may be symlinks to each other
            if member is None or not (member.issym() or member.islnk()):
                return member
            target = member.linkname
            if member.issym():
                target = os.path.normpath(os.path.join(os.path.dirname(name), target))
            member = self._members.get(target.lstrip("/"))
        return None

    def exists(self, name: str) -> bool:
        if self._tar is None:
            return (self.path / name).is_file()
        member = self._resolve(name)
        return member is not None and member.isreg()

    def open(self, name: str) -> IO[bytes]:
        if ".." in name.split("/") or name.startswith("/"):
            raise InvalidArgument(f"{name!r}: not a path inside the archive")
        if self._tar is None:
            try:
                return open(self.path / name, "rb")
            except FileNotFoundError:
                raise NotFound(f"{self.path}: no {name}") from None
        member = self._resolve(name)
        if member is None or not member.isreg():
            raise NotFound(f"{self.path}: no {name} in the archive")
        raw: io.RawIOBase
        if self._fd >= 0 and member.sparse is None:
            raw = _MemberReader(self._fd, member.offset_data, member.size)
        else:
            f = self._tar.extractfile(member)
            assert f is not None
            raw = _LockedReader(f, self._lock)
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def read(self, name: str, limit: int = MAX_METADATA) -> bytes:
        with self.open(name) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise InvalidArgument(f"{self.path}: {name} is larger than {limit} bytes")
        return data

    def size(self, name: str) -> int:
        if self._tar is None:
            return (self.path / name).stat().st_size
        member = self._resolve(name)
        if member is None:
            raise NotFound(f"{self.path}: no {name} in the archive")
        return member.size

    def names(self) -> list[str]:
        if self._tar is None:
            return [str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file()]
        return list(self._members)


class LayoutSource:
    """One image of an OCI layout (found by its index entry) as an image source."""

    def __init__(self, bundle: Bundle, entry: Descriptor) -> None:
        self.bundle = bundle
        self.entry = entry

    def resolve(self, wanted: Platform | None) -> ResolvedImage:
        raw = self.bundle.read(blob_name(self.entry.digest))

        def child(desc: Descriptor) -> bytes:
            return self.bundle.read(blob_name(desc.digest))

        from .digest import verify_bytes

        verify_bytes(raw, self.entry.digest, self.entry.size, f"manifest {self.entry.digest}")
        return resolve_manifest(raw, self.entry.media_type, self.entry.digest, wanted, child)

    def open_blob(self, desc: Descriptor) -> Readable:
        return self.bundle.open(blob_name(desc.digest))


def read_index(bundle: Bundle) -> Index:
    if not bundle.exists(OCI_LAYOUT_FILE):
        raise InvalidArgument(f"{bundle.path}: no oci-layout file: not an OCI image layout")
    layout = load_json(bundle.read(OCI_LAYOUT_FILE), "oci-layout")
    if not str(layout.get("imageLayoutVersion", "")).startswith("1."):
        raise InvalidArgument(f"{bundle.path}: unsupported layout version {layout}")
    doc = load_json(bundle.read("index.json"), "index.json")
    return Index.from_json(doc, OCI_INDEX)


def entry_names(entry: Descriptor) -> tuple[str, str]:
    """(full image name if annotated, ref.name annotation) of an index.json entry."""
    return (
        entry.annotations.get(ANNOTATION_CONTAINERD_NAME, ""),
        entry.annotations.get(ANNOTATION_REF_NAME, ""),
    )


def find_entry(index: Index, ref_name: str) -> Descriptor:
    """The entry whose ref.name (or full name) is ``ref_name``; the only one if empty."""
    if not ref_name:
        if len(index.manifests) != 1:
            raise InvalidArgument(
                f"the layout holds {len(index.manifests)} images; name one (path:tag)"
            )
        return index.manifests[0]
    for entry in index.manifests:
        if ref_name in entry_names(entry):
            return entry
    raise NotFound(f"no image named {ref_name!r} in the layout")


# ---------------------------------------------------------------- writing


class BundleWriter:
    """Writes files into a directory, or into a tar stream in one pass."""

    def __init__(self, target: str | os.PathLike[str] | IO[bytes], as_dir: bool) -> None:
        self._dir: Path | None = None
        self._tar: tarfile.TarFile | None = None
        self._written: set[str] = set()
        self._mtime = int(time.time())
        if isinstance(target, (str, os.PathLike)):
            if as_dir:
                self._dir = Path(target)
                self._dir.mkdir(parents=True, exist_ok=True)
            else:
                self._tar = tarfile.open(target, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        else:
            self._tar = tarfile.open(  # noqa: SIM115
                fileobj=target, mode="w|", format=tarfile.PAX_FORMAT
            )

    def has(self, name: str) -> bool:
        return name in self._written or (self._dir is not None and (self._dir / name).exists())

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add_stream(name, io.BytesIO(data), len(data))

    def add_stream(self, name: str, stream: Readable, size: int) -> None:
        if name in self._written:
            return
        self._written.add(name)
        if self._dir is not None:
            path = self._dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "wb") as out:
                while chunk := stream.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, path)
            return
        assert self._tar is not None
        self._add_dirs(name)
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o644
        info.mtime = self._mtime
        self._tar.addfile(info, stream)  # type: ignore[arg-type,unused-ignore]

    def _add_dirs(self, name: str) -> None:
        assert self._tar is not None
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            d = "/".join(parts[:depth])
            if d + "/" not in self._written:
                self._written.add(d + "/")
                info = tarfile.TarInfo(d)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                info.mtime = self._mtime
                self._tar.addfile(info)

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()

    def abandon(self) -> None:
        """Drop a half-written archive whose output failed or is thrown away: closing it
        would write its end blocks and buffer again (and tarfile tries once more when
        the object is collected, printing the same error late)."""
        if self._tar is not None:
            self._tar.closed = True  # type: ignore[attr-defined]
            stream = self._tar.fileobj
            if stream is not None and not getattr(stream, "closed", True):
                stream.closed = True  # type: ignore[attr-defined]


def write_layout_metadata(
    writer: BundleWriter, entries: list[Descriptor], existing: Index | None = None
) -> None:
    """index.json (after any existing entries with other names) and oci-layout."""
    manifests = []
    new_names = {entry_names(e) for e in entries}
    if existing is not None:
        manifests = [e for e in existing.manifests if entry_names(e) not in new_names]
    index = Index(OCI_INDEX, manifests + entries)
    writer.add_bytes(OCI_LAYOUT_FILE, jsonio.dumps(OCI_LAYOUT_VERSION).encode())
    writer.add_bytes("index.json", jsonio.dumps(index.to_json()).encode())

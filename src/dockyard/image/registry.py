"""The Distribution (OCI) v2 API: manifests, blobs, uploads, tags.

One `Registry` per registry host; repositories are named per call. Every
manifest fetched is checked against its digest here; blobs are returned as
streams for the caller to read through a `VerifyingReader`.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from dockyard.errors import DockyardError, HostError, InvalidArgument
from dockyard.oci import jsonio
from dockyard.oci.image_spec import ACCEPT_MANIFESTS, Descriptor, is_valid_digest

from .digest import DigestMismatch, Readable, sha256_digest, verify_bytes
from .http import HttpClient, RegistryError, RegistryNotFound, Response
from .retry import RETRY_STATUSES, backoff

MAX_MANIFEST = 4 << 20
#: below this a blob goes up in one PUT; above it in PATCH chunks of this size
CHUNK_SIZE = 32 << 20


def pull_scope(path: str) -> tuple[str, ...]:
    return (f"repository:{path}:pull",)


def push_scope(path: str, mount_from: str = "") -> tuple[str, ...]:
    scopes = [f"repository:{path}:pull,push"]
    if mount_from and mount_from != path:
        scopes.append(f"repository:{mount_from}:pull")
    return tuple(scopes)


@dataclass
class FetchedManifest:
    raw: bytes
    media_type: str
    digest: str


class Registry:
    def __init__(self, client: HttpClient, host: str) -> None:
        self.client = client
        self.host = host
        self._base: str | None = None

    @property
    def base(self) -> str:
        if self._base is None:
            self._base = self.client.base_url(self.host)
        return self._base

    def _url(self, path: str, kind: str, ref: str) -> str:
        return f"{self.base}/v2/{path}/{kind}/{ref}"

    def ping(self, scopes: tuple[str, ...] = ()) -> None:
        """GET /v2/ with auth: checks that the registry answers and the credentials work."""
        with self.client.request("GET", f"{self.base}/v2/", scopes=scopes) as response:
            response.read()

    # ------------------------------------------------------------ manifests

    def get_manifest(self, path: str, reference: str) -> FetchedManifest:
        headers = {"Accept": ", ".join(ACCEPT_MANIFESTS)}
        url = self._url(path, "manifests", reference)
        with self.client.request("GET", url, scopes=pull_scope(path), headers=headers) as r:
            raw = r.read(MAX_MANIFEST + 1)
            if len(raw) > MAX_MANIFEST:
                raise RegistryError(f"{path}:{reference}: manifest larger than {MAX_MANIFEST}")
            media_type = r.header("Content-Type").split(";")[0].strip()
            header_digest = r.header("Docker-Content-Digest")
        if is_valid_digest(reference):
            verify_bytes(raw, reference, None, f"manifest {path}@{reference}")
            digest = reference
        else:
            digest = sha256_digest(raw)
            if header_digest.startswith("sha256:") and header_digest != digest:
                raise DigestMismatch(
                    f"manifest {path}:{reference}: content is {digest}, "
                    f"the registry says {header_digest}"
                )
        return FetchedManifest(raw, media_type, digest)

    def put_manifest(self, path: str, reference: str, raw: bytes, media_type: str) -> str:
        url = self._url(path, "manifests", reference)
        headers = {"Content-Type": media_type}
        with self.client.request(
            "PUT", url, scopes=push_scope(path), headers=headers, body=raw, expect=(200, 201, 202)
        ) as response:
            response.read()
            return response.header("Docker-Content-Digest") or sha256_digest(raw)

    def list_tags(self, path: str) -> list[str]:
        url = f"{self.base}/v2/{path}/tags/list"
        with self.client.request("GET", url, scopes=pull_scope(path)) as response:
            doc = jsonio.loads(response.read())
        tags = doc.get("tags") if isinstance(doc, dict) else None
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

    # ------------------------------------------------------------ blobs

    def open_blob(self, path: str, desc: Descriptor, offset: int = 0) -> Response:
        """A streaming response of the blob (from ``offset``, if the registry honours Range)."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        url = self._url(path, "blobs", desc.digest)
        return self.client.request(
            "GET", url, scopes=pull_scope(path), headers=headers, expect=(200, 206)
        )

    def has_blob(self, path: str, digest: str, scopes: tuple[str, ...] = ()) -> bool:
        url = self._url(path, "blobs", digest)
        try:
            with self.client.request("HEAD", url, scopes=scopes or pull_scope(path)):
                return True
        except RegistryNotFound:
            return False

    def mount_blob(self, path: str, digest: str, from_path: str) -> bool:
        """Cross-repository mount: True if the registry linked the blob without upload."""
        query = urllib.parse.urlencode({"mount": digest, "from": from_path})
        url = f"{self.base}/v2/{path}/blobs/uploads/?{query}"
        with self.client.request(
            "POST", url, scopes=push_scope(path, from_path), expect=(201, 202)
        ) as response:
            response.read()
            if response.status == 201:
                return True
            location = response.header("Location")
        if location:  # an upload session we do not want: cancel it
            try:
                cancel = urllib.parse.urljoin(self.base + "/", location)
                with self.client.request(
                    "DELETE", cancel, scopes=push_scope(path), expect=(200, 202, 204, 404)
                ) as r:
                    r.read()
            except RegistryError:
                pass
        return False

    def upload_blob(
        self,
        path: str,
        desc: Descriptor,
        open_source: Callable[[], AbstractContextManager[Readable]],
        chunk_size: int = CHUNK_SIZE,
        on_sent: Callable[[int], None] | None = None,
        on_retry: Callable[[float], None] | None = None,
    ) -> None:
        """Upload a blob, streamed from ``open_source()``: one PUT if small, else PATCH
        chunks then the closing PUT. A failed upload is started again from its first
        byte (a new session, the source opened again), ``upload_retries`` times."""
        options = self.client.options
        for attempt in range(options.upload_retries + 1):
            try:
                with open_source() as source:
                    self._upload_once(path, desc, source, chunk_size, on_sent)
                return
            except (HostError, RegistryError) as exc:
                if attempt == options.upload_retries or not _worth_retrying(exc):
                    raise
                wait = backoff(attempt, options)
                if on_retry is not None:
                    on_retry(wait)
                time.sleep(wait)

    def _upload_once(
        self,
        path: str,
        desc: Descriptor,
        source: Readable,
        chunk_size: int,
        on_sent: Callable[[int], None] | None,
    ) -> None:
        scopes = push_scope(path)
        url = f"{self.base}/v2/{path}/blobs/uploads/"
        with self.client.request("POST", url, scopes=scopes, expect=(202,)) as response:
            response.read()
            location = response.header("Location")
        if not location:
            raise RegistryError(f"{path}: the registry gave no upload location")
        location = urllib.parse.urljoin(self.base + "/", location)
        try:
            offset = 0
            if desc.size > chunk_size:
                while offset < desc.size:
                    length = min(chunk_size, desc.size - offset)
                    headers = {
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{offset + length - 1}",
                        "Content-Length": str(length),
                    }
                    body = _stream(source, length, on_sent)
                    with self.client.request(
                        "PATCH", location, scopes=scopes, headers=headers, body=body, expect=(202,)
                    ) as response:
                        response.read()
                        next_location = response.header("Location")
                    if next_location:
                        location = urllib.parse.urljoin(self.base + "/", next_location)
                    offset += length
            length = desc.size - offset
            if not length:  # all sent in chunks: check the source's end now
                _check_end(source, desc)
            sep = "&" if "?" in location else "?"
            final = location + sep + urllib.parse.urlencode({"digest": desc.digest})
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
            with self.client.request(
                "PUT",
                final,
                scopes=scopes,
                headers=headers,
                body=_stream(source, length, on_sent, desc) if length else b"",
                expect=(201, 204),
            ) as response:
                response.read()
        except BaseException:
            self._cancel(location, scopes)
            raise

    def _cancel(self, location: str, scopes: tuple[str, ...]) -> None:
        """Best effort: tell the registry to drop an upload session we give up on."""
        try:
            with self.client.request(
                "DELETE", location, scopes=scopes, expect=(200, 202, 204, 404)
            ) as response:
                response.read()
        except DockyardError:
            pass


#: how much of a blob is read and sent at a time: memory stays this small. Small, too,
#: because the socket's timeout (the stall timeout) bounds each piece's sendall: 64 KiB
#: in 60 s is about the minimum rate downloads are held to.
PIECE = 64 << 10


def _stream(
    source: Readable,
    length: int,
    on_sent: Callable[[int], None] | None,
    desc: Descriptor | None = None,
) -> Iterator[bytes]:
    """``length`` bytes of ``source`` in pieces; with ``desc``, its end is checked after."""
    left = length
    while left:
        piece = source.read(min(PIECE, left))
        if not piece:
            raise InvalidArgument(f"the blob's source ended {left} bytes short")
        left -= len(piece)
        yield piece
        if on_sent is not None:
            on_sent(len(piece))
    if desc is not None:
        _check_end(source, desc)


def _check_end(source: Readable, desc: Descriptor) -> None:
    """Read past the last byte: a `VerifyingReader` checks the digest there."""
    if source.read(1):
        raise InvalidArgument(f"blob {desc.digest}: the source is longer than {desc.size} bytes")


def _worth_retrying(exc: DockyardError) -> bool:
    """A broken connection or a registry failing (5xx, 429); not a refusal or bad data."""
    if isinstance(exc, DigestMismatch | InvalidArgument):
        return False
    if isinstance(exc, RegistryError):
        return exc.status in RETRY_STATUSES
    return isinstance(exc, HostError)

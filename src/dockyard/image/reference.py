"""Image references, normalised as Docker does.

``busybox`` is ``docker.io/library/busybox:latest``; ``localhost:5000/app:1``
keeps its registry; ``name@sha256:...`` pins a digest (with or without a tag).
The first path component is a registry only if it holds a ``.`` or a ``:``
or is ``localhost``, exactly Docker's rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.errors import InvalidArgument
from dockyard.oci.image_spec import is_valid_digest

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
#: the host that serves docker.io's registry API, and the key its credentials use
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?\Z"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_HEX64 = re.compile(r"[a-f0-9]{64}\Z")


class BadReference(InvalidArgument):
    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"invalid reference format: {text!r}: {problem}")


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def repository(self) -> str:
        """``docker.io/library/busybox``: the full name without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_repository(self) -> str:
        """The short name Docker prints: ``busybox``, ``user/app``, ``localhost:5000/app``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.repository
        return self.path.removeprefix(OFFICIAL_PREFIX)

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest if pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, "")

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, "", digest)

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.repository + self._suffix()

    @property
    def familiar(self) -> str:
        return self.familiar_repository + self._suffix()

    @property
    def api_host(self) -> str:
        """host[:port] of the registry API for this reference's domain."""
        return DOCKER_HUB_API if self.domain == DEFAULT_DOMAIN else self.domain


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost"):
        return DEFAULT_DOMAIN, name
    return first, rest


def parse(text: str, default_tag: bool = True) -> Reference:
    """Parse and normalise; adds ``:latest`` when there is neither tag nor digest."""
    if not text:
        raise BadReference(text, "empty")
    if _HEX64.match(text):
        raise BadReference(text, "cannot specify 64-byte hexadecimal strings")
    remainder, at, digest = text.partition("@")
    if at and not is_valid_digest(digest):
        raise BadReference(text, f"{digest!r} is not a valid digest")
    tag = ""
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            raise BadReference(text, f"{tag!r} is not a valid tag")
    domain, path = _split_domain(remainder)
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if not _DOMAIN.match(domain):
        raise BadReference(text, f"{domain!r} is not a valid registry host")
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if not path:
        raise BadReference(text, "no repository name")
    if path.lower() != path:
        raise BadReference(text, "repository name must be lowercase")
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            raise BadReference(text, f"{component!r} is not a valid name component")
    if len(f"{domain}/{path}") > 255:
        raise BadReference(text, "repository name must not be longer than 255 characters")
    if not tag and not digest and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def parse_repository(text: str) -> Reference:
    """A repository name with no tag or digest (``docker push -a``, filters)."""
    ref = parse(text, default_tag=False)
    if ref.tag or ref.digest:
        raise BadReference(text, "expected a repository name without tag or digest")
    return ref


def looks_like_id(text: str) -> bool:
    """A full or short image ID (``sha256:abc...``, ``abc123``) rather than a name."""
    hexpart = text.removeprefix("sha256:")
    return 1 <= len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart)

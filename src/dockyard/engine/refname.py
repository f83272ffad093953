"""The full name Docker gives a plain image name, without the reference parser.

``busybox`` is ``docker.io/library/busybox:latest``, ``me/app:1`` is
``docker.io/me/app:1``, ``localhost:5000/app`` keeps its registry (the first
part names a registry when it holds a dot or a colon or is localhost). This
covers names made of lowercase letters, digits and ``._-/:`` only, and is
used only to look the name up among the store's tags: every tag there was
written through image/reference.py, so a name that is not valid cannot find
a match, and anything unusual (a digest, a capital, a port-less oddity)
returns None and goes the reference parser's way.
"""

from __future__ import annotations

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-/:")


def _component(part: str) -> bool:
    return bool(part) and part[0].isalnum() and part[-1].isalnum()


def quick_full_name(text: str) -> str | None:
    if not text or "@" in text or not all(c in _ALLOWED for c in text):
        return None
    name, tag = text, "latest"
    slash, colon = text.rfind("/"), text.rfind(":")
    if colon > slash:
        name, tag = text[:colon], text[colon + 1 :]
        if not tag:
            return None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
        if domain == "index.docker.io":
            domain = "docker.io"
    else:
        domain, path = "docker.io", name
    if ":" in path or not all(_component(part) for part in path.split("/")):
        return None
    if domain == "docker.io" and "/" not in path:
        path = f"library/{path}"
    return f"{domain}/{path}:{tag}"

"""Short names for layer directories, so that an overlay mount of many layers fits.

mount(2) takes its options in one page: with absolute paths of layer
directories (a store root, ``layers/``, 64 hex digits, ``/diff``), about 40
layers fill it. As containers/storage does, each layer gets a short symlink
under ``<root>/l/`` to its directory, and the mount runs with the store root
as its working directory, naming lowers as ``l/NAME``: 29 bytes a layer,
more than 130 layers in a page.

Our names are derived, not random: 26 base32 characters (130 bits) of the
sha256 of the link's target, so every process computes the same name with
no record to keep, and making a link is idempotent. A link left behind by a
crash points at a missing directory and harms nothing; it serves again if the
layer comes back.
"""

from __future__ import annotations

import os

from dockyard.errors import HostError

LINKS_DIR = "l"
NAME_LENGTH = 26
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648's alphabet

# str or os.PathLike everywhere: a container start mounts its snapshot with
# these, and pathlib costs more to import than the mount (store.py).


def _target(root: str | os.PathLike[str], layer_dir: str | os.PathLike[str]) -> str:
    return os.path.relpath(layer_dir, f"{os.fspath(root)}/{LINKS_DIR}")


def link_name(root: str | os.PathLike[str], layer_dir: str | os.PathLike[str]) -> str:
    import _sha256  # type: ignore[import-not-found]  # hashlib loads OpenSSL: ~2 ms per start

    digest = _sha256.sha256(_target(root, layer_dir).encode()).digest()
    return base32_prefix(digest, NAME_LENGTH)


def base32_prefix(data: bytes, length: int) -> str:
    """The first ``length`` characters of ``data`` in base 32 (RFC 4648, what
    ``base64.b32encode`` gives; not base64 itself, which imports re: ~4 ms a start)."""
    bits = len(data) * 8
    if length * 5 > bits:
        raise ValueError(f"{len(data)} bytes give fewer than {length} base 32 characters")
    top = int.from_bytes(data, "big") >> (bits - length * 5)
    return "".join(_BASE32[(top >> (5 * i)) & 31] for i in range(length - 1, -1, -1))


def ensure_link(root: str | os.PathLike[str], layer_dir: str | os.PathLike[str]) -> str:
    """The short path (relative to ``root``) that names ``layer_dir``, made if missing."""
    name = link_name(root, layer_dir)
    target = _target(root, layer_dir)
    path = f"{os.fspath(root)}/{LINKS_DIR}/{name}"
    try:
        os.symlink(target, path)
    except FileNotFoundError:
        os.makedirs(f"{os.fspath(root)}/{LINKS_DIR}", mode=0o700, exist_ok=True)
        return ensure_link(root, layer_dir)
    except FileExistsError:
        try:
            found = os.readlink(path)
        except OSError:
            found = None
        if found != target:  # 130 bits collide only by a mistake of ours; never mount it
            raise HostError(f"overlay link {path} points to {found!r}, not {target!r}") from None
    return f"{LINKS_DIR}/{name}"


def remove_link(root: str | os.PathLike[str], layer_dir: str | os.PathLike[str]) -> None:
    try:
        os.unlink(f"{os.fspath(root)}/{LINKS_DIR}/{link_name(root, layer_dir)}")
    except FileNotFoundError:
        pass

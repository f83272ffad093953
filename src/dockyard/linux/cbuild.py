"""Dockyard's small C helpers (the container monitor, the DNS resolver), built on first use.

Each helper is one C file shipped as package data. `cached_binary` returns
the path of a binary built from it, compiling it when none exists for the
source's current content: the binary is named after the source's SHA-256
(and the flags), so an edited source gets a new binary and an unchanged one
is built once per machine and user. Concurrent builders are safe (a temp file
renamed into place).

posix and _sha256 only until a build is needed: ``dockyard run`` finds its
helpers on every container start, and hashlib, subprocess, tempfile, shutil
and pathlib together cost more than the rest of finding them.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError

INSTALL_HINT = "install gcc and libc6-dev (Debian), or run scripts/setup"


def default_cache_dir() -> str:
    """/var/cache/dockyard for root; $XDG_CACHE_HOME/dockyard (~/.cache) for others."""
    if posix.geteuid() == 0:
        return "/var/cache/dockyard"
    env = posix.environ
    base = (env.get(b"XDG_CACHE_HOME") or b"").decode() or (
        (env.get(b"HOME") or b"/").decode().rstrip("/") + "/.cache"
    )
    return f"{base}/dockyard"


def cached_binary(
    source: str, name: str, cflags: tuple[str, ...], cache_dir: str | None = None
) -> str:
    """The path of ``name`` built from ``source`` into ``cache_dir`` (default:
    `default_cache_dir`); raises HostError when it is missing and cannot be built."""
    import _sha256  # type: ignore[import-not-found]  # hashlib imports _hashlib (OpenSSL)

    directory = cache_dir if cache_dir is not None else default_cache_dir()
    try:
        fd = posix.open(source, posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            text = b""
            while chunk := posix.read(fd, 1 << 20):
                text += chunk
        finally:
            posix.close(fd)
    except OSError as exc:
        raise HostError(f"cannot read the source of {name}, {source}: {exc.strerror}") from exc
    key = _sha256.sha256(text + " ".join(cflags).encode()).hexdigest()[:16]
    path = f"{directory}/{name}-{key}"
    if posix.access(path, posix.X_OK):
        return path
    _build(source, name, cflags, path)
    return path


def _build(source: str, name: str, cflags: tuple[str, ...], target: str) -> None:
    import os
    import shutil
    import subprocess
    import tempfile

    compiler = os.environ.get("CC") or "cc"
    if shutil.which(compiler) is None:
        raise HostError(f"cannot build {name}: no C compiler ({compiler}) found; {INSTALL_HINT}")
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{name}-", dir=parent)
    except OSError as exc:
        raise HostError(f"cannot build {name} in {parent}: {exc.strerror}") from exc
    os.close(fd)
    try:
        result = subprocess.run(
            [compiler, *cflags, "-o", temporary, source],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
            error = next((line for line in lines if "error" in line), lines[-1])
            raise HostError(f"cannot build {name}: {compiler} failed: {error}; {INSTALL_HINT}")
        os.chmod(temporary, 0o755)
        # a rename: concurrent builders each put a whole binary in place
        os.replace(temporary, target)
    except OSError as exc:
        raise HostError(f"cannot build {name} into {target}: {exc.strerror}") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)

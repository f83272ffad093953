"""dockyard-monitor, the per-container monitor: where its binary is.

The monitor is one C file (``monitor.c`` beside this module, shipped as package
data); docs/monitor.md is its contract with the engine. ``binary()`` compiles
it on first use and returns the path, so editable checkouts and pip installs
work alike: the binary is named after the source's hash, so an edited source
gets a new binary and an unchanged one is built once per machine and user.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from pathlib import Path

# posix and _sha256 only until a build is needed: `dockyard run` finds the
# binary on every container start, and hashlib, subprocess, tempfile, shutil
# and pathlib together cost more than the rest of finding it.
SOURCE = __file__.rpartition("/")[0] + "/monitor.c"
NAME = "dockyard-monitor"
CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")
INSTALL_HINT = "install gcc and libc6-dev (Debian), or run scripts/setup"


def default_cache_dir() -> Path:
    """/var/cache/dockyard for root; $XDG_CACHE_HOME/dockyard (~/.cache) for others."""
    from pathlib import Path

    return Path(_default_cache_dir())


def _default_cache_dir() -> str:
    if posix.geteuid() == 0:
        return "/var/cache/dockyard"
    env = posix.environ
    base = (env.get(b"XDG_CACHE_HOME") or b"").decode() or (
        (env.get(b"HOME") or b"/").decode().rstrip("/") + "/.cache"
    )
    return f"{base}/dockyard"


def binary(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The path of a dockyard-monitor built from this package's source.

    Built into ``cache_dir`` (default: `default_cache_dir`) when missing;
    raises HostError when it is missing and cannot be built.
    """
    import _sha256  # type: ignore[import-not-found]  # hashlib imports _hashlib (OpenSSL)

    directory = posix.fspath(cache_dir) if cache_dir is not None else _default_cache_dir()
    try:
        fd = posix.open(SOURCE, posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            source = b""
            while chunk := posix.read(fd, 1 << 20):
                source += chunk
        finally:
            posix.close(fd)
    except OSError as exc:
        raise HostError(f"cannot read the monitor's source {SOURCE}: {exc.strerror}") from exc
    key = _sha256.sha256(source + " ".join(CFLAGS).encode()).hexdigest()[:16]
    path = f"{directory}/{NAME}-{key}"
    if posix.access(path, posix.X_OK):
        return path
    from pathlib import Path

    _build(Path(path))
    return path


def _build(path: Path) -> None:
    import os
    import shutil
    import subprocess
    import tempfile

    compiler = os.environ.get("CC") or "cc"
    if shutil.which(compiler) is None:
        raise HostError(f"cannot build {NAME}: no C compiler ({compiler}) found; {INSTALL_HINT}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{NAME}-", dir=path.parent)
    except OSError as exc:
        raise HostError(f"cannot build {NAME} in {path.parent}: {exc.strerror}") from exc
    os.close(fd)
    try:
        result = subprocess.run(
            [compiler, *CFLAGS, "-o", temporary, SOURCE],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
            error = next((line for line in lines if "error" in line), lines[-1])
            raise HostError(f"cannot build {NAME}: {compiler} failed: {error}; {INSTALL_HINT}")
        os.chmod(temporary, 0o755)
        # a rename: concurrent builders each put a whole binary in place
        os.replace(temporary, path)
    except OSError as exc:
        raise HostError(f"cannot build {NAME} into {path}: {exc.strerror}") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)

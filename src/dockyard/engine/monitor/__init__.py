"""dockyard-monitor, the per-container monitor: where its binary is.

The monitor is one C file (``monitor.c`` beside this module, shipped as package
data); docs/monitor.md is its contract with the engine. ``binary()`` compiles
it on first use and returns the path, so editable checkouts and pip installs
work alike: the binary is named after the source's hash, so an edited source
gets a new binary and an unchanged one is built once per machine and user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dockyard.errors import HostError

SOURCE = Path(__file__).with_name("monitor.c")
NAME = "dockyard-monitor"
CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")
INSTALL_HINT = "install gcc and libc6-dev (Debian), or run scripts/setup"


def default_cache_dir() -> Path:
    """/var/cache/dockyard for root; $XDG_CACHE_HOME/dockyard (~/.cache) for others."""
    if os.geteuid() == 0:
        return Path("/var/cache/dockyard")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dockyard"


def binary(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The path of a dockyard-monitor built from this package's source.

    Built into ``cache_dir`` (default: `default_cache_dir`) when missing;
    raises HostError when it is missing and cannot be built.
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        source = SOURCE.read_bytes()
    except OSError as exc:
        raise HostError(f"cannot read the monitor's source {SOURCE}: {exc.strerror}") from exc
    key = hashlib.sha256(source + " ".join(CFLAGS).encode()).hexdigest()[:16]
    path = directory / f"{NAME}-{key}"
    if os.access(path, os.X_OK):
        return str(path)
    _build(path)
    return str(path)


def _build(path: Path) -> None:
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
            [compiler, *CFLAGS, "-o", temporary, str(SOURCE)],
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

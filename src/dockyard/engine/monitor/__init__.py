"""dockyard-monitor, the per-container monitor: where its binary is.

The monitor is one C file (``monitor.c`` beside this module, shipped as package
data); docs/monitor.md is its contract with the engine. ``binary()`` compiles
it on first use and returns the path, so editable checkouts and pip installs
work alike: the binary is named after the source's hash, so an edited source
gets a new binary and an unchanged one is built once per machine and user
(linux/cbuild.py, shared with the DNS resolver).
"""

from __future__ import annotations

from dockyard.linux import cbuild
from dockyard.linux.cbuild import INSTALL_HINT  # noqa: F401  (part of this module's face)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from pathlib import Path

SOURCE = __file__.rpartition("/")[0] + "/monitor.c"
NAME = "dockyard-monitor"
CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")


def default_cache_dir() -> Path:
    """/var/cache/dockyard for root; $XDG_CACHE_HOME/dockyard (~/.cache) for others."""
    from pathlib import Path

    return Path(cbuild.default_cache_dir())


def binary(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The path of a dockyard-monitor built from this package's source.

    Built into ``cache_dir`` (default: `default_cache_dir`) when missing;
    raises HostError when it is missing and cannot be built (linux/cbuild.py).
    """
    import posix

    directory = posix.fspath(cache_dir) if cache_dir is not None else None
    return cbuild.cached_binary(SOURCE, NAME, CFLAGS, directory)

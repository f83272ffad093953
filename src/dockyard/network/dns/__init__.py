"""The embedded DNS of user-defined networks: containers find each other by name at 127.0.0.11.

``resolver.c`` beside this module is the server (one small process per
engine, started with the first container that needs it and gone with the
last); `records` is the text it serves, `control` starts it and tells it to
reload. docs/network.md ("DNS between containers") says how and what it
costs. ``binary()`` builds the server on first use, as the monitor's is built.
"""

from __future__ import annotations

SOURCE = __file__.rpartition("/")[0] + "/resolver.c"
NAME = "dockyard-resolver"
CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")
#: Docker's address for the embedded resolver, in every container's namespace
ADDRESS = "127.0.0.11"


def binary(cache_dir: str | None = None) -> str:
    """The path of a dockyard-resolver built from this package's source (linux/cbuild.py)."""
    from dockyard.linux import cbuild

    return cbuild.cached_binary(SOURCE, NAME, CFLAGS, cache_dir)

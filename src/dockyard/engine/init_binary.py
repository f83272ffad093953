"""``--init``: the small init Docker runs as pid 1 (``docker-init``, which is tini).

The host's statically linked init is bind-mounted read-only into the
container at /sbin/docker-init (Docker's path) and runs the container's
command after ``--``: as pid 1 it reaps every orphan that dies (a process
whose parent exited is re-parented to pid 1, and only pid 1 can wait for
it) and passes the signals it gets on to the command, which, not being
pid 1, dies of a SIGTERM it does not handle. Debian's ``tini`` package
carries ``tini-static``; Docker's own ``docker-init`` and ``catatonit``
(static as packaged) work the same way. Only static binaries: the image may
have no C library at all.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError

IN_CONTAINER = "/sbin/docker-init"
CANDIDATES = (
    "/usr/bin/tini-static",
    "/usr/bin/docker-init",
    "/usr/libexec/docker/docker-init",
    "/usr/libexec/podman/catatonit",
    "/usr/bin/catatonit",
)


def find() -> str:
    """The host's init for ``--init`` ($DOCKYARD_INIT_PATH first, as dockerd's --init-path)."""
    chosen = posix.environ.get(b"DOCKYARD_INIT_PATH", b"").decode()
    for path in (chosen,) if chosen else CANDIDATES:
        if posix.access(path, posix.X_OK):
            return path
    if chosen:
        raise HostError(f"--init: {chosen} (DOCKYARD_INIT_PATH) is not an executable file")
    raise HostError(
        "--init: no init binary found (install Debian's tini package, which has tini-static)"
    )


def wrap(args: list[str], mounts: list[dict[str, object]]) -> list[str]:
    """The process's args behind the init, whose read-only bind mount joins ``mounts``."""
    mounts.append(
        {
            "destination": IN_CONTAINER,
            "type": "bind",
            "source": find(),
            "options": ["bind", "ro", "rprivate"],
        }
    )
    return [IN_CONTAINER, "--", *args]

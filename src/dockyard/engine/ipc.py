"""``--ipc``: what Docker's modes need beyond the spec's defaults (engine/spec_defaults.py).

- ``private`` (the default) and ``none``: a private IPC namespace, with a /dev/shm
  tmpfs of ``--shm-size``, or (none) no /dev/shm at all.
- ``shareable``: private too, but its /dev/shm is a tmpfs the engine mounts on the host
  at ``<root>/containers/<id>/shm`` while the container runs (Docker's daemon keeps it
  under its container directory too) and binds into it, so that a container joining
  it can bind the same: a mount in another mount namespace cannot be bound from.
- ``container:X``: X's IPC namespace (``/proc/<X's init>/ns/ipc``) and X's /dev/shm.
  X is named by its id from create on (as Docker's daemon rewrites the name), and must
  be running and shareable (or on the host's IPC namespace, or joined to one that is)
  at each start, with Docker's words when it is not. X's init changes with each of its
  starts, so the joiner's config.json is brought up to date at each of its own.
- ``host``: the host's IPC namespace and /dev/shm.

``--pid container:X`` joins X's PID namespace the same way (X running, its init as of
each start), as Docker's daemon does.
"""

from __future__ import annotations

import posix

from dockyard.errors import Conflict, HostError, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.paths import EnginePaths
    from dockyard.engine.types import ContainerRecord, HostConfig

CONTAINER = "container:"
SHM = "/dev/shm"


def resolve(engine: Engine, host: HostConfig) -> None:
    """At create: ``--ipc``/``--pid container:NAME`` becomes ``container:ID`` (No such
    container: NAME), as Docker's daemon keeps it."""
    if host.ipc_mode.startswith(CONTAINER):
        host.ipc_mode = CONTAINER + engine.containers.find(host.ipc_mode[len(CONTAINER) :]).id
    if host.pid_mode.startswith(CONTAINER):
        host.pid_mode = CONTAINER + engine.containers.find(host.pid_mode[len(CONTAINER) :]).id


def shm_dir(paths: EnginePaths, container_id: str) -> str:
    return f"{paths.container_dir(container_id)}/shm"


def _own_shm(rec: ContainerRecord) -> bool:
    """True if the engine mounts the container's /dev/shm (shareable, not given by -v)."""
    return rec.host.ipc_mode == "shareable" and not any(
        m.destination.rstrip("/") == SHM for m in rec.mounts
    )


def shm_source(paths: EnginePaths, rec: ContainerRecord) -> str:
    """What /dev/shm is bound from in the spec ("" for the spec's own tmpfs, or none)."""
    if rec.host.ipc_mode == "host":
        return SHM
    return shm_dir(paths, rec.id) if _own_shm(rec) else ""


def mount_shm(paths: EnginePaths, rec: ContainerRecord) -> None:
    """Before a shareable container starts: its /dev/shm tmpfs on the host."""
    if not _own_shm(rec):
        return
    import os.path

    from dockyard.linux import libc

    path = shm_dir(paths, rec.id)
    if os.path.ismount(path):
        return  # a start cut short left it: the same tmpfs serves
    try:
        posix.mkdir(path, 0o700)
    except FileExistsError:
        pass
    flags = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
    try:
        libc.mount("shm", path, "tmpfs", flags, f"mode=1777,size={rec.host.shm_size}")
    except OSError as exc:
        raise HostError(f"cannot mount the shm tmpfs at {path}: {exc.strerror}") from exc


def unmount_shm(paths: EnginePaths, container_id: str) -> None:
    """After the container stopped (idempotent): its shareable /dev/shm let go. Lazily:
    a container that joined it keeps its own bind of it until it stops too."""
    import os.path

    from dockyard.linux import libc

    path = shm_dir(paths, container_id)
    if os.path.ismount(path):
        try:
            libc.umount2(path, libc.MNT_DETACH)
        except OSError as exc:
            raise HostError(f"cannot unmount {path}: {exc.strerror}") from exc
    try:
        posix.rmdir(path)
    except OSError:
        pass


def join(engine: Engine, rec: ContainerRecord) -> None:
    """At the start of a ``container:X`` container (``--ipc``, ``--pid``): X's namespaces
    (and for IPC its /dev/shm) written into its config.json, or Docker's refusal."""
    from dockyard.oci import jsonio

    ipc = _donor(engine, rec.host.ipc_mode, "IPC")
    pid = _donor(engine, rec.host.pid_mode, "PID")
    if ipc is None and pid is None:
        return
    shm = ""
    if ipc is not None:
        shm = _bound_shm(engine.paths, ipc)
        if not shm:
            raise Conflict(
                f"failed to join IPC namespace: container {ipc.id}: non-shareable IPC "
                "(hint: use IpcMode:shareable for the donor container)"
            )
    path = f"{engine.paths.container_dir(rec.id)}/config.json"
    with open(path, "rb") as f:
        doc = jsonio.loads(f.read())
    linux = doc.setdefault("linux", {})
    for kind, donor in (("ipc", ipc), ("pid", pid)):
        if donor is not None:
            spaces = [ns for ns in linux.get("namespaces", []) if ns.get("type") != kind]
            spaces.append({"type": kind, "path": f"/proc/{donor.state.pid}/ns/{kind}"})
            linux["namespaces"] = spaces
    if shm and not any(m.destination.rstrip("/") == SHM for m in rec.mounts):
        mounts = [m for m in doc.get("mounts", []) if m.get("destination") != SHM]
        mounts.append(
            {"destination": SHM, "type": "bind", "source": shm, "options": ["rbind", "rprivate"]}
        )
        doc["mounts"] = mounts
    from dockyard.engine.bundle import _write

    _write(path, jsonio.dumps_compact(doc))


def _donor(engine: Engine, mode: str, kind: str) -> ContainerRecord | None:
    """The running container a ``container:ID`` mode joins (None for other modes), with
    Docker's daemon's words when it cannot be joined."""
    from dockyard.engine.exits import current_status
    from dockyard.engine.status import Status

    if not mode.startswith(CONTAINER):
        return None
    donor_id = mode[len(CONTAINER) :]
    why = f"failed to join {kind} namespace"
    try:
        donor = engine.containers.get(donor_id)
    except NotFound:
        raise NotFound(f"{why}: No such container: {donor_id}") from None
    status = current_status(engine, donor)
    if status == Status.RESTARTING:
        raise Conflict(
            f"{why}: Container {donor_id} is restarting, wait until the container is running"
        )
    if status not in (Status.RUNNING, Status.PAUSED) or not donor.state.pid:
        raise Conflict(f"{why}: container {donor_id} is not running")
    return donor


def _bound_shm(paths: EnginePaths, donor: ContainerRecord) -> str:
    """Where the donor's /dev/shm is bound from ("" if it has its own tmpfs, or none):
    its config.json says, joined containers included."""
    import os.path

    from dockyard.oci import jsonio

    try:
        with open(f"{paths.container_dir(donor.id)}/config.json", "rb") as f:
            doc = jsonio.loads(f.read())
    except (OSError, ValueError):
        return ""
    for m in doc.get("mounts", []):
        if m.get("destination") == SHM and m.get("type") == "bind":
            source = str(m.get("source", ""))
            # a shareable donor's tmpfs is mounted while it runs
            if source == SHM or os.path.ismount(source):
                return source
    return ""

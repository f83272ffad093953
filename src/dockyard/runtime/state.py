"""The container's state on disk and the lifecycle it moves through.

Each container has a directory ``<root>/<id>/`` holding ``state.json`` (what
the runtime knows) and, while the container is created but not started,
``exec.fifo`` (the init process waits on it). The status is never stored:
it is derived from the init process and the fifo each time, so a killed
runtime or a container that died on its own can never leave a stale status.
"""

from __future__ import annotations

import posix
import time

from dockyard.errors import Conflict, DamagedState, InvalidArgument, NotFound
from dockyard.linux import fspath, proc
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cgroups.manager import CgroupManager
    from dockyard.runtime.hooks import Warn

CREATING = "creating"
CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"

STATE_FILE = "state.json"
#: state.json's members and their types (owner and cgroup_paths may be absent)
_FIELDS: dict[str, type] = {
    "pid": int,
    "init_start_time": int,
    "bundle": str,
    "rootfs": str,
    "created": str,
    "owner": str,
    "cgroup_paths": dict,
    "config": dict,
}
_OPTIONAL = ("owner", "cgroup_paths")
EXEC_FIFO = "exec.fifo"

#: which statuses each verb accepts (runc's can_start/can_kill/... checks)
ALLOWED = {
    "start": (CREATED,),
    "kill": (CREATED, RUNNING, PAUSED),
    "delete": (STOPPED, CREATED),
    "pause": (RUNNING,),
    "resume": (PAUSED,),
    "exec": (CREATED, RUNNING),
}

_HINTS = {
    "start": "only a created container can be started",
    "kill": "it has no process left to signal",
    "delete": "stop it first or use delete -f",
    "pause": "only a running container can be paused",
    "resume": "only a paused container can be resumed",
    "exec": "it is not running",
}


def valid_id(container_id: str) -> str:
    """Ids become directory names: refuse anything that could escape the root dir."""
    if (
        not container_id
        or container_id in (".", "..")
        or len(container_id) > 1024
        or not all(c.isalnum() or c in "_+-." for c in container_id)
    ):
        raise InvalidArgument(
            f"invalid container id {container_id!r}: use letters, digits and _+-."
        )
    return container_id


def rfc3339_now() -> str:
    ns = time.time_ns()
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


class ContainerState:
    """What ``state.json`` holds; ``status`` is filled in when loaded."""

    __slots__ = (
        "annotations",
        "bundle",
        "cgroup_paths",
        "config",
        "created",
        "dir",
        "id",
        "init_start_time",
        "owner",
        "pid",
        "rootfs",
        "status",
    )

    def __init__(
        self, container_id: str, directory: str, bundle: str, rootfs: str, config: dict[str, Any]
    ) -> None:
        self.id = container_id
        self.dir = directory
        self.bundle = bundle
        self.rootfs = rootfs
        self.config = config
        self.pid = 0
        self.init_start_time = 0
        self.created = rfc3339_now()
        self.owner = ""
        self.annotations: dict[str, str] = dict(config.get("annotations") or {})
        self.cgroup_paths: dict[str, str] = {}
        self.status = CREATING

    # -- persistence

    def save(self) -> None:
        doc = {
            "id": self.id,
            "pid": self.pid,
            "init_start_time": self.init_start_time,
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": self.owner,
            "cgroup_paths": self.cgroup_paths,
            "config": self.config,
        }
        # A name of this process's own: two writers never share (and truncate) one file.
        tmp = f"{self.dir}/.{STATE_FILE}.{posix.getpid()}.tmp"
        fd = posix.open(
            tmp, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC | posix.O_CLOEXEC, 0o666
        )
        try:
            data = memoryview(jsonio.dumps_compact(doc).encode())
            while data:
                data = data[posix.write(fd, data) :]
        finally:
            posix.close(fd)
        posix.rename(tmp, f"{self.dir}/{STATE_FILE}")  # readers never see half a file

    @classmethod
    def load(cls, root: str, container_id: str) -> ContainerState:
        directory = f"{root}/{valid_id(container_id)}"
        path = f"{directory}/{STATE_FILE}"
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            if fspath.isdir(directory):
                # Made by a create that has not finished (or was killed mid-way).
                state = cls(container_id, directory, "", "", {})
                state.status = CREATING
                return state
            raise NotFound(f"container {container_id} does not exist") from None
        try:
            doc = jsonio.loads(data)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            state = cls.from_doc(container_id, directory, doc, salvage=False)
        except (ValueError, UnicodeDecodeError) as exc:  # JSONError is a ValueError
            raise DamagedState(
                f"container {container_id}: its state file {path} is damaged ({exc}); "
                f"delete -f {container_id} removes what is left of it"
            ) from exc
        state.status = state.current_status()
        return state

    @classmethod
    def from_doc(
        cls, container_id: str, directory: str, doc: dict[str, Any], salvage: bool
    ) -> ContainerState:
        """The state from state.json's members; a field missing or of the wrong
        type is a ValueError, or with ``salvage`` is left at its default."""
        values: dict[str, Any] = {}
        for key, kind in _FIELDS.items():
            value = doc.get(key)
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                values[key] = value
            elif not salvage and (key in doc or key not in _OPTIONAL):
                what = "has no" if key not in doc else "has a malformed"
                raise ValueError(f"it {what} {key!r}")
        state = cls(
            container_id,
            directory,
            values.get("bundle", ""),
            values.get("rootfs", ""),
            values.get("config", {}),
        )
        state.pid = values.get("pid", 0)
        state.init_start_time = values.get("init_start_time", 0)
        state.created = values.get("created", "")
        state.owner = values.get("owner", "")
        state.cgroup_paths = values.get("cgroup_paths", {})
        return state

    def current_status(self) -> str:
        if not self.pid:
            return CREATING
        if not proc.is_alive(self.pid, self.init_start_time):
            return STOPPED
        if fspath.exists(f"{self.dir}/{EXEC_FIFO}"):
            return CREATED
        if self.cgroup_paths and _is_frozen(self.cgroup_paths):
            return PAUSED
        return RUNNING

    def require(self, verb: str) -> None:
        """Refuse a verb the current status does not allow, saying why and what to do."""
        if self.status not in ALLOWED[verb]:
            raise Conflict(
                f"container {self.id} is {self.status}: cannot {verb} it ({_HINTS[verb]})"
            )

    def cgroup(self) -> CgroupManager:
        """The manager of the container's cgroup, for the verbs that work through it."""
        from dockyard.cgroups.manager import manager_from_paths

        if not self.cgroup_paths:
            raise Conflict(f"container {self.id} has no cgroup (it was created without one)")
        return manager_from_paths(self.cgroup_paths)

    def oci_state(self) -> dict[str, Any]:
        """The runtime spec's state object, as ``state`` prints it and hooks receive it."""
        return {
            "ociVersion": self.config.get("ociVersion", "1.2.0"),
            "id": self.id,
            "pid": self.pid if self.status != STOPPED else 0,
            "status": self.status,
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": self.owner,
            "annotations": self.annotations,
        }


class Lock:
    """Exclusive hold on one container for the verbs that change it (start,
    update, pause, resume, delete), from loading its state to saving it: two
    ``update`` commands would otherwise each save what they loaded and lose
    the other's change, and a delete could remove the directory under one.

    flock(2) on the state directory itself: the kernel drops it when the
    holder exits, however it exits, and there is no lock file to leave behind.
    Readers (``state``, ``list``, ``kill``) take none: state.json is only ever
    replaced whole, by rename. ``create`` takes none either: it owns the new
    directory (mkdir is its lock), and its init, which would inherit the
    lock, lives on until ``start``.
    """

    __slots__ = ("container_id", "directory", "fd")

    def __init__(self, root: str, container_id: str) -> None:
        self.container_id = valid_id(container_id)
        self.directory = f"{root}/{container_id}"
        self.fd = -1

    def __enter__(self) -> Lock:
        from dockyard.linux import libc

        try:
            self.fd = posix.open(
                self.directory, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC
            )
        except FileNotFoundError:
            raise NotFound(f"container {self.container_id} does not exist") from None
        try:
            libc.flock(self.fd, libc.LOCK_EX)
            if posix.fstat(self.fd).st_nlink == 0:  # deleted while we waited
                raise NotFound(f"container {self.container_id} does not exist")
        except BaseException:
            posix.close(self.fd)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        posix.close(self.fd)


def _is_frozen(paths: dict[str, str]) -> bool:
    from dockyard.cgroups.manager import manager_from_paths

    try:
        return manager_from_paths(paths).is_frozen()
    except OSError:
        return False


def remove_dir(directory: str) -> None:
    """Remove a container's state directory (flat: state.json, the fifo, temp files).

    Not shutil.rmtree: importing shutil costs ~18 ms here (it pulls in re).
    """
    try:
        entries = posix.listdir(directory)
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            posix.unlink(f"{directory}/{entry}")
        except FileNotFoundError:
            pass
    try:
        posix.rmdir(directory)
    except FileNotFoundError:
        pass


def list_ids(root: str) -> list[str]:
    try:
        return sorted(e for e in posix.listdir(root) if not e.startswith("."))
    except FileNotFoundError:
        return []


def list_states(root: str, warn: Warn | None = None) -> list[ContainerState]:
    """Every container under ``root``; one whose state file is damaged is shown
    with what can still be read of it (and ``warn`` says so)."""
    states = []
    for container_id in list_ids(root):
        try:
            states.append(ContainerState.load(root, container_id))
        except DamagedState as exc:
            if warn is not None:
                warn(str(exc))
            from dockyard.runtime.salvage import salvage

            try:
                states.append(salvage(root, container_id))
            except NotFound:
                continue  # deleted meanwhile
        except (NotFound, InvalidArgument):
            continue  # deleted meanwhile, or a directory whose name is no container id
    return states

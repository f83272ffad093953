"""Where the engine keeps things. Every path derives from two roots, both parameters.

    <root>/                       the image store (storage/store.py) and, beside it:
    <root>/engine.db              containers, names, volumes (SQLite, WAL)
    <root>/containers/<id>/       what outlives a reboot: config.json, hosts,
                                  hostname, resolv.conf, <id>-json.log
    <root>/volumes/<name>/_data   named and anonymous volumes (Docker's layout)
    <root>/events/events.db       the event log (engine/events.py; SQLite, WAL)

    <run root>/                   what a reboot should forget (/run, a tmpfs):
    <run root>/runtime/           the OCI runtime's --root (its state.json per container)
    <run root>/c/<id>/            the monitor's files: attach socket, control
                                  fifo, exit file, pid files
    <run root>/locks/<id>         per-container flock: one verb at a time
    <run root>/exec/<exec id>/    an exec session's monitor files and process.json

The run root defaults to /run/dockyard whatever the store root is, as
Docker's exec-root and Podman's runroot do: container ids are random, so
two stores never collide there.
"""

from __future__ import annotations

DEFAULT_ROOT = "/var/lib/dockyard"
DEFAULT_RUN_ROOT = "/run/dockyard"


class EnginePaths:
    __slots__ = ("root", "run_root")

    def __init__(self, root: str = DEFAULT_ROOT, run_root: str = DEFAULT_RUN_ROOT) -> None:
        self.root = root.rstrip("/") or "/"
        self.run_root = run_root.rstrip("/") or "/"

    @property
    def db(self) -> str:
        return f"{self.root}/engine.db"

    @property
    def containers(self) -> str:
        return f"{self.root}/containers"

    def container_dir(self, container_id: str) -> str:
        return f"{self.root}/containers/{container_id}"

    def log_path(self, container_id: str) -> str:
        return f"{self.root}/containers/{container_id}/{container_id}-json.log"

    @property
    def volumes(self) -> str:
        return f"{self.root}/volumes"

    def volume_dir(self, name: str) -> str:
        return f"{self.root}/volumes/{name}"

    @property
    def events(self) -> str:
        return f"{self.root}/events"

    @property
    def runtime_root(self) -> str:
        return f"{self.run_root}/runtime"

    def run_dir(self, container_id: str) -> str:
        return f"{self.run_root}/c/{container_id}"

    def lock_path(self, container_id: str) -> str:
        return f"{self.run_root}/locks/{container_id}"

    def exec_dir(self, exec_id: str) -> str:
        return f"{self.run_root}/exec/{exec_id}"

    def __repr__(self) -> str:
        return f"EnginePaths(root={self.root!r}, run_root={self.run_root!r})"

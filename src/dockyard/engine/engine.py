"""`Engine`: the one object the CLI and the Python API hold; each verb is a module of its own.

An engine is cheap to make (nothing is opened until used) and holds no
process: every ``dockyard`` command makes one, does its verb, and exits,
while containers live on under their monitors.
"""

from __future__ import annotations

from dockyard.engine.container_table import ContainerTable
from dockyard.engine.db import Database
from dockyard.engine.locks import ContainerLock
from dockyard.engine.paths import DEFAULT_ROOT, DEFAULT_RUN_ROOT, EnginePaths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.events import EventLog
    from dockyard.engine.images import ImageService
    from dockyard.engine.networks import NetworkService
    from dockyard.engine.runtime_client import BinaryRuntime, LibraryRuntime
    from dockyard.engine.volumes import VolumeService


class Engine:
    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        run_root: str = DEFAULT_RUN_ROOT,
        insecure_registries: list[str] | None = None,
        cgroup_parent: str = "",
        default_runtime: str = "dockyard",
    ) -> None:
        self.paths = EnginePaths(root, run_root)
        #: where containers' cgroups go when they ask for no parent of their own
        self.cgroup_parent = cgroup_parent
        #: the runtime of containers that name none (--runtime): dockyard, runc, a path
        self.default_runtime = default_runtime or "dockyard"
        self.db = Database(self.paths.db)
        self.containers = ContainerTable(self.db)
        self.insecure = list(insecure_registries or [])
        self._images: ImageService | None = None
        self._volumes: VolumeService | None = None
        self._networks: NetworkService | None = None
        self._events: EventLog | None = None
        self._runtimes: dict[str, LibraryRuntime | BinaryRuntime] = {}
        #: True in a process that ends soon after its verb (the CLI): a container's
        #: monitor may then be its child for a while (one fork, engine/adopt.py);
        #: a long-lived caller (the Python API) must not collect such children
        self.short_lived = False

    @property
    def images(self) -> ImageService:
        if self._images is None:
            from dockyard.engine.images import ImageService

            self._images = ImageService(self.paths.root, self.insecure, self.events)
        return self._images

    @property
    def volumes(self) -> VolumeService:
        if self._volumes is None:
            from dockyard.engine.volumes import VolumeService

            self._volumes = VolumeService(self.db, self.paths, self.events)
        return self._volumes

    @property
    def networks(self) -> NetworkService:
        if self._networks is None:
            from dockyard.engine.networks import NetworkService

            self._networks = NetworkService(self.db, self.paths.run_root)
            self._networks.events = self.events
        return self._networks

    @property
    def events(self) -> EventLog:
        """The event log (engine/events.py): every verb records what it did there."""
        if self._events is None:
            from dockyard.engine.events import EventLog

            self._events = EventLog(self.paths.events)
        return self._events

    def runtime_for(self, name: str) -> LibraryRuntime | BinaryRuntime:
        """The runtime a container was made with (``--runtime``), by its recorded name."""
        found = self._runtimes.get(name)
        if found is None:
            from dockyard.engine.runtime_client import runtime_for

            found = runtime_for(name, self.paths.runtime_root)
            self._runtimes[name] = found
        return found

    def lock(self, container_id: str) -> ContainerLock:
        def gone() -> bool:
            return not self.db.query("SELECT 1 FROM containers WHERE id = ?", (container_id,))

        return ContainerLock(self.paths.lock_path(container_id), gone)

    def close(self) -> None:
        self.db.close()
        if self._events is not None:
            self._events.close()

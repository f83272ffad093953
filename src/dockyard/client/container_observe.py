"""docker-py's ``Container.stats``, ``get_archive``, ``put_archive`` and ``update``.

Mixed into `Container` (client/containers.py); the work is the engine's
(engine/stats.py, engine/archive.py, engine/update.py), errors become the API's.
"""

from __future__ import annotations

from dockyard.client.errors import InvalidArgument, translate
from dockyard.errors import DockyardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from dockyard.client import Client


def _call(action: Any) -> Any:
    try:
        return action()
    except DockyardError as exc:
        raise translate(exc) from exc


def _stream(samples: Iterator[dict[str, Any]], decode: bool) -> Iterator[Any]:
    from dockyard.oci import jsonio

    try:
        for doc in samples:
            yield doc if decode else (jsonio.dumps_compact(doc) + "\n").encode()
    except DockyardError as exc:
        raise translate(exc) from exc


class ContainerObserve:
    client: Client

    @property
    def id(self) -> str:  # Model's (the container's full id)
        raise NotImplementedError

    def stats(
        self, decode: bool | None = None, stream: bool = True, one_shot: bool | None = None
    ) -> Any:
        """Docker's stats JSON: with ``stream`` a generator (bytes, dicts with ``decode``)
        of one sample a second; without, one dict whose ``precpu_stats`` is a sample
        taken a second earlier (``one_shot``: at once, with no previous sample)."""
        from dockyard.engine import stats

        engine = self.client.engine
        if not stream:
            if decode:
                raise InvalidArgument("decode is only available in conjunction with stream=True")
            return _call(lambda: stats.once(engine, self.id, bool(one_shot)))
        if one_shot:
            raise InvalidArgument("one_shot is only available in conjunction with stream=False")
        return _stream(stats.stream(engine, self.id), bool(decode))

    def update(
        self,
        blkio_weight: int | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        cpu_shares: int | None = None,
        cpuset_cpus: str | None = None,
        cpuset_mems: str | None = None,
        mem_limit: int | str | None = None,
        mem_reservation: int | str | None = None,
        memswap_limit: int | str | None = None,
        kernel_memory: int | str | None = None,
        restart_policy: dict[str, Any] | None = None,
        nano_cpus: int | None = None,
        pids_limit: int | None = None,
    ) -> dict[str, Any]:
        """docker-py's ``update``: new limits, live; ``{"Warnings": []}``.
        ``cpu_quota``/``cpu_period`` become a CPU count (Docker's NanoCpus)."""
        from dockyard.engine.update import Resources, update

        unsupported = {
            "blkio_weight": blkio_weight,
            "cpuset_mems": cpuset_mems,
            "kernel_memory": kernel_memory,
            "restart_policy": restart_policy,
        }
        for name, value in unsupported.items():
            if value is not None:
                raise InvalidArgument(f"update: {name} is not supported by Dockyard yet")
        if cpu_quota is not None:  # -1 or 0: no quota
            nano_cpus = max(0, cpu_quota) * 1_000_000_000 // (cpu_period or 100_000)
        wanted = Resources(
            memory=_size(mem_limit, "mem_limit"),
            memory_swap=_size(memswap_limit, "memswap_limit"),
            memory_reservation=_size(mem_reservation, "mem_reservation"),
            nano_cpus=nano_cpus,
            cpu_shares=cpu_shares,
            cpuset_cpus=cpuset_cpus,
            pids_limit=pids_limit,
        )
        _call(lambda: update(self.client.engine, self.id, wanted))
        return {"Warnings": []}


def _size(value: int | str | None, option: str) -> int | None:
    """docker-py's sizes: bytes as an int, or "512m"; -1 for unlimited swap."""
    from dockyard.engine.parse import parse_bytes

    if value is None or isinstance(value, int):
        return value
    if str(value).strip() == "-1":
        return -1
    return int(_call(lambda: parse_bytes(str(value), option)))

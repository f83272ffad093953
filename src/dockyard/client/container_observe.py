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
        if restart_policy is not None:
            from dockyard.engine.types import RestartPolicy

            wanted.restart_policy = RestartPolicy(
                str(restart_policy.get("Name") or "no"),
                int(restart_policy.get("MaximumRetryCount") or 0),
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


CHUNK = 2 * 1024 * 1024  # docker-py's DEFAULT_DATA_CHUNK_SIZE


class _Chunks:
    """The spooled archive in chunks; the spool is closed at the end, by ``close()``,
    or when the iterator is dropped unread."""

    def __init__(self, spool: Any, chunk_size: int) -> None:
        self.spool = spool
        self.chunk_size = chunk_size

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> bytes:
        chunk = b"" if self.spool.closed else self.spool.read(self.chunk_size)
        if not chunk:
            self.close()
            raise StopIteration
        return bytes(chunk)

    def close(self) -> None:
        self.spool.close()

    def __del__(self) -> None:
        self.close()


class ContainerArchive:
    client: Client

    @property
    def id(self) -> str:  # Model's (the container's full id)
        raise NotImplementedError

    def get_archive(
        self, path: str, chunk_size: int | None = CHUNK, encode_stream: bool = False
    ) -> tuple[_Chunks, dict[str, Any]]:
        """docker-py's: (the tar of ``path`` as chunks, its stat: name, size, mode,
        mtime, linkTarget). The archive is made before this returns (spooled to a
        temporary file past 64 MiB)."""
        import tempfile

        from dockyard.engine.archive import get_archive

        spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115  # the generator closes it
        try:
            found = _call(lambda: get_archive(self.client.engine, self.id, path, spool))  # type: ignore[arg-type]
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return _Chunks(spool, chunk_size or CHUNK), found.to_json()

    def put_archive(self, path: str, data: bytes | Any) -> bool:
        """docker-py's: unpack the tar ``data`` (bytes or a readable file) into the
        directory ``path``; True."""
        import io

        from dockyard.engine.archive import put_archive

        stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        _call(lambda: put_archive(self.client.engine, self.id, path, stream))
        return True

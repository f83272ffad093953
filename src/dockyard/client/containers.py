"""``client.containers``: run, create, get, list; and `Container`, docker-py's model object."""

from __future__ import annotations

from dockyard import errors as engine_errors
from dockyard.client.container_observe import ContainerArchive, ContainerObserve
from dockyard.client.container_ops import CollectionOps, ContainerOps
from dockyard.client.errors import ContainerError, NotFound, translate
from dockyard.client.model import Model

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from dockyard.client import Client
    from dockyard.client.images import Image
    from dockyard.engine.engine import Engine


class _Discard:
    """Where pull progress goes when a program asked for nothing."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Container(Model, ContainerOps, ContainerObserve, ContainerArchive):
    @property
    def name(self) -> str:
        return str(self.attrs.get("Name", "")).lstrip("/")

    @property
    def status(self) -> str:
        return str(self.attrs["State"]["Status"])

    @property
    def health(self) -> str:
        """docker-py's: the health status, or "unknown" without a health check."""
        return str(self.attrs["State"].get("Health", {}).get("Status", "unknown"))

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.attrs["Config"].get("Labels") or {})

    @property
    def image(self) -> Image:
        return self.client.images.get(self.attrs["Image"])

    def reload(self) -> None:
        self.attrs = self.client.containers.get(self.id).attrs

    # ------------------------------------------------------------ verbs

    def start(self) -> None:
        from dockyard.engine.lifecycle import start

        _call(lambda: start(self.client.engine, self.id))

    def stop(self, timeout: int | None = None) -> None:
        from dockyard.engine.lifecycle import stop

        _call(lambda: stop(self.client.engine, self.id, timeout))

    def restart(self, timeout: int | None = None) -> None:
        from dockyard.engine.lifecycle import restart

        _call(lambda: restart(self.client.engine, self.id, timeout))

    def kill(self, signal: str | int | None = None) -> None:
        from dockyard.engine.lifecycle import kill

        _call(lambda: kill(self.client.engine, self.id, str(signal or "KILL")))

    def attach(self, **kwargs: Any) -> Any:
        """docker-py's attach (stdout, stderr, stream, logs, demux): the output until the
        container ends (bytes), or a generator of it with ``stream``."""
        from dockyard.client.attach import attach

        return attach(self.client.engine, self.id, **kwargs)

    def exec_run(self, cmd: str | list[str], **kwargs: Any) -> Any:
        """docker-py's exec_run (stdout, stderr, stdin, tty, privileged, user, detach, stream,
        environment, workdir, demux): ``ExecResult(exit_code, output)``."""
        from dockyard.client.exec_run import exec_run

        return exec_run(self.client.engine, self.id, cmd, **kwargs)

    def pause(self) -> None:
        from dockyard.engine.pause import pause

        _call(lambda: pause(self.client.engine, self.id))

    def unpause(self) -> None:
        from dockyard.engine.pause import unpause

        _call(lambda: unpause(self.client.engine, self.id))

    def top(self, ps_args: str | None = None) -> dict[str, Any]:
        """``{"Titles": [...], "Processes": [[...], ...]}`` (``ps_args`` as one string: "-ef")."""
        from dockyard.engine.top import top

        found = _call(lambda: top(self.client.engine, self.id, (ps_args or "").split()))
        return {"Titles": found.titles, "Processes": found.processes}

    def remove(self, v: bool = False, link: bool = False, force: bool = False) -> None:
        from dockyard.engine.remove import remove

        _call(lambda: remove(self.client.engine, self.id, force=force, volumes=v))

    def wait(self, timeout: float | None = None, condition: str | None = None) -> dict[str, Any]:
        """Block until it stops: ``{"StatusCode": N, "Error": None}`` (docker-py's answer)."""
        from dockyard.engine.exits import wait_exit
        from dockyard.engine.lifecycle import wait

        engine = self.client.engine
        if timeout is not None:
            rec = _call(lambda: engine.containers.find(self.id))
            if wait_exit(engine, rec, float(timeout)) is None:
                raise TimeoutError(f"container {self.short_id} still runs after {timeout} s")
        code = _call(lambda: wait(engine, self.id))
        return {"StatusCode": code, "Error": None}

    def logs(
        self,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: str | int = "all",
        since: object = None,
        follow: bool | None = None,
        until: object = None,
    ) -> bytes | Iterator[bytes]:
        """docker-py's: the log as bytes, or with ``stream=True`` a generator of its lines as
        they come, following the container until it stops (unless ``follow=False``)."""
        if follow is None:
            follow = stream  # docker-py: a stream follows unless told not to
        args = (stdout, stderr, timestamps, tail, since, bool(follow), until)
        if stream:
            return self._log_stream(*args)
        out: list[bytes] = []
        self._read_log(self.client.engine, out.append, *args)
        return b"".join(out)

    def _log_stream(self, *args: Any) -> Iterator[bytes]:
        """Each line as the monitor writes it: the reading (which may follow for long) runs
        in a thread; closing the generator stops it at the next line."""
        import queue
        import threading

        lines: queue.Queue[bytes | BaseException | None] = queue.Queue()
        stop = threading.Event()

        def put(line: bytes) -> None:
            if stop.is_set():
                raise _Stopped()
            lines.put(line)

        def reader() -> None:
            from dockyard.engine.engine import Engine

            mine = self.client.engine  # the same store, its own database connection
            engine = Engine(
                mine.paths.root,
                mine.paths.run_root,
                mine.insecure,
                mine.cgroup_parent,
                mine.default_runtime,
            )
            try:
                self._read_log(engine, put, *args)
            except _Stopped:
                pass
            except BaseException as exc:  # raised in the consumer's thread instead
                lines.put(exc)
            finally:
                engine.close()
            lines.put(None)

        threading.Thread(target=reader, daemon=True, name="dockyard-logs").start()
        try:
            while (item := lines.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    def _read_log(
        self,
        engine: Engine,
        put: Any,
        stdout: bool,
        stderr: bool,
        timestamps: bool,
        tail: str | int,
        since: object,
        follow: bool,
        until: object,
    ) -> None:
        from dockyard.engine import logs

        rec = _call(lambda: engine.containers.find(self.id))

        def emit(entry: logs.LogEntry) -> None:
            if (entry.stream == "stderr" and stderr) or (entry.stream != "stderr" and stdout):
                put((entry.time.encode() + b" " if timestamps else b"") + entry.text)

        _call(lambda: logs.read(engine, rec, emit, follow, _when(since), _when(until), str(tail)))


class _Stopped(Exception):
    """The consumer closed a log stream: its reader stops."""


def _when(value: object) -> str:
    """docker-py's since/until: a datetime, a Unix time, or what the CLI takes."""
    if value is None:
        return ""
    if hasattr(value, "timestamp"):
        return str(value.timestamp())
    return str(value)


def _call(action: Any) -> Any:
    try:
        return action()
    except engine_errors.DockyardError as exc:
        raise translate(exc) from exc


class ContainerCollection(CollectionOps):
    def __init__(self, client: Client) -> None:
        self.client = client

    def _model(self, container_id: str) -> Container:
        from dockyard.engine.inspect import container_json

        engine = self.client.engine
        rec = _call(lambda: engine.containers.find(container_id))
        return Container(self.client, container_json(engine, rec))

    def get(self, container_id: str) -> Container:
        return self._model(container_id)

    def list(
        self,
        all: bool = False,
        before: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = -1,
        since: str | None = None,
        sparse: bool = False,
        ignore_removed: bool = False,
    ) -> list[Container]:
        from dockyard.engine.listing import parse_filters, select

        items = []
        for key, value in (filters or {}).items():
            for v in value if isinstance(value, list) else [value]:
                items.append(f"{key}={v}")
        if before:
            items.append(f"before={before}")
        if since:
            items.append(f"since={since}")
        engine = self.client.engine
        records = _call(lambda: select(engine, all, limit, parse_filters(items)))
        found = []
        for rec in records:
            try:
                found.append(self._model(rec.id))
            except NotFound:
                if not ignore_removed:
                    raise
        return found

    def create(self, image: str, command: object = None, **kwargs: Any) -> Container:
        from dockyard.client.options import request
        from dockyard.engine.create import create

        kwargs.setdefault("pull", "never")  # docker-py's create does not pull
        req = _call(lambda: request(image, command, **kwargs))
        try:
            rec = create(self.client.engine, req, _Discard())  # type: ignore[arg-type]
        except engine_errors.NotFound as exc:
            raise translate(exc, image="image" in str(exc).lower()) from exc
        except engine_errors.DockyardError as exc:
            raise translate(exc) from exc
        return self._model(rec.id)

    def run(
        self,
        image: str,
        command: object = None,
        stdout: bool = True,
        stderr: bool = False,
        remove: bool = False,
        **kwargs: Any,
    ) -> Container | bytes | Iterator[bytes]:
        """Run a container: its output (bytes), with ``detach=True`` the `Container`, with
        ``stream=True`` a generator of its output's chunks (docker-py's too is handed over
        once the container has ended, its exit status checked and ``remove`` done)."""
        from dockyard.client.options import request
        from dockyard.engine.attach import Foreground
        from dockyard.engine.run import run_attached, run_detached

        detach = bool(kwargs.get("detach"))
        stream = bool(kwargs.pop("stream", False))
        kwargs.setdefault("pull", "missing")
        req = _call(lambda: request(image, command, remove=remove, **kwargs))
        engine = self.client.engine
        if detach:
            rec = _call(lambda: run_detached(engine, req, _Discard()))  # type: ignore[arg-type]
            return self._model(rec.id)
        out: list[bytes] = []
        err: list[bytes] = []
        both: list[bytes] = []

        def on_out(data: bytes) -> None:
            out.append(data)
            if stdout:
                both.append(data)

        def on_err(data: bytes) -> None:
            err.append(data)
            if stderr:
                both.append(data)

        fg = Foreground(on_out, on_err)
        req.host.auto_remove = remove
        code = _call(lambda: run_attached(engine, req, _Discard(), fg))  # type: ignore[arg-type]
        assert fg.rec is not None
        if code != 0:
            model: Container | str
            try:
                model = self._model(fg.rec.id)
            except NotFound:
                model = fg.rec.id  # removed with remove=True
            raise ContainerError(model, code, command, image, b"".join(err))
        return iter(both) if stream else b"".join(both)

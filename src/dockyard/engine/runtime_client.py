"""The engine's one door to an OCI runtime: `OciRuntime`, and its two kinds.

`LibraryRuntime` is Dockyard's own runtime called as a library, in this
process: ``state``, ``start``, ``kill`` and ``delete`` cost a function call
instead of a Python start (~15-40 ms each), and ``create`` can run in the
process that then becomes the container's monitor (see engine/launch.py).
`BinaryRuntime` runs any runc-compatible binary (runc, crun, a path) with
runc's command line. Both keep their state under the engine's run root, so
``dockyard-runtime --root /run/dockyard/runtime list`` (or runc's) shows
the engine's containers.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class OciRuntime(Protocol):
        name: str
        root: str
        #: create can run in this process (LibraryRuntime) rather than as a command
        in_process: bool

        def create_argv(
            self, container_id: str, bundle: str, pid_file: str, tty: bool
        ) -> list[str]:
            """The command that creates the container (the monitor runs it)."""

        def exec_argv(
            self, container_id: str, process_path: str, pid_file: str, tty: bool
        ) -> list[str]:
            """The command that starts a process.json in the container, detached (a monitor
            runs it; the process is left to the monitor, its subreaper)."""

        def start(self, container_id: str) -> None: ...

        def state(self, container_id: str) -> RuntimeState | None:
            """None when the runtime does not know the container."""

        def kill(self, container_id: str, signal: int, all_processes: bool = False) -> None: ...

        def delete(self, container_id: str, force: bool = False) -> None: ...

        def pause(self, container_id: str) -> None: ...

        def resume(self, container_id: str) -> None: ...

        def pids(self, container_id: str) -> list[int]:
            """Every process of the container, as host pids (``ps --format json``)."""

        def update(self, container_id: str, resources: dict[str, Any]) -> None:
            """New OCI linux.resources for a live container (``update --resources -``)."""


CONSOLE_SOCKET_PLACEHOLDER = "{console-socket}"  # the monitor substitutes its socket's path


class RuntimeState:
    __slots__ = ("pid", "status")

    def __init__(self, status: str, pid: int) -> None:
        self.status = status  # creating, created, running, paused, stopped
        self.pid = pid

    def __repr__(self) -> str:
        return f"RuntimeState({self.status!r}, {self.pid})"


def _ignore(message: str) -> None:
    pass


class LibraryRuntime:
    name = "dockyard"
    in_process = True

    def __init__(self, root: str, executable: str = "") -> None:
        self.root = root
        #: the dockyard-runtime command, for create_argv (a monitor in spawn mode)
        self.executable = executable

    def create_argv(self, container_id: str, bundle: str, pid_file: str, tty: bool) -> list[str]:
        argv = [self.executable or _runtime_command(), "--root", self.root, "create"]
        argv += ["--bundle", bundle, "--pid-file", pid_file]
        if tty:
            argv += ["--console-socket", CONSOLE_SOCKET_PLACEHOLDER]
        return [*argv, container_id]

    def exec_argv(
        self, container_id: str, process_path: str, pid_file: str, tty: bool
    ) -> list[str]:
        return _exec_argv(self.executable or _runtime_command(), self.root, container_id,
                          process_path, pid_file, tty)  # fmt: skip

    def create_here(self, container_id: str, bundle: str, pid_file: str) -> int:
        """Create the container from this process (its stdio becomes the container's); the pid."""
        from dockyard.runtime.create import CreateOptions, create

        state = create(self.root, container_id, CreateOptions(bundle, pid_file=pid_file))
        return state.pid

    def start(self, container_id: str) -> None:
        from dockyard.runtime.start import start

        start(self.root, container_id, _ignore)

    def state(self, container_id: str) -> RuntimeState | None:
        from dockyard.runtime.state import ContainerState

        try:
            found = ContainerState.load(self.root, container_id)
        except NotFound:
            return None
        return RuntimeState(found.status, found.pid)

    def kill(self, container_id: str, signal: int, all_processes: bool = False) -> None:
        from dockyard.runtime.kill import kill

        kill(self.root, container_id, signal, all_processes)

    def delete(self, container_id: str, force: bool = False) -> None:
        from dockyard.runtime.delete import delete

        delete(self.root, container_id, force, _ignore)

    def pause(self, container_id: str) -> None:
        from dockyard.runtime.freeze import pause

        pause(self.root, container_id)

    def resume(self, container_id: str) -> None:
        from dockyard.runtime.freeze import resume

        resume(self.root, container_id)

    def pids(self, container_id: str) -> list[int]:
        from dockyard.runtime.ps import pids

        return pids(self.root, container_id)

    def update(self, container_id: str, resources: dict[str, Any]) -> None:
        from dockyard.runtime.update import update

        update(self.root, container_id, resources)


def _runtime_command() -> str:
    import sys

    here = sys.executable.rpartition("/")[0]
    candidate = f"{here}/dockyard-runtime"
    return candidate if posix.access(candidate, posix.X_OK) else "dockyard-runtime"


class BinaryRuntime:
    in_process = False

    def __init__(self, name: str, executable: str, root: str) -> None:
        self.name = name
        self.executable = executable
        self.root = root

    def _run(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> tuple[int, str, str]:
        import subprocess

        try:
            done = subprocess.run(
                [self.executable, "--root", self.root, *args],
                capture_output=True,
                text=True,
                input=stdin,
                stdin=subprocess.DEVNULL if stdin is None else None,
                timeout=120,
            )
        except OSError as exc:
            raise HostError(f"cannot run the runtime {self.executable}: {exc.strerror}") from exc
        if check and done.returncode != 0:
            message = done.stderr.strip() or done.stdout.strip()
            raise HostError(f"{self.name} {args[0]}: {_last_line(message)}")
        return done.returncode, done.stdout, done.stderr

    def create_argv(self, container_id: str, bundle: str, pid_file: str, tty: bool) -> list[str]:
        argv = [self.executable, "--root", self.root, "create", "--bundle", bundle]
        argv += ["--pid-file", pid_file]
        if tty:
            argv += ["--console-socket", CONSOLE_SOCKET_PLACEHOLDER]
        return [*argv, container_id]

    def exec_argv(
        self, container_id: str, process_path: str, pid_file: str, tty: bool
    ) -> list[str]:
        return _exec_argv(self.executable, self.root, container_id, process_path, pid_file, tty)

    def start(self, container_id: str) -> None:
        self._run("start", container_id)

    def state(self, container_id: str) -> RuntimeState | None:
        from dockyard.oci import jsonio

        code, out, _ = self._run("state", container_id, check=False)
        if code != 0:
            from dockyard.linux.fspath import isdir

            # runc's and crun's layout, <root>/<id>: a create cut short may leave the
            # directory without a state, which their `delete --force` removes; said as
            # Dockyard's runtime says it (runtime/state.py: CREATING)
            return RuntimeState("creating", 0) if isdir(f"{self.root}/{container_id}") else None
        doc = jsonio.loads(out)
        return RuntimeState(str(doc.get("status", "")), int(doc.get("pid") or 0))

    def kill(self, container_id: str, signal: int, all_processes: bool = False) -> None:
        args = ["kill", *(["--all"] if all_processes else []), container_id, str(signal)]
        self._run(*args)

    def delete(self, container_id: str, force: bool = False) -> None:
        self._run("delete", *(["--force"] if force else []), container_id)

    def pause(self, container_id: str) -> None:
        self._run("pause", container_id)

    def resume(self, container_id: str) -> None:
        self._run("resume", container_id)

    def pids(self, container_id: str) -> list[int]:
        from dockyard.oci import jsonio

        _, out, _ = self._run("ps", "--format", "json", container_id)
        found = jsonio.loads(out or "[]")
        return [int(pid) for pid in found or []]

    def update(self, container_id: str, resources: dict[str, Any]) -> None:
        from dockyard.oci import jsonio

        self._run("update", "--resources", "-", container_id, stdin=jsonio.dumps(resources))


def _exec_argv(
    executable: str, root: str, container_id: str, process_path: str, pid_file: str, tty: bool
) -> list[str]:
    argv = [executable, "--root", root, "exec", "--detach", "--pid-file", pid_file]
    argv += ["--process", process_path]
    if tty:
        argv += ["--console-socket", CONSOLE_SOCKET_PLACEHOLDER]
    return [*argv, container_id]


def _last_line(message: str) -> str:
    """runc logs JSON lines or 'time=... level=error msg=...': keep the message."""
    lines = [ln for ln in message.splitlines() if ln.strip()]
    if not lines:
        return "failed"
    last = lines[-1]
    if 'msg="' in last:
        return last.split('msg="', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
    return last


def runtime_for(choice: str, root: str) -> LibraryRuntime | BinaryRuntime:
    """``--runtime``: dockyard (default, in-process), runc, crun, or the path of a runc-like."""
    if choice in ("", "dockyard", "dockyard-runtime"):
        return LibraryRuntime(root)
    if "/" in choice:
        if not posix.access(choice, posix.X_OK):
            raise NotFound(f"runtime {choice}: not an executable file")
        return BinaryRuntime(choice.rpartition("/")[2], choice, root)
    for directory in posix.environ.get(b"PATH", b"/usr/sbin:/usr/bin:/sbin:/bin").split(b":"):
        candidate = f"{directory.decode()}/{choice}"
        if posix.access(candidate, posix.X_OK):
            return BinaryRuntime(choice, candidate, root)
    raise NotFound(f"unknown or invalid runtime name: {choice}")

"""Drive the OCI runtime under test through its command line.

``RUNTIME`` picks it: ``dockyard`` (default) is the ``dockyard-runtime``
script of the running venv; ``runc`` and ``crun`` are looked up on PATH; any
other value is taken as the path of a runc-compatible binary. Every
`Runtime` has its own ``--root`` state directory, so tests never see each
other's containers.

Output is captured through temporary files, not pipes: a container started
by ``create`` or ``run -d`` inherits the runtime's stdout and stderr and
would hold a pipe open for as long as it lives.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from tests.support.bundle import Bundle
from tests.support.wait import wait_for

RUNTIME_ENV = "RUNTIME"
CONTAINER_ID_PREFIX = "dockyard-test-"  # also names the containers' cgroups


class RuntimeCommandFailed(AssertionError):
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"{' '.join(map(str, result.args))} exited {result.returncode}\n"
            f"stdout: {result.stdout!r}\nstderr: {result.stderr!r}"
        )
        self.result = result


def runtime_under_test() -> tuple[str, str]:
    """(name, executable) of the runtime chosen by ``RUNTIME``."""
    choice = os.environ.get(RUNTIME_ENV) or "dockyard"
    if choice == "dockyard":
        return choice, str(Path(sys.executable).parent / "dockyard-runtime")
    if choice in ("runc", "crun"):
        return choice, shutil.which(choice) or choice
    return Path(choice).name, choice


#: every container id this test process handed out: its cgroups are this
#: session's, whatever other test sessions run on the machine at the same time
ISSUED_IDS: set[str] = set()


def new_container_id() -> str:
    container_id = CONTAINER_ID_PREFIX + secrets.token_hex(4)
    ISSUED_IDS.add(container_id)
    return container_id


@contextlib.contextmanager
def _renumbered(fds: Sequence[int]) -> Iterator[tuple[list[str], tuple[int, ...]]]:
    """(argv prefix, descriptors to keep open) that give the command ``fds``
    as 3, 4, ...: subprocess keeps descriptor numbers, so a shell moves them.
    Copies above the target range first, so no target overwrites a source."""
    if not fds:
        yield [], ()
        return
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3 + len(fds)) for fd in fds]
    try:
        moves = " ".join(f"{3 + i}>&{fd} {fd}>&-" for i, fd in enumerate(high))
        yield ["bash", "-c", f'exec "$@" {moves}', "bash"], tuple(high)
    finally:
        for fd in high:
            os.close(fd)


def _read_all(file: IO[bytes] | None) -> str:
    if file is None:
        return ""
    file.seek(0)
    return file.read().decode(errors="replace")


class Runtime:
    def __init__(self, name: str, executable: str, root: Path) -> None:
        self.name = name
        self.executable = executable
        self.root = root
        self.ids: set[str] = set()  # every id this object handed to the runtime

    def __repr__(self) -> str:
        return f"Runtime({self.name!r}, root={str(self.root)!r})"

    def __call__(
        self,
        *args: str | os.PathLike[str],
        check: bool = True,
        input: str | None = None,
        timeout: float = 30,
        capture: bool = True,
        pass_fds: Sequence[int] = (),
    ) -> subprocess.CompletedProcess[str]:
        """Run the runtime; ``pass_fds`` are descriptors of ours that it gets
        as 3, 4, ... in that order (what ``--preserve-fds`` hands on)."""
        argv = [self.executable, "--root", str(self.root), *map(str, args)]
        with (
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
            _renumbered(pass_fds) as (wrapper, kept),
        ):
            process = subprocess.run(
                [*wrapper, *argv],
                input=None if input is None else input.encode(),
                stdin=subprocess.DEVNULL if input is None else None,
                stdout=out if capture else None,
                stderr=err if capture else None,
                timeout=timeout,
                check=False,
                pass_fds=kept,
            )
            result = subprocess.CompletedProcess(
                argv,
                process.returncode,
                _read_all(out if capture else None),
                _read_all(err if capture else None),
            )
        if check and result.returncode != 0:
            raise RuntimeCommandFailed(result)
        return result

    def new_id(self) -> str:
        container_id = new_container_id()
        self.ids.add(container_id)
        return container_id

    def _use(self, container_id: str | None) -> str:
        if container_id is None:
            return self.new_id()
        self.ids.add(container_id)
        return container_id

    def run(
        self,
        bundle: Bundle,
        id: str | None = None,
        detach: bool = False,
        pid_file: Path | None = None,
        check: bool = False,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[str]:
        """``run``; ``returncode`` is the container process's exit status."""
        args: list[str | Path] = ["run", "--bundle", bundle.path]
        if detach:
            args.append("--detach")
        if pid_file is not None:
            args += ["--pid-file", pid_file]
        return self(*args, self._use(id), check=check, timeout=timeout)

    def create(self, bundle: Bundle, id: str | None = None, pid_file: Path | None = None) -> str:
        container_id = self._use(id)
        args: list[str | Path] = ["create", "--bundle", bundle.path]
        if pid_file is not None:
            args += ["--pid-file", pid_file]
        self(*args, container_id)
        return container_id

    def start(self, id: str) -> subprocess.CompletedProcess[str]:
        return self("start", id)

    def state(self, id: str) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self("state", id).stdout)
        return state

    def kill(self, id: str, sig: str | int | None = None) -> subprocess.CompletedProcess[str]:
        """``kill``; without ``sig`` the runtime sends its default, SIGTERM."""
        return self("kill", id, *([] if sig is None else [str(sig)]))

    def delete(self, id: str, force: bool = False) -> subprocess.CompletedProcess[str]:
        return self("delete", *(["--force"] if force else []), id)

    def list(self) -> list[dict[str, Any]]:
        # runc prints "null", not "[]", when there are no containers.
        return json.loads(self("list", "--format", "json").stdout) or []

    def wait_for_status(self, id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
        """Poll ``state`` until the status is one of ``statuses``; return that state."""

        def reached() -> dict[str, Any] | None:
            state = self.state(id)
            return state if state["status"] in statuses else None

        return wait_for(reached, f"{id} to become {' or '.join(statuses)}", timeout)

    def cleanup(self) -> list[str]:
        """Force-delete every container this runtime knows; say what resisted."""
        problems = []
        listed = self("list", "--quiet", check=False)
        ids = self.ids | set(listed.stdout.split() if listed.returncode == 0 else ())
        for container_id in sorted(ids):
            deleted = self("delete", "--force", container_id, check=False)
            if deleted.returncode == 0:
                continue
            remains = self("state", container_id, check=False)
            if remains.returncode != 0:
                continue  # never created, or gone
            problems.append(f"delete --force {container_id} failed: {deleted.stderr.strip()}")
            pid = json.loads(remains.stdout).get("pid") or 0
            if pid > 0:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self("delete", "--force", container_id, check=False)
        return problems


def run_in_container(
    runtime: Runtime, bundle: Bundle, *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` as the bundle's process in a new container and wait for it.

    Returns the process's exit status, stdout and stderr; stdin is /dev/null.
    """
    bundle.process["args"] = list(args)
    bundle.write()
    return runtime.run(bundle, timeout=timeout)

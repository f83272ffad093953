"""What an engine that creates containers itself does before adopt mode:

    python adopt_launcher.py JSON

makes itself a child subreaper, runs the runtime's create with pipes as the
container's stdio (so the init ends up its child), then becomes the monitor
by exec with ``--adopt PID`` and the pipes' other ends; with ``tty``, it
takes the pty master from a console socket of its own and hands that on.
JSON holds ``runtime`` (argv before "create"), ``bundle``, ``id``,
``pid_file``, ``monitor`` (its argv without --adopt and the descriptors),
``sync_fd`` and ``tty``.
A standalone script: it runs in a process of its own, as an engine's child.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
import tempfile
from typing import Any, NoReturn

PR_SET_CHILD_SUBREAPER = 36


def main() -> None:
    spec = json.loads(sys.argv[1])
    sync_fd = spec["sync_fd"]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    fds = create_with_terminal(spec) if spec["tty"] else create_with_pipes(spec)
    with open(spec["pid_file"]) as file:
        pid = file.read().strip()
    for fd in [*fds.values(), sync_fd]:
        os.set_inheritable(fd, True)
    argv = [*spec["monitor"], "--adopt", pid, "--sync-fd", str(sync_fd)]
    for option, fd in fds.items():
        argv += [option, str(fd)]
    os.execv(argv[0], argv)


def create_with_pipes(spec: dict[str, Any]) -> dict[str, int]:
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    stderr_read, stderr_write = os.pipe()
    create = [*spec["runtime"], "create", "--bundle", spec["bundle"]]
    create += ["--pid-file", spec["pid_file"], spec["id"]]
    created = subprocess.run(create, stdin=stdin_read, stdout=stdout_write, stderr=stderr_write)
    for fd in (stdin_read, stdout_write, stderr_write):
        os.close(fd)
    if created.returncode != 0:
        os.set_blocking(stderr_read, False)
        fail(spec, os.read(stderr_read, 4096).decode(errors="replace"))
    return {"--stdin-fd": stdin_write, "--stdout-fd": stdout_read, "--stderr-fd": stderr_read}


def create_with_terminal(spec: dict[str, Any]) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as directory, socket.socket(socket.AF_UNIX) as listener:
        path = f"{directory}/console.sock"
        listener.bind(path)
        listener.listen(1)
        create = [*spec["runtime"], "create", "--bundle", spec["bundle"], "--console-socket", path]
        create += ["--pid-file", spec["pid_file"], spec["id"]]
        created = subprocess.run(create, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if created.returncode != 0:
            fail(spec, created.stderr)
        connection, _ = listener.accept()
        with connection:
            _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
    return {"--pty-fd": fds[0]}


def fail(spec: dict[str, Any], message: str) -> NoReturn:
    os.write(spec["sync_fd"], json.dumps({"error": message.strip()}).encode() + b"\n")
    sys.exit(1)


if __name__ == "__main__":
    main()

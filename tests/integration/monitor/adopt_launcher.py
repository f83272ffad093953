"""What an engine that creates containers itself does before adopt mode:

    python adopt_launcher.py JSON

makes itself a child subreaper, runs the runtime's create with pipes as the
container's stdio (so the init ends up its child), then becomes the monitor
by exec with ``--adopt PID`` and the pipes' other ends. JSON holds
``runtime`` (argv before "create"), ``bundle``, ``id``, ``pid_file``,
``monitor`` (its argv without --adopt and the descriptors) and ``sync_fd``.
A standalone script: it runs in a process of its own, as an engine's child.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def main() -> None:
    spec = json.loads(sys.argv[1])
    sync_fd = spec["sync_fd"]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
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
        message = os.read(stderr_read, 4096).decode(errors="replace").strip()
        os.write(sync_fd, json.dumps({"error": message}).encode() + b"\n")
        sys.exit(1)
    with open(spec["pid_file"]) as file:
        pid = file.read().strip()
    fds = {"--stdin-fd": stdin_write, "--stdout-fd": stdout_read, "--stderr-fd": stderr_read}
    for fd in [*fds.values(), sync_fd]:
        os.set_inheritable(fd, True)
    argv = [*spec["monitor"], "--adopt", pid, "--sync-fd", str(sync_fd)]
    for option, fd in fds.items():
        argv += [option, str(fd)]
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()

"""``start``: what the poststart hooks are told, however quick the process is."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from dockyard.linux import proc
from dockyard.runtime import state as st
from dockyard.runtime.start import start


def test_poststart_hooks_see_a_running_process_even_one_already_gone(tmp_path: Path) -> None:
    # A stand-in for the init: it blocks opening the exec fifo, writes the
    # "ready" byte once start opens it, and exits at once, so that by the time
    # start reads the fifo's end the process is certainly gone (a zombie of
    # ours). The hook must still be told "running" and the pid, as crun says:
    # a poststart hook stands for "the process was started".
    directory = tmp_path / "c1"
    directory.mkdir()
    fifo = directory / st.EXEC_FIFO
    seen = tmp_path / "hook-saw.json"
    hook = tmp_path / "hook"
    hook.write_text(f"#!/bin/sh\ncat > {seen}\n")
    hook.chmod(0o755)
    config = {"ociVersion": "1.2.0", "hooks": {"poststart": [{"path": str(hook)}]}}
    os.mkfifo(fifo)
    init = subprocess.Popen(["/bin/sh", "-c", f"printf 0 > {fifo}"])
    try:
        state = st.ContainerState("c1", str(directory), "/b", "/b/rootfs", config)
        state.pid = init.pid
        started = proc.start_time(init.pid)
        assert started is not None
        state.init_start_time = started
        state.save()
        warnings: list[str] = []

        after = start(str(tmp_path), "c1", warnings.append)

        assert warnings == []
        told = json.loads(seen.read_text())
        assert (told["status"], told["pid"]) == (st.RUNNING, init.pid)
        assert after.status == st.STOPPED  # what start itself reports is the truth
    finally:
        init.kill()
        init.wait()

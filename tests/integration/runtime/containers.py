"""Shapes of container the runtime tests share."""

from __future__ import annotations

from pathlib import Path

from tests.support.bundle import Bundle
from tests.support.runtime import Runtime
from tests.support.wait import wait_for

# ``exec`` so that the pid the runtime reports is the sleeping process itself.
SLEEP = "exec sleep 1000"


def use_script(bundle: Bundle, script: str, writable_root: bool = True) -> None:
    """Make the bundle's process ``sh -c script``; a writable root lets the
    script leave files the test can read from the host under bundle.rootfs."""
    bundle.process["args"] = ["sh", "-c", script]
    bundle.config["root"]["readonly"] = not writable_root
    bundle.write()


def run_sleeper(runtime: Runtime, bundle: Bundle) -> str:
    """A running container (``run -d``) that waits to be killed; returns its id.

    Returns once the container's process is ``sleep`` itself: ``run -d`` ends
    when the init execs, and the process then execs twice more (the exec
    trampoline, sh, sleep); a test that looks at it in between (its
    /proc/PID/cmdline is empty for a moment inside each execve) sees neither.
    """
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    cmdline = Path(f"/proc/{runtime.state(container_id)['pid']}/cmdline")
    wanted = SLEEP.removeprefix("exec ").replace(" ", "\0").encode() + b"\0"
    wait_for(lambda: cmdline.read_bytes() == wanted, f"{container_id} to run {SLEEP!r}")
    return container_id

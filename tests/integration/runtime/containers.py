"""Shapes of container the runtime tests share."""

from __future__ import annotations

from tests.support.bundle import Bundle
from tests.support.runtime import Runtime

# ``exec`` so that the pid the runtime reports is the sleeping process itself.
SLEEP = "exec sleep 1000"


def use_script(bundle: Bundle, script: str, writable_root: bool = True) -> None:
    """Make the bundle's process ``sh -c script``; a writable root lets the
    script leave files the test can read from the host under bundle.rootfs."""
    bundle.process["args"] = ["sh", "-c", script]
    bundle.config["root"]["readonly"] = not writable_root
    bundle.write()


def run_sleeper(runtime: Runtime, bundle: Bundle) -> str:
    """A running container (``run -d``) that waits to be killed; returns its id."""
    use_script(bundle, SLEEP, writable_root=False)
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    return container_id

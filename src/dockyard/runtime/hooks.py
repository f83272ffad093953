"""OCI hooks: run each with the container's state on stdin, in order, with its timeout."""

from __future__ import annotations

import posix

from dockyard.errors import HookFailed
from dockyard.oci import jsonio
from dockyard.runtime.signals import SIGKILL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from dockyard.oci.runtime_spec import Hook

    #: where the verbs send warnings (the CLI logs them)
    Warn = Callable[[str], None]


def preload() -> None:
    """Import what running a hook needs, for callers about to leave the host's root."""
    import subprocess  # noqa: F401


def spec_hooks(config: dict[str, Any], kind: str) -> list[Hook]:
    """The hooks of one kind that a container's config.json lists."""
    raw = (config.get("hooks") or {}).get(kind)
    if not raw:
        return []
    from dockyard.oci.runtime_spec import Hook

    return [Hook(h, f"hooks.{kind}[{i}]") for i, h in enumerate(raw)]


def run_hooks(kind: str, hooks: list[Hook], state: dict[str, Any]) -> None:
    """Run hooks of one kind; the first that fails or times out raises HookFailed."""
    if not hooks:
        return
    stdin = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        what = f"{kind} hook #{index} ({hook.path})"
        status, stderr = _run_one(hook, stdin, what)
        if status != 0:
            detail = stderr.decode(errors="replace").strip()
            raise HookFailed(
                f"{what} failed with status {status}" + (f": {detail}" if detail else "")
            )


def _run_one(hook: Hook, stdin: bytes, what: str) -> tuple[int, bytes]:
    """Run one hook in a process group of its own: (exit status, stderr).

    On a timeout the whole group is killed, not just the hook: a child it
    left in the background would live on, and keep its output pipes open.
    """
    import subprocess  # only containers with hooks pay for it

    try:
        process = subprocess.Popen(
            [*(hook.args or [hook.path])],
            executable=hook.path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(e.split("=", 1) for e in hook.env if "=" in e),
            close_fds=True,
            process_group=0,
        )
    except OSError as exc:
        raise HookFailed(f"{what} could not run: {exc.strerror}") from exc
    with process:
        try:
            _, stderr = process.communicate(stdin, timeout=hook.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
            raise HookFailed(f"{what} timed out after {hook.timeout}s") from None
    return process.returncode, stderr


def _kill_group(pgid: int) -> None:
    try:
        posix.killpg(pgid, SIGKILL)
    except ProcessLookupError:
        pass  # every member exited already


def run_hooks_warn(kind: str, hooks: list[Hook], state: dict[str, Any], warn: Warn) -> None:
    """poststart and poststop: a failing hook is a warning, and the rest still run."""
    for hook in hooks:
        try:
            run_hooks(kind, [hook], state)
        except HookFailed as exc:
            warn(str(exc))

"""OCI hooks: run each with the container's state on stdin, in order, with its timeout."""

from __future__ import annotations

from dockyard.errors import HookFailed
from dockyard.oci import jsonio

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
    import subprocess  # only containers with hooks pay for it

    stdin = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        what = f"{kind} hook #{index} ({hook.path})"
        try:
            result = subprocess.run(
                [*(hook.args or [hook.path])],
                executable=hook.path,
                input=stdin,
                env=dict(e.split("=", 1) for e in hook.env if "=" in e),
                capture_output=True,
                timeout=hook.timeout,
                close_fds=True,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HookFailed(f"{what} timed out after {hook.timeout}s") from None
        except OSError as exc:
            raise HookFailed(f"{what} could not run: {exc.strerror}") from exc
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()
            raise HookFailed(
                f"{what} failed with status {result.returncode}" + (f": {detail}" if detail else "")
            )


def run_hooks_warn(kind: str, hooks: list[Hook], state: dict[str, Any], warn: Warn) -> None:
    """poststart and poststop: a failing hook is a warning, and the rest still run."""
    for hook in hooks:
        try:
            run_hooks(kind, [hook], state)
        except HookFailed as exc:
            warn(str(exc))

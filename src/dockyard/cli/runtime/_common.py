"""Helpers the command files share."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_args import Parsed


def container_id(parsed: Parsed, command: str, extra: int = 0) -> str:
    """The one container id a command takes (plus ``extra`` optional arguments)."""
    if not parsed.args:
        raise InvalidArgument(f'"{command}" requires a container id')
    if len(parsed.args) > 1 + extra:
        raise InvalidArgument(f'"{command}" takes one container id, got {" ".join(parsed.args)}')
    return parsed.args[0]


def create_flags() -> list:  # type: ignore[type-arg]
    from dockyard.cli.runtime_args import flag

    return [
        flag("--bundle", "-b", value=True, default="."),
        flag("--pid-file", value=True),
        flag("--console-socket", value=True),
        flag("--no-pivot"),
        flag("--no-new-keyring"),
        flag("--preserve-fds", value=True, default="0"),
    ]


def create_options(parsed: Parsed, rootless: bool):  # type: ignore[no-untyped-def]
    from dockyard.runtime.create import CreateOptions

    preserve = str(parsed.preserve_fds)
    if not preserve.isdigit():
        raise InvalidArgument(f"--preserve-fds: {preserve!r} is not a number")
    return CreateOptions(
        bundle=str(parsed.bundle),
        pid_file=str(parsed.pid_file),
        console_socket=str(parsed.console_socket),
        no_pivot=bool(parsed.no_pivot),
        no_new_keyring=bool(parsed.no_new_keyring),
        preserve_fds=int(preserve),
        rootless=rootless,
    )

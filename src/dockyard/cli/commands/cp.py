"""Copy files/folders between a container and the local filesystem."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = (
    "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
    "  dockyard cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
)
FLAGS = [
    Flag("archive", "a", help="Archive mode (copy all uid/gid information)"),
    Flag("follow-link", "L", help="Always follow symbol link in SRC_PATH"),
    Flag("quiet", "q", help="Suppress progress output during copy"),
]
ERROR_PREFIX = ""


def split_arg(arg: str) -> tuple[str, str]:
    """docker/cli's splitCpArg: ``CONTAINER:PATH``; a local path with a colon is written
    ``./a:b`` or ``/a:b``."""
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine import copy
    from dockyard.errors import DockyardError, InvalidArgument
    from dockyard.oci.units import human_size

    if len(p.args) != 2:
        raise InvalidArgument('"cp" requires exactly 2 arguments')
    source, destination = p.args
    if not source:
        raise InvalidArgument("source can not be empty")
    if not destination:
        raise InvalidArgument("destination can not be empty")
    src_container, src = split_arg(source)
    dst_container, dst = split_arg(destination)
    if src_container and dst_container:
        raise InvalidArgument("copying between containers is not supported")
    if not (src_container or dst_container):
        raise InvalidArgument("must specify at least one container source")
    engine = ctx.engine()
    container = src_container or dst_container
    try:
        engine.containers.find(container)
        if src_container:
            if dst == "-":
                from dockyard.engine.archive import get_archive

                get_archive(engine, container, src, sys.stdout.buffer)
                return 0
            copied = copy.copy_from_container(
                engine, container, src, dst, bool(p.follow_link), bool(p.archive)
            )
            shown = dst
        else:
            copied = copy.copy_to_container(
                engine, container, src, dst, bool(p.follow_link), bool(p.archive),
                sys.stdin.buffer,
            )  # fmt: skip
            shown = f"{container}:{dst}"
    except (copy.CopyRefused, copy.LocalNotFound) as exc:
        sys.stderr.write(f"{exc}\n")  # the CLI's own refusal: Docker says it as it is
        return 1
    except DockyardError as exc:
        sys.stderr.write(f"Error response from daemon: {exc}\n")
        return 1
    if not p.quiet and sys.stdout.isatty():
        sys.stderr.write(f"Successfully copied {human_size(copied)} to {shown}\n")
    return 0

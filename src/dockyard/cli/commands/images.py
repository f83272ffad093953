"""List images."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.image_list import ImageEntry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
    parser.add_argument("-a", "--all", action="store_true", help="show all images")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument("--digests", action="store_true", help="show digests")
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        default=[],
        help="filter output (dangling, reference, label, before, since, until)",
    )
    parser.add_argument("--format", help="format output using a Go-like template")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.cli.formatter.format import TABLE, render
    from dockyard.cli.formatter.rows import ImageRow
    from dockyard.engine.image_list import select
    from dockyard.engine.image_ops import seconds

    engine = ctx.engine()
    for damage in engine.images.store.images.damaged():
        sys.stderr.write(f"WARNING: {damage}\n")
    found = select(engine, args.filter, args.repository)
    fmt = args.format or TABLE
    if fmt == TABLE:  # docker/cli's NewImageFormat
        fmt = (
            "{{.ID}}" if args.quiet else ImageRow.TABLE_DIGESTS if args.digests else ImageRow.TABLE
        )
    elif fmt.startswith(TABLE) and args.digests and "{{.Digest}}" not in fmt:
        fmt += "\t{{.Digest}}"
    need_digest = args.digests or "{{.Digest}}" in fmt
    typed = [
        ImageRow(
            e.image.id,
            e.repository,
            e.tag,
            _digest(e, need_digest, args.digests),
            seconds(e.image.created),
            e.image.size,
            trunc=not args.no_trunc,
        )
        for e in found
    ]
    sys.stdout.write(render(fmt, typed, ImageRow.HEADERS))
    return 0


def _digest(entry: ImageEntry, need_digest: bool, digests: bool) -> str:
    """Docker shows a tag's digest only when asked for (--digests or {{.Digest}}), and a
    row for a digest alone (no tag) with "" in place of it unless --digests is given."""
    if entry.repository == "<none>":
        return "<none>"
    if entry.tag != "<none>":
        return entry.digest if need_digest else "<none>"
    return entry.digest if digests else ""

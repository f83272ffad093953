"""Show the history of an image."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("-H", "--human", action="store_true", default=True)
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument("--format", help="format output using a Go template")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.cli.formatter.format import TABLE, render
    from dockyard.cli.formatter.rows import HistoryRow
    from dockyard.engine.image_ops import history, seconds

    rows = [
        HistoryRow(
            step.image_id,
            seconds(step.created) or 0,
            step.created_by,
            step.size,
            step.comment,
            trunc=not args.no_trunc,
            human=args.human,
        )
        for step in history(ctx.engine(), args.image)
    ]
    fmt = args.format or TABLE
    if fmt == TABLE:
        if args.quiet:
            fmt = "{{.ID}}"
        else:
            fmt = HistoryRow.TABLE if args.human else HistoryRow.TABLE_NON_HUMAN
    sys.stdout.write(render(fmt, rows, HistoryRow.HEADERS))
    return 0

"""Show the history of an image."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import find_image, open_store, parse_time
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

    store = open_store(ctx)
    record = find_image(store, args.image)
    config = store.images.config(record)
    layer_sizes = [store.layers.record(c).size for c in record.layers]
    history = list(config.history)
    if not history:
        from dockyard.oci.image_spec import History

        history = [History(created=config.created) for _ in config.diff_ids]
    rows = []
    layer = 0
    for item in history:
        size = 0
        if not item.empty_layer and layer < len(layer_sizes):
            size = layer_sizes[layer]
            layer += 1
        when = parse_time(item.created)
        rows.append(
            HistoryRow(
                "<missing>",
                when.timestamp() if when is not None else 0,
                item.created_by,
                size,
                item.comment,
                trunc=not args.no_trunc,
                human=args.human,
            )
        )
    rows.reverse()
    if rows:  # the image's own id on its newest step, as Docker shows it
        rows[0].ID = record.short_id if not args.no_trunc else record.id
    fmt = args.format or TABLE
    if fmt == TABLE:
        if args.quiet:
            fmt = "{{.ID}}"
        else:
            fmt = HistoryRow.TABLE if args.human else HistoryRow.TABLE_NON_HUMAN
    sys.stdout.write(render(fmt, rows, HistoryRow.HEADERS))
    return 0

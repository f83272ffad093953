"""Show the history of an image."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import find_image, human_ago, human_size, open_store
from dockyard.cli.commands._format import format_rows, table
from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("-H", "--human", action="store_true", default=True)
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument("--format", help="format output using a Go-like template")


def run(args: argparse.Namespace, ctx: Context) -> int:
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
        created_by = item.created_by
        if not args.no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        rows.append(
            {
                "ID": "<missing>",
                "CreatedSince": human_ago(item.created),
                "CreatedAt": item.created,
                "CreatedBy": created_by,
                "Size": human_size(size),
                "Comment": item.comment,
            }
        )
    rows.reverse()
    if rows:
        rows[0]["ID"] = record.id if args.no_trunc else record.short_id
    if args.quiet:
        sys.stdout.write("".join(f"{r['ID']}\n" for r in rows))
    elif args.format:
        sys.stdout.write(format_rows(args.format, rows))
    else:
        header = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
        body = [[r["ID"], r["CreatedSince"], r["CreatedBy"], r["Size"], r["Comment"]] for r in rows]
        sys.stdout.write(table([header, *body]))
    return 0

"""List images."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from typing import Any

from dockyard.cli.commands._common import find_image, open_store, parse_time
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image import reference
from dockyard.storage.images import ImageRecord
from dockyard.storage.local import LocalStore


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
        help="filter output (dangling, reference, label, before, since)",
    )
    parser.add_argument("--format", help="format output using a Go-like template")


def _rows(store: LocalStore, records: list[ImageRecord]) -> list[dict[str, Any]]:
    names = store.images.names()
    rows = []
    for record in records:
        tags = store.images.tags_of(record.id, names)
        digests = {d.split("@")[0]: d.split("@")[1] for d in record.repo_digests}
        base = {"_record": record}
        shown = set()
        for tag in tags:
            ref = reference.parse(tag)
            digest = digests.get(ref.repository, "<none>")
            shown.add(ref.repository)
            rows.append(
                {
                    **base,
                    "Repository": ref.familiar_repository,
                    "Tag": ref.tag,
                    "Digest": digest,
                    "_name": tag,
                }
            )
        for repo, digest in digests.items():
            if repo not in shown:
                shown.add(repo)
                rows.append(
                    {
                        **base,
                        "Repository": reference.parse(repo).familiar_repository,
                        "Tag": "<none>",
                        "Digest": digest,
                        "_name": "",
                    }
                )
        if not shown:
            rows.append(
                {**base, "Repository": "<none>", "Tag": "<none>", "Digest": "<none>", "_name": ""}
            )
    rows.sort(key=lambda r: (r["_record"].created, r["_record"].added), reverse=True)  # type: ignore[attr-defined]
    return rows


def _filter(
    store: LocalStore, rows: list[dict[str, Any]], filters: list[str], repository: str | None
) -> list[dict[str, Any]]:
    for text in filters:
        key, _, value = text.partition("=")
        if key == "dangling":
            want = value.lower() in ("true", "1")
            rows = [
                r for r in rows if (r["Tag"] == "<none>" and r["Repository"] == "<none>") == want
            ]
        elif key == "reference":
            rows = [r for r in rows if r["_name"] and _ref_matches(r, value)]
        elif key == "label":
            label, _, label_value = value.partition("=")
            rows = [r for r in rows if _has_label(store, r["_record"], label, label_value)]
        elif key in ("before", "since"):
            pivot = parse_time(find_image(store, value).created)
            if pivot is None:
                continue
            rows = [
                r
                for r in rows
                if (t := parse_time(r["_record"].created)) is not None
                and (t < pivot if key == "before" else t > pivot)
            ]
        else:
            raise InvalidArgument(f"invalid filter '{key}'")
    if repository:
        rows = [r for r in rows if r["_name"] and _ref_matches(r, repository)]
    return rows


def _ref_matches(row: dict[str, Any], pattern: str) -> bool:
    familiar = f"{row['Repository']}:{row['Tag']}"
    if ":" in pattern.rsplit("/", 1)[-1]:
        return fnmatch.fnmatchcase(familiar, pattern) or fnmatch.fnmatchcase(row["_name"], pattern)
    return fnmatch.fnmatchcase(row["Repository"], pattern) or fnmatch.fnmatchcase(
        row["_name"].rsplit(":", 1)[0], pattern
    )


def _has_label(store: LocalStore, record: ImageRecord, key: str, value: str) -> bool:
    labels = store.images.config(record).config.labels
    return key in labels and (not value or labels[key] == value)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.cli.formatter.format import TABLE, render
    from dockyard.cli.formatter.rows import ImageRow

    store = open_store(ctx)
    for damage in store.images.damaged():
        sys.stderr.write(f"WARNING: {damage}\n")
    rows = _rows(store, store.images.all())
    rows = _filter(store, rows, args.filter, args.repository)
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
            r["_record"].id,
            r["Repository"],
            r["Tag"],
            _digest(r, need_digest, args.digests),
            _timestamp(r["_record"].created),
            r["_record"].size,
            trunc=not args.no_trunc,
        )
        for r in rows
    ]
    sys.stdout.write(render(fmt, typed, ImageRow.HEADERS))
    return 0


def _digest(row: dict[str, Any], need_digest: bool, digests: bool) -> str:
    """Docker shows a tag's digest only when asked for (--digests or {{.Digest}}), and a
    row for a digest alone (no tag) with "" in place of it unless --digests is given."""
    if row["Repository"] == "<none>":
        return "<none>"
    if row["Tag"] != "<none>":
        return str(row["Digest"]) if need_digest else "<none>"
    return str(row["Digest"]) if digests else ""


def _timestamp(created: str) -> float | None:
    when = parse_time(created)
    return when.timestamp() if when is not None else None

"""List images."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from typing import Any

from dockyard.cli.commands._common import find_image, human_ago, human_size, open_store, parse_time
from dockyard.cli.commands._format import format_rows, table
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


def _rows(store: LocalStore, records: list[ImageRecord], no_trunc: bool) -> list[dict[str, Any]]:
    names = store.images.names()
    rows = []
    for record in records:
        tags = store.images.tags_of(record.id, names)
        digests = {d.split("@")[0]: d.split("@")[1] for d in record.repo_digests}
        image_id = record.id if no_trunc else record.short_id
        base = {
            "ID": image_id,
            "CreatedSince": human_ago(record.created),
            "CreatedAt": record.created,
            "Size": human_size(record.size),
            "VirtualSize": human_size(record.size),
            "SharedSize": "N/A",
            "UniqueSize": "N/A",
            "Containers": "N/A",
            "_record": record,
        }
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
    store = open_store(ctx)
    for damage in store.images.damaged():
        sys.stderr.write(f"WARNING: {damage}\n")
    rows = _rows(store, store.images.all(), args.no_trunc)
    rows = _filter(store, rows, args.filter, args.repository)
    out = sys.stdout
    if args.quiet:
        seen: list[str] = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        out.write("".join(f"{i}\n" for i in seen))
        return 0
    if args.format:
        out.write(format_rows(args.format, rows))
        return 0
    header = [
        "REPOSITORY",
        "TAG",
        *(["DIGEST"] if args.digests else []),
        "IMAGE ID",
        "CREATED",
        "SIZE",
    ]
    body = [
        [
            r["Repository"],
            r["Tag"],
            *([r["Digest"]] if args.digests else []),
            r["ID"],
            r["CreatedSince"],
            r["Size"],
        ]
        for r in rows
    ]
    out.write(table([header, *body]))
    return 0

"""Check the image store's consistency and repair what can be repaired."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import open_store
from dockyard.cli.docker_main import Context
from dockyard.storage.check import check


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-repair", action="store_true", help="only report problems")
    parser.add_argument("--quick", action="store_true", help="do not re-hash every blob")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    report = check(store.store, repair=not args.no_repair, verify_blobs=not args.quick)
    for problem in report.problems:
        sys.stdout.write(f"problem: {problem}\n")
    for repair in report.repaired:
        sys.stdout.write(f"repaired: {repair}\n")
    if not args.no_repair:
        for left in report.unrepaired:
            sys.stdout.write(f"not repaired: {left}\n")
    for note in report.pending:
        sys.stdout.write(f"pending: {note}\n")
    if not report.problems:
        sys.stdout.write("the store is consistent\n")
    return 1 if report.unrepaired else 0

"""Check the engine's and the image store's consistency and repair what can be repaired."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-repair", action="store_true", help="only report problems")
    parser.add_argument("--quick", action="store_true", help="do not re-hash every blob")


def _print(kind: str, items: list[str]) -> None:
    for item in items:
        sys.stdout.write(f"{kind}: {item}\n")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.check import check as check_engine
    from dockyard.storage.check import check as check_store

    repair = not args.no_repair
    engine = ctx.engine()
    # the engine first: what it removes (a snapshot no container has) the store then sees
    found = check_engine(engine, repair=repair)
    _print("problem", found.problems)
    _print("repaired", found.repaired)
    if repair:
        _print("not repaired", found.unrepaired)
    for busy in found.busy:
        sys.stdout.write(f"skipped: container {busy[:12]} (a command is working on it)\n")
    report = check_store(engine.images.store.store, repair=repair, verify_blobs=not args.quick)
    _print("problem", report.problems)
    _print("repaired", report.repaired)
    if repair:
        _print("not repaired", report.unrepaired)
    _print("pending", report.pending)
    if not report.problems:
        sys.stdout.write("the store is consistent\n")
    engine_left = found.unrepaired if repair else found.problems
    return 1 if report.unrepaired or engine_left else 0

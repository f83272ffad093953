"""Verbs that act on several containers: each in turn, errors on stderr, status 1 if any failed."""

from __future__ import annotations

import sys

from dockyard.errors import DockyardError, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def for_each(
    verb: str, names: list[str], action: Callable[[str], str | None], summary: str = ""
) -> int:
    """Run ``action`` on each name; print what it returns (Docker echoes the names given).
    ``summary``: a last line naming the failed ones, as Docker's ``start`` says
    "Error: failed to start containers: a, b"."""
    if not names:
        raise InvalidArgument(f'"{verb}" requires at least 1 argument')
    failed = []
    for name in names:
        try:
            shown = action(name)
        except DockyardError as exc:
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            failed.append(name)
            continue
        if shown is not None:
            sys.stdout.write(f"{shown}\n")
            sys.stdout.flush()
    if failed and summary:
        sys.stderr.write(f"Error: {summary}: {', '.join(failed)}\n")
    return 1 if failed else 0

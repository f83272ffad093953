"""What the prune verbs share: Docker's confirmation prompt."""

from __future__ import annotations

import sys


def confirmed(warning: str, force: bool) -> bool:
    """Docker's "[y/N]" question on stdout, answered from stdin (``-f``: not asked)."""
    if force:
        return True
    sys.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer:
        sys.stdout.write("\n")
    return answer.strip().lower() in ("y", "yes")

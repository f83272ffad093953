"""Sizes as Docker measures them; printed by go-units' rules (oci/units.py)."""

from __future__ import annotations

import posix

from dockyard.oci.units import human_size

__all__ = ["human_size", "tree_size"]


def tree_size(path: str) -> int:
    """Bytes under ``path`` as Docker counts them: regular files (hard links once) and
    symlinks (their target's length); links not followed."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [path]
    while stack:
        directory = stack.pop()
        try:
            entries = list(posix.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            mode = st.st_mode & 0o170000
            if mode == 0o040000:
                stack.append(entry.path)
            elif mode == 0o100000:
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1:
                    if key in seen:
                        continue
                    seen.add(key)
                total += st.st_size
            elif mode == 0o120000:
                total += st.st_size
    return total

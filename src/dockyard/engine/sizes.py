"""Sizes as Docker measures and prints them (go-units: powers of 1000, %.3g)."""

from __future__ import annotations

import posix

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def human_size(size: float, precision: int = 3) -> str:
    unit = 0
    while size >= 1000 and unit < len(_UNITS) - 1:
        size /= 1000.0
        unit += 1
    return f"{size:.{precision}g}{_UNITS[unit]}"


def tree_size(path: str) -> int:
    """Bytes of the regular files under ``path`` (links not followed, hard links once)."""
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
    return total

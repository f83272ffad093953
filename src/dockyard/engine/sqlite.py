"""SQLite's C module, loaded without ``functools``: ``from dockyard.engine.sqlite import _sqlite3``.

CPython's ``_sqlite3`` imports ``functools`` as it loads, for ``lru_cache``
alone (each connection's statement cache), and functools brings collections,
operator, keyword, reprlib and types with it: ~2 ms of CPU on every
``dockyard`` command (docs/performance.md), none of which the engine uses.
So its first load here finds in ``sys.modules`` a ``functools`` holding only
``lru_cache``, built on the same C wrapper functools builds it on, and that
stand-in leaves ``sys.modules`` the moment ``_sqlite3`` is loaded: whoever
imports functools later gets the real one. Should a Python's ``_sqlite3``
want more of functools, it is loaded the ordinary way.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _cache_info(hits: int, misses: int, maxsize: int | None, currsize: int) -> tuple[Any, ...]:
    """What ``cache_info()`` gives (functools gives a named tuple); nobody asks SQLite's."""
    return (hits, misses, maxsize, currsize)


def lru_cache(maxsize: int | None = 128, typed: bool = False) -> Callable[[Any], Any]:
    """``functools.lru_cache(maxsize)`` as SQLite calls it: the same C wrapper."""
    import _functools  # type: ignore[import-not-found]

    if isinstance(maxsize, int) and maxsize < 0:
        maxsize = 0

    def decorating(function: Any) -> Any:
        return _functools._lru_cache_wrapper(function, maxsize, typed, _cache_info)

    return decorating


def _load() -> None:
    if "_sqlite3" in sys.modules or "functools" in sys.modules:
        return
    stand_in = type(sys)("functools")
    stand_in.lru_cache = lru_cache  # type: ignore[attr-defined]
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3  # noqa: F401
    except (ImportError, AttributeError):
        pass  # it wants more: the import below loads it with the real functools
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]


_load()
import _sqlite3 as _sqlite3  # noqa: E402

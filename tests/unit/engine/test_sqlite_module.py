"""engine/sqlite.py: SQLite's module loaded without functools, working as ever."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"

PROBE = """
import sys
sys.path.insert(0, SRC)
from dockyard.engine.sqlite import _sqlite3
assert "functools" not in sys.modules and "collections" not in sys.modules, sorted(sys.modules)
for cached in (128, 0):  # the statement cache, and none
    conn = _sqlite3.connect(":memory:", isolation_level=None, cached_statements=cached)
    conn.execute("CREATE TABLE t (n INTEGER)")
    for i in range(300):
        conn.execute("INSERT INTO t VALUES (?)", (i % 7,))
    assert conn.execute("SELECT count(*), sum(n) FROM t").fetchone() == (300, 897)
    conn.close()
import functools  # the real one, not the stand-in
assert functools.reduce(lambda a, b: a + b, [1, 2, 3]) == 6 and functools.partial
print("ok")
"""


def test_sqlite_loads_without_functools_and_works() -> None:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"SRC = {str(SRC)!r}\n{PROBE}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_the_stand_in_is_functools_own_cache() -> None:
    import functools

    from dockyard.engine.sqlite import lru_cache

    calls = []

    def square(n: int) -> int:
        calls.append(n)
        return n * n

    cached = lru_cache(2)(square)
    assert [cached(2), cached(2), cached(3), cached(2), cached(4), cached(2)] == [4, 4, 9, 4, 16, 4]
    assert calls == [2, 3, 4]  # 2 stayed, the least recently used (3) went
    assert type(cached) is type(functools.lru_cache(2)(square))
    assert lru_cache(-1)(square)(5) == 25

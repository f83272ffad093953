"""What ``dockyard run`` loads: none of the stdlib modules that cost milliseconds.

A ``run`` is a Python start plus a container start, and its imports are most
of the CLI's own CPU time (docs/performance.md). These modules each cost
about as much as a whole step of the run (pathlib with re, enum, fnmatch,
urllib and ipaddress ~8 ms; shutil with bz2 and lzma; _strptime with
datetime, calendar and locale ~5 ms; functools with collections ~2 ms), so
the run path does without them: the store's paths are strings, its trees
are removed by descriptors, its locks are plain classes, times are parsed by
hand, SQLite is loaded without functools. The test runs the CLI under ``python -X importtime``,
which also reports what the processes it forks load before they exec.
"""

from __future__ import annotations

import subprocess

import pytest
from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages
from tests.support.runtime import runtime_under_test

pytestmark = [
    pytest.mark.integration,
    # another runtime is a program the engine runs (subprocess), as Docker runs runc
    pytest.mark.skipif(
        runtime_under_test()[0] != "dockyard", reason="about the run path of Dockyard's runtime"
    ),
]

#: stdlib modules ``run`` must never load
TOO_SLOW = (
    "typing",
    "dataclasses",
    "enum",
    "re",
    "json",
    "pathlib",
    "fnmatch",
    "shutil",
    "base64",
    "urllib.parse",
    "ipaddress",
    "bz2",
    "lzma",
    "_strptime",
    "datetime",
    "locale",
    "subprocess",
    "functools",  # engine/sqlite.py
    "collections",
    "contextlib",
    "argparse",
    "logging",
    "threading",
)


def importing(dockyard: Dockyard, *args: str) -> set[str]:
    """The modules ``dockyard ARGS`` loads, run by its launcher's Python under -X importtime."""
    first = DOCKYARD.read_text().splitlines()[0]
    assert first.endswith(" -IS"), f"{DOCKYARD} is not the fast launcher: {first}"
    python = first.removeprefix("#!").removesuffix(" -IS")
    done = subprocess.run(
        [python, "-I", "-S", "-X", "importtime", str(DOCKYARD), *args],
        env=dockyard.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "dockyard.engine.create" in modules, done.stderr
    return modules


def test_run_loads_no_slow_stdlib_module(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("pull", "-q", engine_images.busybox)
    # the first container on the default bridge makes it (pyroute2): once, not each run
    dockyard.run("run", "--rm", engine_images.busybox, "true")

    detached = importing(dockyard, "run", "-d", engine_images.busybox, "sleep", "1000")
    removed = importing(dockyard, "run", "--rm", "--network", "none", engine_images.busybox, "true")

    assert sorted(detached.intersection(TOO_SLOW)) == []
    assert sorted(removed.intersection(TOO_SLOW)) == []

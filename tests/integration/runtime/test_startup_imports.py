"""What a container start loads: none of the stdlib modules that cost milliseconds.

``dockyard-runtime run`` is on the start-up path of every container, and
each of these costs more to import than a whole step of the start (``typing``
~25 ms, ``json`` and ``re`` ~20 ms, even ``os`` ~3 ms). The test runs a container with
``python -X importtime`` and reads, from every process the runtime forked,
which modules were loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, requires, run_in_container
from tests.support.runtime import runtime_under_test

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runtime,
    requires("root"),
    pytest.mark.skipif(
        runtime_under_test()[0] != "dockyard", reason="about dockyard-runtime's own imports"
    ),
]

#: stdlib modules the run path must never load
TOO_SLOW = (
    "os",  # the runtime calls posix directly (linux/fspath.py)
    "typing",
    "dataclasses",
    "enum",
    "re",
    "json",
    "signal",
    "subprocess",
    "shutil",
    "pathlib",
    "logging",
    "socket",
    "select",
    "threading",
)


def with_importtime(runtime: Runtime, tmp_path: Path) -> None:
    """Make ``runtime`` run its launcher, as it is, under ``python -X importtime``:
    the launcher's own imports (the module pack's finder) count too."""
    launcher = Path(runtime.executable)
    first = launcher.read_text().splitlines()[0]
    assert first.endswith(" -IS"), f"{launcher} is not the fast launcher: {first}"
    python = first.removeprefix("#!").removesuffix(" -IS")
    wrapper = tmp_path / "dockyard-runtime-importtime"
    wrapper.write_text(f'#!/bin/sh\nexec {python} -I -S -X importtime {launcher} "$@"\n')
    wrapper.chmod(0o755)
    runtime.executable = str(wrapper)


def loaded(stderr: str) -> set[str]:
    """Module names in ``-X importtime`` lines ("import time: self | cumulative | name")."""
    return {
        line.rpartition("|")[2].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_run_loads_no_slow_stdlib_module(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    with_importtime(runtime, tmp_path)

    result = run_in_container(runtime, bundle, "true")

    assert result.returncode == 0, result.stderr
    modules = loaded(result.stderr)
    assert "dockyard.runtime.rootfs" in modules, "the container's side is not in the log"
    assert sorted(modules.intersection(TOO_SLOW)) == [], os.linesep.join(
        line for line in result.stderr.splitlines() if line.rpartition("|")[2].strip() in TOO_SLOW
    )

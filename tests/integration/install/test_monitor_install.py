"""The wheel carries dockyard-monitor's C source, and an installed Dockyard
compiles its own monitor from it on first use (docs/monitor.md, "Binary")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.install.conftest import REPO, Venv, Wheels

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOURCE = "dockyard/engine/monitor/monitor.c"


def test_the_wheel_carries_the_monitor_source(wheels: Wheels) -> None:
    assert wheels.current.member(SOURCE) == (REPO / "src" / SOURCE).read_bytes()


def test_an_installed_dockyard_builds_its_own_monitor(installed: Venv, tmp_path: Path) -> None:
    program = (
        "import sys, dockyard.engine.monitor as m; print(m.SOURCE); print(m.binary(sys.argv[1]))"
    )
    found = subprocess.run(
        [installed.python, "-c", program, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        check=True,
    )
    source, monitor = found.stdout.split()
    assert source == str(installed.site / SOURCE)  # the installed copy, not this checkout
    assert Path(monitor).parent == tmp_path / "cache"
    usage = subprocess.run([monitor, "--help"], capture_output=True, text=True, check=True)
    assert usage.stdout.startswith("usage: dockyard-monitor")

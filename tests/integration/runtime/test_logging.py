"""--log and --log-format: where a failing command's error goes, and in what shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import Runtime, requires
from tests.support.bundle import Bundle

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

MISSING = "dockyard-test-missing"


def test_error_goes_to_stderr_by_default(runtime: Runtime) -> None:
    result = runtime("state", MISSING, check=False)

    assert result.returncode != 0
    assert "level=error" in result.stderr
    assert "msg=" in result.stderr


def test_json_log_gets_the_error(runtime: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "runtime.log"

    result = runtime("--log", log, "--log-format", "json", "state", MISSING, check=False)

    assert result.returncode != 0
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert all("level" in entry and "msg" in entry for entry in entries), entries
    errors = [entry["msg"] for entry in entries if entry["level"] == "error"]
    assert errors and all(errors), entries


def test_text_log_gets_the_error(runtime: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "runtime.log"

    result = runtime("--log", log, "state", MISSING, check=False)

    assert result.returncode != 0
    assert "level=error" in log.read_text()


def test_debug_logs_debug_lines_and_no_errors(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    log = tmp_path / "runtime.log"
    bundle.process["args"] = ["true"]
    bundle.write()

    result = runtime(
        "--debug",
        "--log",
        log,
        "--log-format",
        "json",
        "run",
        "--bundle",
        bundle.path,
        runtime.new_id(),
        check=False,
    )

    assert result.returncode == 0, result.stderr
    levels = [json.loads(line)["level"] for line in log.read_text().splitlines()]
    assert "debug" in levels
    assert "error" not in levels

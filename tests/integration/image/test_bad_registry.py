"""Registries that misbehave: each failure is one clear line, never a traceback or a hang."""

from __future__ import annotations

import pytest

from tests.integration.image.conftest import Dockyard
from tests.integration.image.fakes import fake_registry

pytestmark = pytest.mark.integration


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def test_a_manifest_nested_100k_deep_is_one_line(dockyard: Dockyard) -> None:
    with fake_registry(manifest_raw=b"[" * 100_000) as fake:
        result = dockyard.run("pull", f"{fake.host}/deep/img:1", check=False)

    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "manifest" in line and "nested too deeply" in line

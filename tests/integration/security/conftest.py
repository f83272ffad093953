"""Fixtures of the security tests: the probe, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.security.support import build_probe


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static build of probe.c; the test is skipped, saying why, without gcc."""
    path, why = build_probe(tmp_path_factory.mktemp("probe") / "probe")
    if path is None:
        pytest.skip(f"needs a static C toolchain: {why}")
    return path

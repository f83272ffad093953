"""Fixtures of the security tests: the probe, built once per session, and
the seccomp tests' two places of the filter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.security import support
from tests.integration.security.support import build_probe


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static build of probe.c; the test is skipped, saying why, without gcc."""
    path, why = build_probe(tmp_path_factory.mktemp("probe") / "probe")
    if path is None:
        pytest.skip(f"needs a static C toolchain: {why}")
    return path


@pytest.fixture(params=[True, False], ids=["nnp", "no-nnp"])
def both_filter_places(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Run a test with the seccomp filter in each of its two places: with
    no_new_privileges it goes in last before exec; without, before the
    capabilities go (only CAP_SYS_ADMIN may install it then), and the
    runtime's later steps run under it. Modules take it with
    ``pytest.mark.usefixtures``; `support.seccomp` reads it."""
    support.NO_NEW_PRIVILEGES["default"] = request.param
    try:
        yield request.param
    finally:
        support.NO_NEW_PRIVILEGES["default"] = True

"""HEALTHCHECK settings as Docker reads them: Go durations both ways, the flags, the
image's config, the merge at create, the daemon's refusals."""

from __future__ import annotations

import pytest

from dockyard.engine import health_config as hc
from dockyard.engine.types import HealthConfig
from dockyard.errors import InvalidArgument

MS = 1_000_000
S = 1_000 * MS


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("1s", S),
        ("1.5s", 1_500 * MS),
        ("500ms", 500 * MS),
        ("1m30s", 90 * S),
        ("2h", 7200 * S),
        ("100us", 100_000),
        ("100µs", 100_000),
        ("10ns", 10),
        (".5s", 500 * MS),
        ("1h2m3.5s", 3723 * S + 500 * MS),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert hc.parse_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", 'time: missing unit in duration "5"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        ("", 'time: invalid duration ""'),
        ("s", 'time: invalid duration "s"'),
        ("1..2s", 'time: invalid duration "1..2s"'),
    ],
)
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        hc.parse_duration(text, "--health-interval")


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (30 * S, "30s"),
        (500 * MS, "500ms"),
        (1_500 * MS, "1.5s"),
        (90 * S, "1m30s"),
        (3600 * S, "1h0m0s"),
        (1_000, "1µs"),
        (1_500, "1.5µs"),
        (999, "999ns"),
        (3723 * S + 500 * MS, "1h2m3.5s"),
    ],
)
def test_format_duration_is_gos(ns: int, text: str) -> None:
    assert hc.format_duration(ns) == text


def test_flags() -> None:
    assert hc.from_flags("", "", "", "", "", "", False) is None
    assert hc.from_flags("", "", "", "", "", "", True) == HealthConfig(test=["NONE"])
    got = hc.from_flags("curl -f x", "10s", "3s", "1m", "2s", "4", False)
    assert got == HealthConfig(["CMD-SHELL", "curl -f x"], 10 * S, 3 * S, 60 * S, 2 * S, 4)
    only_interval = hc.from_flags("", "10s", "", "", "", "", False)
    assert only_interval == HealthConfig(test=[], interval=10 * S)
    with pytest.raises(InvalidArgument, match="--no-healthcheck conflicts with --health-"):
        hc.from_flags("true", "", "", "", "", "", True)
    with pytest.raises(InvalidArgument, match="--health-interval cannot be negative"):
        hc.from_flags("", "-1s", "", "", "", "", False)
    with pytest.raises(InvalidArgument, match=r'strconv\.ParseInt: parsing "x"'):
        hc.from_flags("", "", "", "", "", "x", False)


def test_image_and_api_forms() -> None:
    image = {"Test": ["CMD", "/ok"], "Interval": S, "Retries": 2}
    assert hc.from_image(image) == HealthConfig(["CMD", "/ok"], interval=S, retries=2)
    assert hc.from_image(None) is None
    assert hc.from_api({"test": "exit 0", "start_period": S}) == HealthConfig(
        ["CMD-SHELL", "exit 0"], start_period=S
    )
    with pytest.raises(InvalidArgument):
        hc.from_api({"Test": "x", "Interval": "soon"})


def test_merge_is_field_by_field() -> None:
    image = HealthConfig(["CMD", "/ok"], interval=S, timeout=2 * S, retries=5)
    user = HealthConfig([], interval=3 * S)
    assert hc.merge(user, image) == HealthConfig(["CMD", "/ok"], 3 * S, 2 * S, 0, 0, 5)
    assert hc.merge(None, image) == image
    assert hc.merge(HealthConfig(["NONE"]), image) == HealthConfig(["NONE"], S, 2 * S, 0, 0, 5)


def test_refusals_and_probes() -> None:
    with pytest.raises(InvalidArgument, match="Interval in Healthcheck cannot be less than 1ms"):
        hc.validate(HealthConfig(["CMD", "x"], interval=500_000))
    with pytest.raises(InvalidArgument, match="Retries in Healthcheck cannot be negative"):
        hc.validate(HealthConfig(["CMD", "x"], retries=-1))
    with pytest.raises(InvalidArgument, match="unknown healthcheck type 'SHELL'"):
        hc.validate(HealthConfig(["SHELL", "x"]))
    hc.validate(HealthConfig(["NONE"]))
    assert hc.probe(HealthConfig(["CMD-SHELL", "a && b"])) == ["/bin/sh", "-c", "a && b"]
    assert hc.probe(HealthConfig(["CMD", "/ok", "-v"])) == ["/ok", "-v"]
    assert hc.probe(HealthConfig(["NONE"])) is None
    assert hc.probe(None) is None
    assert hc.config_json(HealthConfig(["CMD", "/ok"], retries=2)) == {
        "Test": ["CMD", "/ok"],
        "Retries": 2,
    }

"""Docker's restart policies: the flag as its CLI reads it, the daemon's refusals, and
the restart manager's decisions and backoff (moby restartmanager)."""

from __future__ import annotations

import pytest

from dockyard.engine import restart_policy as rp
from dockyard.engine.types import RestartPolicy
from dockyard.errors import InvalidArgument

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "name", "count"),
    [
        ("", "no", 0),
        ("no", "no", 0),
        ("always", "always", 0),
        ("unless-stopped", "unless-stopped", 0),
        ("on-failure", "on-failure", 0),
        ("on-failure:3", "on-failure", 3),
        ("on-failure:0", "on-failure", 0),
    ],
)
def test_parse(text: str, name: str, count: int) -> None:
    assert rp.parse(text) == RestartPolicy(name, count)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (":3", "no policy provided before colon"),
        ("on-failure:x", "maximum retry count must be an integer"),
        ("always:1", "maximum retry count can only be used with 'on-failure'"),
        ("no:-1", "can only be used with 'on-failure' and cannot be negative"),
        ("on-failure:-2", "maximum retry count cannot be negative"),
        ("never", "unknown policy 'never'; use one of 'no', 'always', 'on-failure', or"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        rp.parse(text)


def test_the_backoff_doubles_from_100_ms_to_a_minute_and_resets_after_10_s() -> None:
    delays = []
    previous = 0
    for _ in range(12):
        previous = rp.next_delay(previous, ran_ns=SECOND)
        delays.append(previous)
    assert delays[:4] == [100, 200, 400, 800]
    assert delays[-1] == 60_000 and max(delays) == 60_000
    assert rp.next_delay(60_000, ran_ns=10 * SECOND) == 100
    assert rp.next_delay(800, ran_ns=10 * SECOND - 1) == 1600


def decide(policy: str, code: int, stopped: bool = False, count: int = 0) -> bool:
    return rp.decide(rp.parse(policy), code, stopped, count, SECOND, 0)[0]


def test_decisions() -> None:
    assert not decide("no", 1)
    assert decide("always", 0) and decide("always", 0, stopped=True)
    assert decide("unless-stopped", 0) and not decide("unless-stopped", 1, stopped=True)
    assert decide("on-failure", 1, count=1000) and not decide("on-failure", 0)
    assert decide("on-failure:3", 1, count=2) and not decide("on-failure:3", 1, count=3)


def test_text() -> None:
    assert [rp.text(rp.parse(t)) for t in ("", "on-failure:2", "on-failure")] == [
        "no",
        "on-failure:2",
        "on-failure",
    ]

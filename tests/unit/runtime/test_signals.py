from __future__ import annotations

import signal

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.signals import SIGNALS, parse_signal


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),  # sends nothing: kill ID 0 probes liveness, as with runc
        ("9", 9),
        ("KILL", 9),
        ("SIGKILL", 9),
        ("sigterm", 15),
        ("hup", 1),
        ("RTMIN", 34),
        ("RTMIN+3", 37),
        ("SIGRTMAX-1", 63),
        ("RTMAX", 64),
    ],
)
def test_parse(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", ["65", "NOPE", "SIG", "RTMIN+31", "RTMAX+1", "-9"])
def test_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_signal(text)


def test_table_matches_the_signal_module() -> None:
    for name, number in SIGNALS.items():
        if hasattr(signal, "SIG" + name):
            assert getattr(signal, "SIG" + name) == number, name

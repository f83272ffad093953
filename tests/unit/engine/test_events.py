"""The event log without containers: append, read by sequence and time, trim, filters,
Docker's text line and JSON shape, and a follower woken by another writer."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dockyard.engine import event_filter, events
from dockyard.engine.events import Event, EventLog, message_json, text_line
from dockyard.errors import InvalidArgument


def _event(action: str = "start", **attrs: str) -> Event:
    return Event("container", action, "c" * 64, {"image": "busybox", "name": "web", **attrs})


def test_appended_events_come_back_in_order_with_their_attributes(tmp_path: Path) -> None:
    log = EventLog(str(tmp_path / "events"))
    first = log.emit("container", "create", "abc", {"name": "web", "image": "busybox"})
    second = log.emit("volume", "create", "data", {"driver": "local"}, time_ns=5)
    assert first is not None and second is not None
    assert second.seq == first.seq + 1
    found = log.read()
    assert [(e.type, e.action, e.actor_id) for e in found] == [
        ("container", "create", "abc"),
        ("volume", "create", "data"),
    ]
    assert found[0].attributes == {"name": "web", "image": "busybox"}
    assert found[1].time_ns == 5
    assert log.read(after_seq=first.seq) == [found[1]]
    assert log.read(since_ns=6) == [found[0]]  # the second is stamped 5 ns after the epoch
    assert log.read(until_ns=5) == [found[1]]
    assert log.last_seq() == second.seq


def test_the_log_keeps_the_newest_events_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "TRIM_EVERY", 10)
    log = EventLog(str(tmp_path / "events"))
    log.keep = 25
    for i in range(100):
        log.emit("volume", "create", f"v{i}")
    kept = log.read()
    assert 25 <= len(kept) <= 35
    assert kept[-1].actor_id == "v99"
    assert [e.actor_id for e in kept] == [f"v{i}" for i in range(100 - len(kept), 100)]


def test_an_unwritable_log_loses_the_event_but_not_the_caller(tmp_path: Path) -> None:
    (tmp_path / "events").write_text("not a directory")
    log = EventLog(str(tmp_path / "events"))
    assert log.emit("container", "start", "abc") is None


def test_text_line_is_dockers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        event = _event("die", exitCode="3", execDuration="1", team="x")
        event.time_ns = 1_796_183_195_000_000_001
        line = text_line(event)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert line == (
        f"2026-12-02T03:46:35.000000001Z container die {'c' * 64} "
        "(execDuration=1, exitCode=3, image=busybox, name=web, team=x)\n"
    )


def test_text_line_shows_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        event = Event("volume", "create", "data", {}, 1_796_183_195_123_000_000)
        line = text_line(event)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert line == "2026-12-02T09:16:35.123000000+05:30 volume create data\n"


def test_message_json_has_dockers_fields_and_order() -> None:
    event = _event("kill", signal="9", alpha="a")
    event.time_ns = 1_000_000_000_123
    doc = message_json(event)
    assert list(doc) == [
        "status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano",
    ]  # fmt: skip
    assert doc["from"] == "busybox" and doc["status"] == "kill" and doc["id"] == "c" * 64
    assert list(doc["Actor"]["Attributes"]) == ["alpha", "image", "name", "signal"]
    assert doc["time"] == 1000 and doc["timeNano"] == 1_000_000_000_123
    volume = message_json(Event("volume", "destroy", "data", {"driver": "local"}, 1))
    assert "status" not in volume and "id" not in volume and "from" not in volume
    image = message_json(Event("image", "untag", "sha256:ab", {"name": "sha256:ab"}, 1))
    assert image["status"] == "untag" and image["id"] == "sha256:ab" and "from" not in image


@pytest.mark.parametrize(
    ("items", "event", "expected"),
    [
        (["type=container"], _event(), True),
        (["type=image"], _event(), False),
        (["event=start", "event=die"], _event("die"), True),
        (["event=start"], _event("die"), False),
        (["event=health_status"], _event("health_status: healthy"), True),
        (["event=health_status: unhealthy"], _event("health_status: healthy"), False),
        (["container=web"], _event(), True),
        (["container=we"], _event(), True),  # names and ids match by prefix
        (["container=ccc"], _event(), True),
        (["container=db"], _event(), False),
        (["container=web"], Event("volume", "create", "data", {"driver": "local"}), False),
        (["volume=data"], Event("volume", "create", "data", {"driver": "local"}), True),
        (["image=busybox"], _event(), True),
        (["image=docker.io/library/busybox:latest"], _event(), False),
        (["image=busybox"], Event("image", "pull", "busybox:latest", {"name": "busybox"}), True),
        (["image=alpine"], _event(), False),
        (["label=team"], _event(team="x"), True),
        (["label=team=x"], _event(team="x"), True),
        (["label=team=y"], _event(team="x"), False),
        (["label=team", "label=tier"], _event(team="x"), False),  # labels: all of them
        (["type=container", "container=web", "event=start"], _event(), True),
        (["type=container", "container=web", "event=stop"], _event(), False),
        (["scope=local"], _event(), True),
        (["scope=swarm"], _event(), False),
    ],
)
def test_filters_follow_dockers_rules(items: list[str], event: Event, expected: bool) -> None:
    assert event_filter.matches(event_filter.parse(items), event) is expected


def test_a_filter_without_a_value_or_with_an_unknown_key_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"bad format of filter \(expected name=value\)"):
        event_filter.parse(["container"])
    with pytest.raises(InvalidArgument, match="invalid filter 'colour'"):
        event_filter.parse(["colour=red"])


WRITER = """
import sys
from dockyard.engine.events import EventLog
EventLog(sys.argv[1]).emit("volume", "create", sys.argv[2])
"""


def test_a_follower_wakes_when_another_process_writes(tmp_path: Path) -> None:
    """inotify, not the slow re-check: the event arrives well before RECHECK seconds."""
    from dockyard.engine.event_stream import RECHECK, Subscription

    directory = str(tmp_path / "events")

    class FakeEngine:
        def __init__(self) -> None:
            self.events = EventLog(directory)

    subscription = Subscription(FakeEngine())  # type: ignore[arg-type]
    seen: list[tuple[str, float]] = []

    def follow() -> None:
        for event in subscription:
            seen.append((event.actor_id, time.monotonic()))
            if len(seen) == 2:
                return

    reader = threading.Thread(target=follow)
    reader.start()
    for name in ("first", "second"):
        time.sleep(0.3)
        subprocess.run([sys.executable, "-c", WRITER, directory, name], check=True)
        # from the writer's end: its start-up (imports) can take seconds on a loaded host
        written = time.monotonic()
        deadline = time.monotonic() + 5
        while len(seen) < (1 if name == "first" else 2) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen, "the follower saw nothing"
        assert seen[-1][0] == name
        assert seen[-1][1] - written < RECHECK
    reader.join(5)
    assert not reader.is_alive()


def test_closing_a_subscription_ends_a_waiting_follower(tmp_path: Path) -> None:
    from dockyard.engine.event_stream import Subscription

    class FakeEngine:
        events = EventLog(str(tmp_path / "events"))

    subscription = Subscription(FakeEngine())  # type: ignore[arg-type]
    done = threading.Event()

    def follow() -> None:
        for _ in subscription:
            pass
        done.set()

    reader = threading.Thread(target=follow)
    reader.start()
    time.sleep(0.2)
    subscription.close()
    assert done.wait(1.5), "close() did not wake the follower"
    reader.join(1)


def test_since_after_until_is_refused() -> None:
    from dockyard.engine.event_stream import window

    with pytest.raises(InvalidArgument, match="cannot be after `until` time"):
        window("2000", "1000")
    assert window("1000.5", "", now_ns=5) == (1_000_500_000_000, 0)


def test_a_json_attribute_value_round_trips(tmp_path: Path) -> None:
    log = EventLog(str(tmp_path / "events"))
    log.emit("container", "exec_start: sh -c 'echo \"hi\"'", "abc", {"execID": "x\ny"})
    (found,) = log.read()
    assert found.action == "exec_start: sh -c 'echo \"hi\"'"
    assert json.loads(json.dumps(message_json(found)))["Actor"]["Attributes"] == {"execID": "x\ny"}

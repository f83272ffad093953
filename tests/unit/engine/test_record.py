"""engine.record: dataclass-like records without importing dataclasses."""

from __future__ import annotations

import pytest

from dockyard.engine.record import field, from_json, record, replace, to_json
from dockyard.engine.types import ContainerConfig, ContainerRecord, HostConfig, MountPoint, Ulimit


@record
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


def test_a_record_takes_fields_by_position_or_name_with_defaults() -> None:
    p = Point(1, tags=["a"])

    assert (p.x, p.y, p.tags) == (1, 0, ["a"])
    assert Point(1) == Point(x=1, y=0)
    assert Point(1) != Point(2)
    assert repr(Point(3)) == "Point(x=3, y=0, tags=[])"


def test_default_factories_give_each_record_its_own_value() -> None:
    a, b = Point(1), Point(2)
    a.tags.append("mine")

    assert b.tags == []


def test_missing_and_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="needs 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected fields"):
        Point(1, z=2)  # type: ignore[call-arg]


def test_a_container_record_goes_to_json_and_back_with_nested_records() -> None:
    rec = ContainerRecord(
        id="a" * 64,
        name="box",
        image_id="sha256:" + "b" * 64,
        created="2026-01-01T00:00:00.000000000Z",
        status="created",
        config=ContainerConfig(image="busybox", cmd=["true"], labels={"k": "v"}),
        host=HostConfig(ulimits=[Ulimit("nofile", 10, 20)], pids_limit=5),
        mounts=[MountPoint("volume", "/data", name="data", options=["x"])],
    )

    raw = to_json(rec)
    back = from_json(ContainerRecord, raw)

    assert back == rec
    assert isinstance(back.host.ulimits[0], Ulimit)
    assert isinstance(back.mounts[0], MountPoint)
    assert raw["config"]["cmd"] == ["true"]
    assert replace(rec, name="other").name == "other" and rec.name == "box"


def test_from_json_ignores_unknown_keys_and_defaults_missing_ones() -> None:
    back = from_json(HostConfig, {"memory": 5, "future_field": 1})

    assert back.memory == 5 and back.runtime == "dockyard"

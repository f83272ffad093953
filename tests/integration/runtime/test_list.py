"""list: the table, --format json and --quiet."""

from __future__ import annotations

import json

import pytest

from tests.integration.runtime.containers import SLEEP, run_sleeper, use_script
from tests.support import Bundle, Runtime, requires
from tests.support.bundle import MakeBundle

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

TABLE_HEADER = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]


@pytest.fixture
def two_containers(runtime: Runtime, bundle: Bundle, make_bundle: MakeBundle) -> dict[str, str]:
    """{id: status}: one running, one created."""
    running = run_sleeper(runtime, bundle)
    other = make_bundle("other")
    use_script(other, SLEEP, writable_root=False)
    created = runtime.create(other)
    return {running: "running", created: "created"}


def test_list_with_no_containers(runtime: Runtime) -> None:
    table = runtime("list").stdout.splitlines()
    assert table[0].split() == TABLE_HEADER
    assert table[1:] == []
    assert runtime("list", "--quiet").stdout == ""
    # runc prints "null" here, where "[]" would be the natural answer.
    assert json.loads(runtime("list", "--format", "json").stdout) in (None, [])


def test_list_table(runtime: Runtime, two_containers: dict[str, str]) -> None:
    header, *rows = runtime("list").stdout.splitlines()

    assert header.split() == TABLE_HEADER
    by_id = {row.split()[0]: row.split() for row in rows}
    assert by_id.keys() == two_containers.keys()
    for container_id, (_, pid, status, bundle, created, owner) in by_id.items():
        state = runtime.state(container_id)
        assert status == two_containers[container_id]
        assert int(pid) == state["pid"]
        assert bundle == state["bundle"]
        assert created == state["created"]
        assert owner == "root"


def test_list_json(runtime: Runtime, two_containers: dict[str, str]) -> None:
    listed = json.loads(runtime("list", "--format", "json").stdout)

    assert {entry["id"]: entry["status"] for entry in listed} == two_containers
    for entry in listed:
        state = runtime.state(entry["id"])
        for field in ("ociVersion", "pid", "bundle", "rootfs", "created"):
            assert entry[field] == state[field], field
        assert entry["owner"] == "root"


def test_list_quiet_prints_only_ids(runtime: Runtime, two_containers: dict[str, str]) -> None:
    ids = runtime("list", "-q").stdout.splitlines()

    assert sorted(ids) == sorted(two_containers)


def test_list_short_json_flag(runtime: Runtime, two_containers: dict[str, str]) -> None:
    listed = json.loads(runtime("list", "-f", "json").stdout)

    assert sorted(entry["id"] for entry in listed) == sorted(two_containers)

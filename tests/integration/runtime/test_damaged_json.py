"""Malformed JSON anywhere (config.json, a process file, a resources file, a
damaged state.json) is one line of error, never a traceback; a container
whose state.json is damaged is still listed and ``delete -f`` removes it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.runtime.containers import run_sleeper
from tests.integration.runtime.inside import RUNTIME_NAME
from tests.support import Bundle, Runtime, leaks, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

needs_our_state = pytest.mark.skipif(
    RUNTIME_NAME != "dockyard",
    reason="damages dockyard-runtime's state.json; runc is wrong there: with its state "
    "cut short, runc delete -f fails and leaves the container running",
)


def trailing_comma(path: Path, document: object) -> None:
    """``document`` as JSON with a comma before its last closing brace."""
    text = json.dumps(document, indent=2)
    path.write_text(text[: text.rindex("}")].rstrip() + ",\n}\n")


def assert_one_line(result: subprocess.CompletedProcess[str], names: str) -> None:
    """Refused with a single line of error that (ours) names the file."""
    assert result.returncode != 0, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    if RUNTIME_NAME == "dockyard":  # runc does not say which file
        assert names in lines[0], lines[0]


def test_a_config_with_a_trailing_comma(runtime: Runtime, bundle: Bundle) -> None:
    trailing_comma(bundle.config_path, bundle.config)

    result = runtime("run", "--bundle", bundle.path, runtime.new_id(), check=False)

    assert_one_line(result, "config.json")


def test_a_process_file_with_a_trailing_comma(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    container_id = run_sleeper(runtime, bundle)
    process = tmp_path / "process.json"
    trailing_comma(process, {**bundle.process, "args": ["true"]})

    result = runtime("exec", "--process", process, container_id, check=False)

    assert_one_line(result, str(process))


def test_a_resources_file_with_a_trailing_comma(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    container_id = run_sleeper(runtime, bundle)
    resources = tmp_path / "resources.json"
    trailing_comma(resources, {"pids": {"limit": 100}})

    result = runtime("update", "--resources", resources, container_id, check=False)

    assert_one_line(result, str(resources))


def damage_state(runtime: Runtime, container_id: str) -> Path:
    """Cut the container's state.json short, after its first members."""
    path = runtime.root / container_id / "state.json"
    path.write_bytes(path.read_bytes()[:100])
    return path


def is_running(pid: int) -> bool:
    """The process exists and is no zombie (one its new parent has yet to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@needs_our_state
def test_a_damaged_state_is_one_line_naming_it(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)
    path = damage_state(runtime, container_id)

    for verb in (["state"], ["kill"], ["update", "--pids-limit=10"], ["delete"]):
        result = runtime(*verb, container_id, check=False)

        assert_one_line(result, f"{path} is damaged")
        assert f"delete -f {container_id}" in result.stderr


def test_list_shows_a_container_whose_state_is_damaged(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)
    whole = (runtime.root / container_id / "state.json").read_bytes()
    damage_state(runtime, container_id)

    try:
        result = runtime("list", check=False)
    finally:  # runc cannot delete it damaged: repair it for the clean-up
        (runtime.root / container_id / "state.json").write_bytes(whole)

    # runc names it on stderr only; ours lists what it can still read, and warns.
    assert container_id in result.stdout + result.stderr
    if RUNTIME_NAME == "dockyard":
        row = next(line for line in result.stdout.splitlines() if line.startswith(container_id))
        assert "running" in row.split()
        assert "is damaged" in result.stderr


@needs_our_state
def test_delete_force_removes_a_container_whose_state_is_damaged(
    runtime: Runtime, bundle: Bundle
) -> None:
    container_id = run_sleeper(runtime, bundle)
    pid = runtime.state(container_id)["pid"]
    assert leaks.cgroups_named(container_id)
    state_file = runtime.root / container_id / "state.json"
    state_file.write_text("{")  # nothing left: the cgroup is found from the bundle

    result = runtime("delete", "--force", container_id, check=False)

    assert (result.returncode, result.stderr) == (0, "")
    assert not is_running(pid)
    assert not leaks.cgroups_named(container_id)
    assert not (runtime.root / container_id).exists()
    assert runtime.list() == []

"""State on disk: statuses are derived from the init process and the fifo."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import Conflict, DamagedState, InvalidArgument, NotFound
from dockyard.linux import proc
from dockyard.runtime import state as st
from dockyard.runtime.salvage import UNKNOWN, salvage


def make_state(root: Path, pid: int) -> st.ContainerState:
    directory = root / "c1"
    directory.mkdir()
    state = st.ContainerState("c1", str(directory), "/b", "/b/rootfs", {"ociVersion": "1.0.0"})
    state.pid = pid
    started = proc.start_time(pid)
    assert started is not None
    state.init_start_time = started
    state.save()
    return state


def test_created_running_stopped(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        state = make_state(tmp_path, sleeper.pid)
        os.mkfifo(f"{state.dir}/{st.EXEC_FIFO}")
        assert st.ContainerState.load(str(tmp_path), "c1").status == st.CREATED
        os.unlink(f"{state.dir}/{st.EXEC_FIFO}")
        loaded = st.ContainerState.load(str(tmp_path), "c1")
        assert loaded.status == st.RUNNING
        assert loaded.oci_state()["pid"] == sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()
    loaded = st.ContainerState.load(str(tmp_path), "c1")
    assert loaded.status == st.STOPPED
    assert loaded.oci_state()["pid"] == 0


def test_a_reused_pid_is_not_the_container(tmp_path: Path) -> None:
    state = make_state(tmp_path, os.getpid())
    state.init_start_time -= 1  # same pid, another process
    state.save()
    assert st.ContainerState.load(str(tmp_path), "c1").status == st.STOPPED


def test_directory_without_state_is_creating(tmp_path: Path) -> None:
    (tmp_path / "half").mkdir()
    assert st.ContainerState.load(str(tmp_path), "half").status == st.CREATING


def test_missing_container(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        st.ContainerState.load(str(tmp_path), "nope")


def test_verbs_refuse_the_wrong_status(tmp_path: Path) -> None:
    state = make_state(tmp_path, os.getpid())
    state.status = st.RUNNING
    with pytest.raises(Conflict, match="delete -f"):
        state.require("delete")
    with pytest.raises(Conflict, match="only a created container"):
        state.require("start")
    state.require("kill")


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "../x", "x y", "a" * 1025])
def test_ids_cannot_escape_the_root(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        st.valid_id(bad)


def test_remove_dir(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / "state.json").write_text("{}")
    os.mkfifo(directory / "exec.fifo")
    st.remove_dir(str(directory))
    assert not directory.exists()
    st.remove_dir(str(directory))  # idempotent


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: text[:40], "at character 40"),
        (lambda text: text.replace('"pid":', '"pid":"x",', 1)[:-1] + ",}", "Expecting"),
        (lambda text: "[1, 2]", "not a JSON object"),
        (lambda text: text.replace('"pid":', '"gone":', 1), "has no 'pid'"),
        (lambda text: text.replace('"config":{', '"config":[{', 1)[:-1] + "]}", "'config'"),
    ],
)
def test_a_damaged_state_is_one_error_naming_the_file(
    tmp_path: Path, damage: Callable[[str], str], reason: str
) -> None:
    state = make_state(tmp_path, os.getpid())
    path = Path(state.dir, st.STATE_FILE)
    path.write_text(damage(path.read_text()))

    with pytest.raises(DamagedState) as caught:
        st.ContainerState.load(str(tmp_path), "c1")

    message = str(caught.value)
    assert f"{path} is damaged" in message and reason in message, message
    assert "delete -f c1" in message


def test_salvage_keeps_the_members_that_parse(tmp_path: Path) -> None:
    state = make_state(tmp_path, os.getpid())
    path = Path(state.dir, st.STATE_FILE)
    text = path.read_text()
    path.write_text(text[: text.index('"config"') + 12])  # cut inside the config

    salvaged = salvage(str(tmp_path), "c1")

    assert (salvaged.pid, salvaged.init_start_time) == (state.pid, state.init_start_time)
    assert (salvaged.bundle, salvaged.rootfs) == ("/b", "/b/rootfs")
    assert salvaged.config == {}
    assert salvaged.status == st.RUNNING  # this process: alive


def test_list_shows_a_damaged_container_and_warns(tmp_path: Path) -> None:
    state = make_state(tmp_path, os.getpid())
    Path(state.dir, st.STATE_FILE).write_text("{")
    warnings: list[str] = []

    listed = st.list_states(str(tmp_path), warnings.append)

    assert [(s.id, s.status, s.pid) for s in listed] == [("c1", UNKNOWN, 0)]
    assert len(warnings) == 1 and "is damaged" in warnings[0]

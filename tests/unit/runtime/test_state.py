"""State on disk: statuses are derived from the init process and the fifo."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.linux import proc
from dockyard.runtime import state as st


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

"""run_forked: tasks in child processes, their results, errors and progress back."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from dockyard.errors import Conflict, HostError, InvalidArgument, NotFound
from dockyard.image.progress import Progress
from dockyard.image.workers import run_forked


class Recorder(Progress):
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def start(self, key: str, status: str, total: int = 0) -> None:
        self.calls.append(("start", key, status, total))

    def advance(self, key: str, amount: int) -> None:
        self.calls.append(("advance", key, amount))

    def status(self, key: str, status: str) -> None:
        self.calls.append(("status", key, status))


class TwoArgs(InvalidArgument):
    """An error whose constructor pickle cannot call again."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def test_results_come_back_by_index_and_run_in_other_processes() -> None:
    def task(i: int) -> object:
        return lambda progress: (i, os.getpid())

    results = run_forked([task(i) for i in range(5)], 2, Progress(), order=[4, 3, 2, 1, 0])

    assert [i for i, _ in results] == [0, 1, 2, 3, 4]
    assert os.getpid() not in {pid for _, pid in results}


def test_progress_is_relayed_to_the_parent() -> None:
    def task(progress: Progress) -> str:
        progress.start("layer", "Downloading", 100)
        for _ in range(3):
            progress.advance("layer", 10)
        progress.status("layer", "Pull complete")
        return "done"

    recorder = Recorder()

    assert run_forked([task], 1, recorder) == ["done"]
    assert recorder.calls == [
        ("start", "layer", "Downloading", 100),
        *[("advance", "layer", 10)] * 3,
        ("status", "layer", "Pull complete"),
    ]


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (NotFound("no such blob"), NotFound, "no such blob"),
        (TwoArgs("entry", "hostile"), InvalidArgument, "entry: hostile"),
        (Conflict("busy"), Conflict, "busy"),
    ],
)
def test_a_dockyard_error_comes_back_as_its_kind(
    error: Exception, kind: type[Exception], text: str
) -> None:
    def task(progress: Progress) -> None:
        raise error

    with pytest.raises(kind, match=text):
        run_forked([task], 1, Progress())


def test_a_bug_comes_back_with_the_childs_traceback() -> None:
    def task(progress: Progress) -> None:
        {}["missing"]

    with pytest.raises(RuntimeError, match=r"KeyError.*missing"):
        run_forked([task], 1, Progress())


def test_a_killed_worker_is_an_error() -> None:
    def task(progress: Progress) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(HostError, match="killed by signal 9"):
        run_forked([task], 1, Progress())


def test_one_failure_stops_the_others(tmp_path: Path) -> None:
    def slow(progress: Progress) -> None:
        (tmp_path / str(os.getpid())).write_text("")
        time.sleep(30)

    def fail(progress: Progress) -> None:
        time.sleep(0.2)
        raise HostError("broken")

    started = time.monotonic()
    with pytest.raises(HostError, match="broken"):
        run_forked([slow, slow, fail], 3, Progress())

    assert time.monotonic() - started < 10
    for pid in (int(p.name) for p in tmp_path.iterdir()):
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # killed and reaped already

"""The monitor's json-file log: Docker's format, escapes, times, long lines,
rotation, the none driver and reopen-log (docs/monitor.md, "The log")."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.monitor.conftest import MakeMonitored
from tests.integration.monitor.harness import LOG_TIME, joined, parse_time, read_all, read_frames
from tests.support import Runtime, requires, wait_for

pytestmark = [pytest.mark.integration, requires("root")]

ESCAPES = r"""printf '<a> & "q" \\ \t\001 caf\303\251 \342\200\250 \377\n'"""


def test_output_reaches_the_log_with_its_stream_escapes_and_time(
    make_monitored: MakeMonitored,
) -> None:
    script = f"echo out; echo err >&2; {ESCAPES}; echo second; printf 'no newline'"
    monitored = make_monitored("sh", "-c", script)
    monitored.spawn()
    before = time.time()
    monitored.start()
    assert monitored.wait_exit()["exitCode"] == 0
    after = time.time()

    entries = monitored.entries()
    assert [(e["stream"], e["log"]) for e in entries if e["stream"] == "stderr"] == [
        ("stderr", "err\n")
    ]
    assert [e["log"] for e in entries if e["stream"] == "stdout"] == [
        "out\n",
        '<a> & "q" \\ \t\x01 caf\u00e9 \u2028 \ufffd\n',
        "second\n",
        "no newline",  # the end of the stream flushes a partial line, without a newline
    ]
    # byte for byte what dockerd writes: its key order and its escapes
    raw = next(line for line in monitored.log.read_bytes().split(b"\n") if b"caf" in line)
    expected = (
        b'{"log":"\\u003ca\\u003e \\u0026 \\"q\\" \\\\ \\u0009\\u0001 caf\xc3\xa9 '
        b'\\u2028 \\ufffd\\n","stream":"stdout","time":"'
    )
    assert raw.startswith(expected), raw
    for entry in entries:
        assert LOG_TIME.match(entry["time"]), entry
        assert before - 0.01 <= parse_time(entry["time"]) <= after, (before, entry, after)
    stdout_times = [parse_time(e["time"]) for e in entries if e["stream"] == "stdout"]
    assert stdout_times == sorted(stdout_times)


def test_lines_over_16k_are_split_as_docker_splits_them(make_monitored: MakeMonitored) -> None:
    script = "head -c 40000 /dev/zero | tr '\\0' a; echo; sleep 0.1"
    script += "; head -c 16384 /dev/zero | tr '\\0' b; echo"
    monitored = make_monitored("sh", "-c", script)
    monitored.spawn()
    monitored.start()
    monitored.wait_exit()

    entries = monitored.entries()
    # 16 KiB pieces without a newline, then the rest with it; a line of exactly
    # 16 KiB is one piece and an empty line that carries the newline
    assert [e["log"] for e in entries] == [
        "a" * 16384,
        "a" * 16384,
        "a" * 7232 + "\n",
        "b" * 16384,
        "\n",
    ]
    # every piece of a line carries the time of its first piece
    assert len({e["time"] for e in entries[:3]}) == 1
    assert len({e["time"] for e in entries[3:]}) == 1
    assert entries[0]["time"] != entries[3]["time"]


def test_rotation_keeps_max_file_files_of_about_max_size(make_monitored: MakeMonitored) -> None:
    monitored = make_monitored("sh", "-c", "for i in $(seq 1 300); do echo line-$i; done")
    monitored.spawn("--log-max-size", "2000", "--log-max-file", "3")
    monitored.start()
    monitored.wait_exit()

    files = sorted(p.name for p in monitored.directory.iterdir() if p.name.startswith("ctr.log"))
    assert files == ["ctr.log", "ctr.log.1", "ctr.log.2"]
    entry_size = len(monitored.log.read_text().splitlines()[0]) + 1
    for old in (monitored.log.with_name("ctr.log.1"), monitored.log.with_name("ctr.log.2")):
        # rotated once it held max-size or more: at most one entry more
        assert 2000 <= old.stat().st_size < 2000 + entry_size + 5, old
    lines = [
        e["log"]
        for name in ("ctr.log.2", "ctr.log.1", "ctr.log")
        for e in monitored.entries(monitored.directory / name)
    ]
    first = int(lines[0].strip().split("-")[1])
    assert lines == [f"line-{i}\n" for i in range(first, 301)]


def test_rotation_with_one_file_starts_the_log_anew(make_monitored: MakeMonitored) -> None:
    monitored = make_monitored("sh", "-c", "for i in $(seq 1 300); do echo line-$i; done")
    monitored.spawn("--log-max-size", "1000")
    monitored.start()
    monitored.wait_exit()

    assert [p.name for p in monitored.directory.iterdir() if p.name.startswith("ctr.log")] == [
        "ctr.log"
    ]
    assert monitored.log.stat().st_size < 1100
    assert monitored.entries()[-1]["log"] == "line-300\n"


def test_log_driver_none_writes_no_log_and_attach_still_works(
    make_monitored: MakeMonitored,
) -> None:
    monitored = make_monitored("sh", "-c", "read x; echo seen $x")
    monitored.spawn("--log-driver", "none", "--stdin")
    with monitored.attach() as client:
        monitored.start()
        client.sendall(b"it\n")
        output = read_all(client)
    assert output.endswith(b"seen it\n")
    assert monitored.wait_exit()["exitCode"] == 0
    monitored.wait_monitor_gone()
    # no log; the attach socket and the FIFO went with the monitor
    names = sorted(p.name for p in monitored.directory.iterdir())
    assert names == ["exit.json", "init.pid", "monitor.pid"]


def test_reopen_log_moves_on_to_a_new_file(make_monitored: MakeMonitored) -> None:
    monitored = make_monitored("sh", "-c", "echo one; read x; echo two")
    monitored.spawn("--stdin")
    with monitored.attach() as client:
        monitored.start()
        wait_for(lambda: monitored.log.exists() and "one" in monitored.log.read_text(), "one")
        moved = monitored.log.rename(monitored.directory / "moved.log")
        monitored.ctl("reopen-log")
        wait_for(monitored.log.exists, "the log to be made again")
        client.sendall(b"\n")
        monitored.wait_exit()
    assert [e["log"] for e in monitored.entries(moved)] == ["one\n"]
    assert [e["log"] for e in monitored.entries()] == ["two\n"]


@pytest.fixture
def small_disk(tmp_path: Path, runtime: Runtime) -> Iterator[Path]:
    """A 64 KiB tmpfs (unmounted before the runtime fixture's leak check)."""
    path = tmp_path / "small"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_loses_log_output_but_never_leaves_half_an_entry(
    make_monitored: MakeMonitored, small_disk: Path
) -> None:
    monitored = make_monitored("sh", "-c", "seq 1 20000; exit 7")
    log = small_disk / "ctr.log"
    monitored.spawn("--log-path", str(log))
    with monitored.attach() as client:
        monitored.start()
        frames = read_frames(client)
    assert monitored.wait_exit()["exitCode"] == 7
    # the attach client got everything; the log what fitted, in order
    expected = "".join(f"{i}\n" for i in range(1, 20001))
    assert joined(frames, 1).decode() == expected
    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the log ends with half an entry"
    whole = [json.loads(line) for line in lines[:-1]]
    assert 500 < len(whole) < 20000
    assert [e["log"] for e in whole] == [f"{i}\n" for i in range(1, len(whole) + 1)]

"""dockyard.engine.monitor.binary(): built once per source, into the cache,
with one clear error when it cannot be built."""

from __future__ import annotations

import os
import posix
import subprocess
from pathlib import Path

import pytest

from dockyard.engine import monitor
from dockyard.errors import HostError


def test_it_is_built_once_and_named_after_the_source(tmp_path: Path) -> None:
    path = Path(monitor.binary(tmp_path / "cache"))
    built = path.stat().st_mtime_ns

    assert path.parent == tmp_path / "cache"
    assert (
        path.name.startswith("dockyard-monitor-")
        and len(path.name) == len("dockyard-monitor-") + 16
    )
    assert Path(monitor.binary(tmp_path / "cache")) == path
    assert path.stat().st_mtime_ns == built
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    usage = subprocess.run([path, "--help"], capture_output=True, text=True, check=True)
    assert usage.stdout.startswith("usage: dockyard-monitor")


def test_an_edited_source_gets_a_binary_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = monitor.binary(tmp_path)
    edited = tmp_path / "monitor.c"
    edited.write_bytes(Path(monitor.SOURCE).read_bytes() + b"\n/* edited */\n")
    monkeypatch.setattr(monitor, "SOURCE", str(edited))

    second = monitor.binary(tmp_path)

    assert second != first
    assert os.access(second, os.X_OK) and os.access(first, os.X_OK)


def test_no_compiler_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "no-such-cc")
    with pytest.raises(HostError, match=r"no C compiler \(no-such-cc\) found; install gcc"):
        monitor.binary(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_compiler_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "monitor.c"
    broken.write_text("int main(void) { return undeclared; }\n")
    monkeypatch.setattr(monitor, "SOURCE", str(broken))
    with pytest.raises(HostError, match=r"cannot build dockyard-monitor: cc failed: .*undeclared"):
        monitor.binary(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # the temp file is gone


def test_a_cache_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(HostError, match=r"cannot build dockyard-monitor in .*/file/cache: "):
        monitor.binary(tmp_path / "file" / "cache")


def test_the_default_cache_is_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posix, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_CACHE_HOME", "/home/u/.cache-x")
    assert monitor.default_cache_dir() == Path("/home/u/.cache-x/dockyard")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/u/")
    assert monitor.default_cache_dir() == Path("/home/u/.cache/dockyard")
    monkeypatch.setattr(posix, "geteuid", lambda: 0)
    assert monitor.default_cache_dir() == Path("/var/cache/dockyard")

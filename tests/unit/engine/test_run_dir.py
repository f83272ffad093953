"""remove_run_dir against a monitor that writes its exit file while the directory goes."""

from __future__ import annotations

import posix
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockyard.engine import exits


def test_a_file_written_while_the_run_dir_is_removed_goes_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rm -f listed the run directory, unlinked what it saw, then rmdir: a dying monitor
    (its runtime's create failed once rm had deleted the state) wrote exit.json in
    between, rmdir said ENOTEMPTY, and the directory stayed for good."""
    run = tmp_path / "c" / "abc"
    run.mkdir(parents=True)
    (run / "monitor.pid").write_text("1\n")
    engine = SimpleNamespace(paths=SimpleNamespace(run_dir=lambda cid: str(tmp_path / "c" / cid)))
    unlink = posix.unlink
    written = []

    def unlink_then_the_monitor_writes(path: str) -> None:
        unlink(path)
        if not written:  # the monitor's write lands after rm's listing
            written.append(True)
            (run / "exit.json").write_text('{"exitCode": -1}\n')

    monkeypatch.setattr(posix, "unlink", unlink_then_the_monitor_writes)

    exits.remove_run_dir(engine, "abc")  # type: ignore[arg-type]

    assert written and not run.exists()

"""dockyard-runtime's launcher (cli/launcher.py): what its first run writes.

Each case copies the package into tmp_path (as pip would into site-packages)
and the wheel's ``bin/dockyard-runtime`` next to it with the first line pip
gives it, then lets ``make_fast`` turn it into the fast launcher. The
installs themselves, through pip, are tests/integration/install.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dockyard
from dockyard.cli.launcher import MARKER, make_fast, pack_path
from dockyard.errors import InvalidArgument

PACKAGE = Path(dockyard.__file__).resolve().parent
WHEEL_SCRIPT = PACKAGE.parents[1] / "bin" / "dockyard-runtime"


def install(tmp_path: Path, python: str = sys.executable) -> tuple[Path, Path]:
    """(script, base): the package and the script as pip lays them out."""
    base = tmp_path / "site-packages"
    shutil.copytree(PACKAGE, base / "dockyard", ignore=shutil.ignore_patterns("*.pack", "__py*"))
    script = tmp_path / "bin" / "dockyard-runtime"
    script.parent.mkdir()
    text = WHEEL_SCRIPT.read_text()
    assert text.startswith("#!python\n")
    script.write_text(f"#!{python}\n" + text.removeprefix("#!python\n"))  # pip's fix_script
    script.chmod(0o755)
    return script, base


def debug_version(script: Path) -> str:
    result = subprocess.run(
        [script, "--debug", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("dockyard-runtime version")
    return result.stderr


def test_the_fast_launcher_runs_the_runtime_from_the_pack(tmp_path: Path) -> None:
    script, base = install(tmp_path)

    done = make_fast(str(script), sys.executable, str(base))

    assert re.search(r"rewritten with \d+ modules \(cannot open it: No such file", done[0])
    assert Path(pack_path(str(base))).is_file()
    assert script.read_text().splitlines()[0] == f"#!{sys.executable} -IS"
    assert script.stat().st_mode & 0o777 == 0o755
    report = debug_version(script)
    assert "launcher: python -I -S; site not loaded; re not loaded;" in report
    assert f"modules from {base}/dockyard/cli/modules.pack (changed since built: none)" in report


def test_it_runs_again_over_its_own_output(tmp_path: Path) -> None:
    script, base = install(tmp_path)
    make_fast(str(script), sys.executable, str(base))
    first = script.read_text()

    done = make_fast(str(script), sys.executable, str(base))

    assert done[0].endswith("modules.pack: up to date")
    assert script.read_text() == first


def test_a_pack_that_does_not_match_the_sources_is_rewritten(tmp_path: Path) -> None:
    script, base = install(tmp_path)
    make_fast(str(script), sys.executable, str(base))
    with (base / "dockyard" / "cli" / "runtime_log.py").open("a") as f:
        f.write("# edited\n")
    init = base / "dockyard" / "__init__.py"
    init.write_text(init.read_text().replace('"0.1.0"', '"0.9.9"'))

    done = make_fast(str(script), sys.executable, str(base))

    assert re.search(r"rewritten with \d+ modules \(dockyard changed since it was", done[0])
    report = debug_version(script)
    assert "(changed since built: none)" in report


def test_a_launcher_written_by_the_old_setup_is_replaced(tmp_path: Path) -> None:
    script, base = install(tmp_path)
    script.write_text(
        f"#!{sys.executable} -IS\n# Written by `python -m dockyard.cli.launcher`: isolated mode\n"
    )

    make_fast(str(script), sys.executable, str(base))

    assert "install(" in script.read_text()


@pytest.mark.parametrize(
    ("first_lines", "problem"),
    [
        ("#!/bin/sh\necho hello\n", "is not dockyard-runtime's launcher; left alone"),
        (f"#!{sys.executable}\n", "is not dockyard-runtime's launcher; left alone"),
        (f"#!/usr/bin/python9\n{MARKER}\n", "runs /usr/bin/python9; run this"),
        (f"#!python\n{MARKER}\n", "names no interpreter"),
    ],
)
def test_what_is_not_ours_is_left_alone(tmp_path: Path, first_lines: str, problem: str) -> None:
    script, base = install(tmp_path)
    script.write_text(first_lines)

    with pytest.raises(InvalidArgument, match=problem):
        make_fast(str(script), sys.executable, str(base))

    assert script.read_text() == first_lines
    assert not Path(pack_path(str(base))).exists()


def test_an_interpreter_path_the_kernel_would_split_is_refused(tmp_path: Path) -> None:
    spaced = tmp_path / "my venv" / "python"
    spaced.parent.mkdir()
    spaced.symlink_to(sys.executable)
    script, base = install(tmp_path, python=str(spaced))

    with pytest.raises(InvalidArgument, match="cannot take flags on a #! line"):
        make_fast(str(script), str(spaced), str(base))

    assert script.read_text().startswith(f"#!{spaced}\n")


def test_a_module_that_does_not_compile_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    script, base = install(tmp_path)
    before = script.read_text()
    (base / "dockyard" / "cli" / "broken.py").write_text("def (:\n")

    with pytest.raises(InvalidArgument, match=r"broken\.py:1: invalid syntax; .* not rewritten"):
        make_fast(str(script), sys.executable, str(base))

    assert script.read_text() == before
    assert not Path(pack_path(str(base))).exists()


def test_the_clis_script_becomes_a_fast_launcher_of_the_cli(tmp_path: Path) -> None:
    """bin/dockyard gets the same treatment: every dockyard command starts Python."""
    _, base = install(tmp_path)
    cli = tmp_path / "bin" / "dockyard"
    text = (WHEEL_SCRIPT.parent / "dockyard").read_text()
    cli.write_text(f"#!{sys.executable}\n" + text.removeprefix("#!python\n"))
    cli.chmod(0o755)

    make_fast(str(cli), sys.executable, str(base))

    assert cli.read_text().splitlines()[0] == f"#!{sys.executable} -IS"
    assert "from dockyard.cli.docker_main import entry" in cli.read_text()
    result = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("Dockyard version")
    probe = subprocess.run(
        [cli, "no-such-verb"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert probe.returncode == 125 and "is not a dockyard command" in probe.stderr
    # Its dependencies import under -I -S too (a zstd layer needs zstandard).
    lines = cli.read_text().splitlines()
    assert lines[-2:] == ["from dockyard.cli.docker_main import entry", "entry()"]
    probe_script = tmp_path / "bin" / "probe"
    probe_script.write_text("\n".join([*lines[:-2], "import isal, zstandard", "print('ok')"]))
    probe_script.chmod(0o755)
    probe = subprocess.run([probe_script], capture_output=True, text=True)
    assert probe.stdout == "ok\n", probe.stderr

"""A plain ``pip install`` of the wheel gives the fast dockyard-runtime.

pip drops any flags from a wheel script's ``#!python`` line, so the wheel's
``dockyard-runtime`` makes itself the ``python -I -S`` launcher on its first
run (src/dockyard/cli/launcher.py). Each test reads how a start was
launched from ``dockyard-runtime --debug --version``: the interpreter's
flags, whether ``site`` and ``re`` were loaded, and how many modules came
from the package's pack.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from dockyard.cli.launcher import EXTRA
from dockyard.cli.modulepack import MAGIC, check_pack, write_pack
from tests.integration.install.conftest import VERSION, Venv, Wheels, copy_inputs
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACK_MEMBER = "dockyard/cli/modules.pack"
SLOW = "python without -I -S; site loaded;"
FAST = re.compile(
    r"python -I -S; site not loaded; re not loaded; (\d+) modules from (\S+) "
    r"\(changed since built: (.*)\)$"
)


def fast_report(venv: Venv) -> tuple[str, int, str]:
    """(version line, modules from the pack, modules changed since) of a fast start."""
    version, report = venv.report()
    found = FAST.fullmatch(report)
    assert found, f"not the fast launcher: {report}"
    assert found[2] == str(venv.pack)
    return version, int(found[1]), found[3]


def test_the_first_run_makes_the_installed_script_the_fast_launcher(
    installed: Venv, wheels: Wheels
) -> None:
    assert installed.script.read_text().splitlines()[0] == f"#!{installed.python}"
    record = next(installed.site.glob("dockyard-*.dist-info")) / "RECORD"
    listed = {line.split(",")[0] for line in record.read_text().splitlines()}
    assert PACK_MEMBER in listed  # so pip uninstall removes it
    assert "../../../bin/dockyard-runtime" in listed

    first = installed.report()

    assert first[1].startswith(SLOW)
    assert installed.script.read_text().splitlines()[0] == f"#!{installed.python} -IS"
    version, served, changed = fast_report(installed)
    assert version == f"dockyard-runtime version {wheels.current.version}"
    assert served >= 5  # the CLI's modules and __future__
    assert changed == "none"
    # the pack built with the wheel served the installed files as it was
    assert installed.pack.read_bytes() == wheels.current.member(PACK_MEMBER)


@pytest.mark.runtime
@requires("root")
def test_a_container_runs_through_the_installed_launcher(
    installed: Venv, runtime: Runtime, bundle: Bundle
) -> None:
    installed.run("--version")  # the first run
    runtime.executable = str(installed.script)

    result = run_in_container(runtime, bundle, "sh", "-c", "echo started")

    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr
    assert fast_report(installed)[2] == "none"


def test_uninstall_leaves_nothing_behind(installed: Venv) -> None:
    installed.run("--version")
    installed.run("--version")  # the fast launcher and the pack are in place
    assert installed.files() > installed.empty

    installed.pip("uninstall", "--yes", "dockyard")

    assert sorted(installed.files() - installed.empty) == []


def test_an_upgrade_replaces_a_stale_pack_and_stays_fast(
    installed: Venv, wheels: Wheels, tmp_path_factory: pytest.TempPathFactory
) -> None:
    installed.run("--version")
    # a pack compiled from other sources (one module edited) over the installed one
    other = copy_inputs(tmp_path_factory.mktemp("other") / "tree") / "src"
    with (other / "dockyard" / "cli" / "runtime_args.py").open("a") as f:
        f.write("# edited\n")
    write_pack(str(installed.pack), str(other), "dockyard", EXTRA)
    assert fast_report(installed)[2] == "dockyard.cli.runtime_args"  # seen by content

    installed.install(wheels.newer, "--upgrade")

    assert installed.pack.read_bytes() == wheels.newer.member(PACK_MEMBER)
    assert installed.script.read_text().splitlines()[0] == f"#!{installed.python}"
    assert installed.report()[1].startswith(SLOW)  # the new version's first run
    version, _, changed = fast_report(installed)
    assert version == f"dockyard-runtime version {wheels.newer.version}"
    assert changed == "none"


def test_an_edit_that_keeps_size_and_mtime_is_read_from_source(installed: Venv) -> None:
    installed.run("--version")
    init = installed.site / "dockyard" / "__init__.py"
    before = init.stat()
    text = init.read_text()
    edited = text.replace(f'"{VERSION}"', '"' + "9" * len(VERSION) + '"')
    assert edited != text

    init.write_text(edited)
    os.utime(init, ns=(before.st_atime_ns, before.st_mtime_ns))

    version, _, changed = fast_report(installed)
    assert version.startswith("dockyard-runtime version 99")
    assert changed == "dockyard"  # the package's __init__ comes from the pack too


def test_a_damaged_pack_falls_back_to_the_sources_until_repaired(installed: Venv) -> None:
    installed.run("--version")
    whole = installed.pack.read_bytes()
    installed.pack.write_bytes(whole[: len(whole) // 2])

    version, report = installed.report()

    assert version.startswith("dockyard-runtime version")
    assert report == "python -I -S; site not loaded; re not loaded; no module pack"
    repaired = subprocess.run(
        [installed.python, "-m", "dockyard.cli.launcher"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{installed.pack}: rewritten with" in repaired.stdout
    assert f"{installed.script}: fast launcher for {installed.python}" in repaired.stdout
    assert fast_report(installed)[2] == "none"


def test_a_pack_for_another_python_is_rewritten_by_the_first_run(installed: Venv) -> None:
    whole = installed.pack.read_bytes()
    installed.pack.write_bytes(MAGIC + b"\x00\x00\r\n" + whole[len(MAGIC) + 4 :])

    installed.run("--version")

    assert check_pack(str(installed.pack), str(installed.site), "dockyard", EXTRA) is None
    assert fast_report(installed)[2] == "none"

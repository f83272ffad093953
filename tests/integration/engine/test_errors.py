"""Any failure is one line on stderr and Docker's exit code; the traceback only with -D."""

from __future__ import annotations

import sqlite3

from tests.integration.engine.conftest import Dockyard, EngineImages


def test_an_error_is_one_line_and_debug_adds_the_traceback(dockyard: Dockyard) -> None:
    plain = dockyard.run("rename", "nothing", "other", check=False)
    debug = dockyard.run("-D", "rename", "nothing", "other", check=False)

    line = "Error response from daemon: No such container: nothing"
    assert plain.returncode == debug.returncode == 1
    assert plain.stderr == line + "\n"
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert "dockyard/engine/container_table.py" in debug.stderr
    assert debug.stderr.endswith(line + "\n")


def test_an_unexpected_error_is_one_line_too(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    """A record damaged behind the engine's back: no layer expects it, yet no traceback."""
    dockyard.run("create", "--name", "victim", engine_images.busybox)
    db = sqlite3.connect(dockyard.root / "engine.db")
    with db:
        db.execute("UPDATE containers SET doc = '{not json' WHERE name = 'victim'")
    db.close()

    try:
        plain = dockyard.run("ps", "-a", check=False)
        debug = dockyard.run("--debug", "ps", "-a", check=False)
        run = dockyard.run("run", "--rm", "--name", "victim", engine_images.busybox, check=False)
        run_debug = dockyard.run(
            "-D", "run", "--rm", "--name", "victim", engine_images.busybox, check=False
        )
    finally:
        db = sqlite3.connect(dockyard.root / "engine.db")
        with db:
            db.execute("DELETE FROM containers WHERE name = 'victim'")
        db.close()
        dockyard.run("system", "check", check=False)  # the snapshot nobody owns now

    assert plain.returncode == 1
    lines = plain.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: internal error: "), plain.stderr
    assert "(run with --debug for a traceback)" in lines[0]
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert "dockyard/engine/" in debug.stderr
    assert debug.stderr.splitlines()[-1] == lines[0]  # the same line closes it
    # run's own exit code (Docker's 125), not 1
    assert run.returncode == 125 and len(run.stderr.splitlines()) == 1, run.stderr
    assert run_debug.returncode == 125 and "Traceback" in run_debug.stderr


def test_a_missing_image_argument_is_a_usage_error_with_exit_1(dockyard: Dockyard) -> None:
    """Docker's CLI: "docker: 'docker run' requires at least 1 argument", exit 1 (not 125)."""
    for verb in (["run"], ["create"], ["container", "create"], ["start"], ["rm"], ["wait"]):
        out = dockyard.run(*verb, check=False)
        prog = "dockyard " + " ".join(verb)
        assert out.returncode == 1, (verb, out.stderr)
        assert out.stderr.startswith(f"dockyard: '{prog}' requires at least 1 argument\n")
        assert f"See '{prog} --help'" in out.stderr


def test_rm_f_and_start_of_missing_containers_say_so_as_dockers_cli(dockyard: Dockyard) -> None:
    forced = dockyard.run("rm", "-f", "nothing", check=False)
    # Docker's CLI: rm -f names what is missing, yet succeeds
    assert forced.returncode == 0
    assert forced.stderr == "Error response from daemon: No such container: nothing\n"
    started = dockyard.run("start", "nothing", "nor-this", check=False)
    assert started.returncode == 1
    assert started.stderr.splitlines() == [
        "Error response from daemon: No such container: nothing",
        "Error response from daemon: No such container: nor-this",
        "Error: failed to start containers: nothing, nor-this",
    ]

"""``exec`` as a user types it, and ``Container.exec_run``: through Dockyard's runtime and runc.

Every session runs under a monitor of its own: it outlives ``exec -d``, a
detach and a killed CLI, and leaves nothing once its process has ended
(the fixture's leak check looks at <run root>/exec too).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages
from tests.integration.engine.pty_session import PtySession
from tests.integration.engine.test_api import dockyard_client
from tests.support import wait_for


@pytest.fixture
def box(dockyard: Dockyard, engine_images: EngineImages, runtime: str) -> str:
    """A running busybox container (on the runtime under test) to exec into."""
    dockyard.run(
        "run", "-d", "--name", "box", "--runtime", runtime, "-e", "FROM_RUN=yes",
        "-w", "/root", engine_images.busybox, "sleep", "1000",
    )  # fmt: skip
    return "box"


def _exists(dockyard: Dockyard, container: str, path: str) -> bool:
    return dockyard.run("exec", container, "test", "-e", path, check=False).returncode == 0


def _sessions(dockyard: Dockyard) -> list[Path]:
    directory = dockyard.run_root / "exec"
    return list(directory.iterdir()) if directory.exists() else []


def test_exec_runs_a_command_with_its_status_and_streams(dockyard: Dockyard, box: str) -> None:
    result = dockyard.run(
        "exec", box, "sh", "-c", "echo out; echo err >&2; exit 3", check=False
    )  # fmt: skip

    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert _sessions(dockyard) == []  # a foreground session removes its directory


def test_exec_takes_the_containers_environment_and_dockers_flags(
    dockyard: Dockyard, box: str, tmp_path: Path
) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("FROM_FILE=1\n# a comment\n")
    show = "echo $FROM_RUN $FROM_FILE $EXTRA; pwd; id -u; id -g; echo $HOME"

    plain = dockyard.run("exec", box, "sh", "-c", show).stdout.split()
    flagged = dockyard.run(
        "exec", "-e", "EXTRA=2", "--env-file", str(env_file), "-w", "/tmp", "-u", "test",
        box, "sh", "-c", show,
    ).stdout.split()  # fmt: skip
    numeric = dockyard.run("exec", "-u", "1234:5678", box, "sh", "-c", "id -u; id -g")

    assert plain == ["yes", "/root", "0", "0", "/root"]
    assert flagged == ["yes", "1", "2", "/tmp", "1000", "1000", "/tmp"]  # test's home: /tmp
    assert numeric.stdout.split() == ["1234", "5678"]


def test_privileged_exec_gets_every_capability(dockyard: Dockyard, box: str) -> None:
    def effective(*flags: str) -> int:
        out = dockyard.run("exec", *flags, box, "grep", "CapEff", "/proc/self/status").stdout
        return int(out.split()[1], 16)

    plain, privileged = effective(), effective("--privileged")

    assert plain & (1 << 21) == 0  # CAP_SYS_ADMIN: not Docker's default set
    assert privileged & (1 << 21)
    assert privileged & plain == plain


def test_dockers_codes_when_the_command_cannot_run(dockyard: Dockyard, box: str) -> None:
    missing = dockyard.run("exec", box, "no-such-command", check=False)
    directory = dockyard.run("exec", box, "/etc", check=False)
    too_few = dockyard.run("exec", box, check=False)
    no_user = dockyard.run("exec", "-u", "nosuchuser", box, "true", check=False)

    assert missing.returncode == 126  # Docker's exec: 126, not found or not runnable alike
    assert "OCI runtime exec failed" in missing.stderr
    assert "executable file not found" in missing.stderr
    assert directory.returncode == 126
    assert "permission denied" in directory.stderr
    assert too_few.returncode == 1 and '"exec" requires at least 2 arguments' in too_few.stderr
    # Docker's daemon looks the user up as it starts the exec: that is a 126 too
    assert no_user.returncode == 126 and "unable to find user nosuchuser" in no_user.stderr
    for result in (missing, directory, too_few):
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _sessions(dockyard) == []


def test_exec_into_a_paused_or_stopped_container_is_refused(
    dockyard: Dockyard, engine_images: EngineImages, box: str
) -> None:
    dockyard.run("pause", box)
    paused = dockyard.run("exec", box, "true", check=False)
    dockyard.run("unpause", box)
    dockyard.run("create", "--name", "idle", engine_images.busybox)
    stopped = dockyard.run("exec", "idle", "true", check=False)
    nothing = dockyard.run("exec", "no-such-container", "true", check=False)

    assert paused.returncode == 1 and "is paused, unpause the container before exec" in (
        paused.stderr
    )
    assert stopped.returncode == 1 and "is not running" in stopped.stderr
    assert nothing.returncode == 1 and "No such container: no-such-container" in nothing.stderr


def test_exec_i_streams_stdin_and_its_end_ends_the_processes(dockyard: Dockyard, box: str) -> None:
    data = b"".join(b"%d\n" % i for i in range(20000))

    counted = dockyard.run("exec", "-i", box, "wc", "-l", input=data)
    without_i = dockyard.run("exec", box, "cat", input=b"not read\n")

    assert counted.stdout.strip() == "20000"
    assert without_i.stdout == ""


def test_exec_d_runs_on_and_cleans_up_after_itself(dockyard: Dockyard, box: str) -> None:
    # the command cannot end before the test says go: `exec -d` returning at all shows it
    # did not wait (a clock around a CLI's start-up did not hold on a loaded machine)
    script = "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo > /tmp/done"
    result = dockyard.run("exec", "-d", box, "sh", "-c", script)

    assert result.stdout == ""
    assert len(_sessions(dockyard)) == 1  # held by its monitor meanwhile
    assert not _exists(dockyard, box, "/tmp/done")
    dockyard.run("exec", box, "touch", "/tmp/go")
    wait_for(lambda: _exists(dockyard, box, "/tmp/done"), "the detached command's file", 60)
    wait_for(lambda: _sessions(dockyard) == [], "the session's cleanup", 60)


def test_an_exec_outlives_its_killed_cli(dockyard: Dockyard, box: str) -> None:
    proc = subprocess.Popen(
        [str(DOCKYARD), "exec", box, "sh", "-c", "echo started; sleep 1; echo > /tmp/survived"],
        env=dockyard.env,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    with proc:
        assert proc.stdout.readline() == b"started\n"
        proc.kill()
    assert proc.returncode == -signal.SIGKILL

    wait_for(lambda: _exists(dockyard, box, "/tmp/survived"), "the orphaned command's file", 60)
    wait_for(lambda: _sessions(dockyard) == [], "the session's cleanup", 60)


def test_exec_it_has_a_terminal_and_detaches_leaving_it_running(
    dockyard: Dockyard, box: str
) -> None:
    with PtySession(["exec", "-it", box, "sh"], dockyard.env, rows=27, cols=99) as term:
        term.expect("# ")
        assert term.raw()
        term.type("stty size\r")
        term.expect("27 99")
        term.resize(50, 132)
        term.type("stty size; echo $TERM\r")
        term.expect("50 132")
        term.expect("xterm")
        term.type("sleep 1000 & echo started-$((1 + 1))\r")
        term.expect("started-2")  # the shell's own answer: the sleep runs
        term.type(b"\x10\x11")
        assert term.wait() == 1  # Docker's exec: "read escape sequence", status 1
        term.expect("read escape sequence")
        assert term.modes_restored()

    def commands() -> list[str]:
        rows = dockyard.run("top", box, "-o", "pid,args").stdout.splitlines()[1:]
        return [row.split(None, 1)[1] for row in rows]

    # the shell lives on, and its job: forked before "started-2", but maybe
    # not yet sleep (still a copy of sh) on a loaded machine
    wait_for(lambda: commands().count("sleep 1000") == 2, "the shell's sleep", 60)
    assert "sh" in commands()
    assert len(_sessions(dockyard)) == 1


def test_exec_it_ends_with_the_shells_status(dockyard: Dockyard, box: str) -> None:
    with PtySession(["exec", "-it", box, "sh"], dockyard.env) as term:
        term.expect("# ")
        term.type("exit 42\r")
        assert term.wait() == 42
        assert term.modes_restored()
    assert _sessions(dockyard) == []


def test_stopping_the_container_ends_its_exec_sessions(dockyard: Dockyard, box: str) -> None:
    dockyard.run("exec", "-d", box, "sleep", "1000")
    proc = subprocess.Popen(
        [str(DOCKYARD), "exec", box, "sh", "-c", "echo started; exec sleep 1000"],
        env=dockyard.env,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    with proc:
        assert proc.stdout.readline() == b"started\n"
        dockyard.run("stop", "-t", "0", box)
        assert proc.wait(timeout=20) == 137  # the exec's process died of the SIGKILL
    wait_for(lambda: _sessions(dockyard) == [], "the sessions' cleanup", 60)


def test_exec_run_answers_as_docker_py(dockyard: Dockyard, box: str) -> None:
    with dockyard_client(dockyard) as client:
        container = client.containers.get(box)
        both = "sh -c 'echo out; echo err >&2; exit 3'"

        assert container.exec_run(both) == (3, b"out\nerr\n")
        assert container.exec_run(both, demux=True).output == (b"out\n", b"err\n")
        assert container.exec_run(both, stderr=False).output == b"out\n"
        shown = container.exec_run(
            ["sh", "-c", "echo $A; pwd; id -u"], environment={"A": "1"}, workdir="/tmp", user="1000"
        )
        assert shown.output == b"1\n/tmp\n1000\n"
        assert container.exec_run("tty", tty=True).output == b"/dev/pts/0\r\n"
        assert container.exec_run("cat", stdin=True) == (0, b"")
        missing = container.exec_run("no-such-command")
        assert missing.exit_code == 126 and b"executable file not found" in missing.output
        # b is written only once a came out: streamed, not gathered (a fixed pause between
        # them let a loaded reader see both in one chunk)
        script = "echo a; while [ ! -e /tmp/next ]; do sleep 0.05; done; echo b"
        streamed = container.exec_run(["sh", "-c", script], stream=True)
        chunks = iter(streamed.output)
        assert streamed.exit_code is None and next(chunks) == b"a\n"
        container.exec_run("touch /tmp/next")
        assert list(chunks) == [b"b\n"]
        assert container.exec_run("sleep 0.5", detach=True) == (None, b"")
    wait_for(lambda: _sessions(dockyard) == [], "the sessions' cleanup", 60)


def test_no_descriptor_of_the_cli_leaks_into_the_exec(dockyard: Dockyard, box: str) -> None:
    fds = dockyard.run("exec", box, "ls", "/proc/self/fd").stdout.split()

    assert sorted(int(fd) for fd in fds) == [0, 1, 2, 3]  # 3: ls's own directory

"""Terminals, as a user at a real terminal meets them: ``run -it``, detach and ``attach``.

Each CLI runs on a pseudo-terminal of its own (tests/.../pty_session.py):
what it types and reads is what a user would, window changes arrive as
SIGWINCH, and the terminal's modes are checked after every way out.
"""

from __future__ import annotations

import signal

from tests.integration.engine.conftest import Dockyard, EngineImages, attached_clients
from tests.integration.engine.pty_session import PtySession
from tests.support import wait_for

PROMPT = "/ # "


def test_run_it_gives_a_terminal_sized_as_ours_and_resized_with_it(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run("pull", engine_images.busybox)
    with PtySession(
        ["run", "-it", "--rm", "--runtime", runtime, engine_images.busybox, "sh"],
        dockyard.env,
        rows=33,
        cols=101,
    ) as term:
        term.expect(PROMPT)
        assert term.raw(), "the user's terminal is raw while the container has it"
        term.type("tty; stty size\r")
        term.expect("/dev/pts/0")
        term.expect("33 101")

        term.resize(40, 120)
        term.type("stty size\r")
        term.expect("40 120")
        term.type("echo $TERM; exit 3\r")
        term.expect("xterm")

        assert term.wait() == 3
        assert term.modes_restored()
    assert dockyard.ids() == []


def test_ctrl_p_ctrl_q_detaches_and_attach_comes_back(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run("pull", engine_images.busybox)
    with PtySession(
        ["run", "-it", "--name", "shell", "--runtime", runtime, engine_images.busybox, "sh"],
        dockyard.env,
    ) as term:
        term.expect(PROMPT)
        term.type("export MARK=kept\r")
        term.expect(PROMPT)
        term.type(b"\x10\x11")  # ctrl-p ctrl-q
        assert term.wait() == 0
        assert term.modes_restored()
    assert dockyard.inspect("shell")["State"]["Status"] == "running"  # type: ignore[index]

    with PtySession(["attach", "shell"], dockyard.env) as again:
        again.type("echo $MARK\r")
        again.expect("kept")
        again.type("exit 5\r")
        assert again.wait() == 5
        assert again.modes_restored()
    assert dockyard.inspect("shell")["State"]["ExitCode"] == 5  # type: ignore[index]


def test_detach_keys_of_our_own_and_attach_detaching_says_so(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    with PtySession(
        ["run", "-it", "--name", "keys", "--detach-keys", "ctrl-a,x", engine_images.busybox],
        dockyard.env,
    ) as term:
        term.expect(PROMPT)
        term.type(b"\x10\x11echo still-here\r")  # the default keys are the container's now
        term.expect("still-here")
        term.type(b"\x01x")
        assert term.wait() == 0

    with PtySession(["attach", "--detach-keys", "ctrl-@,q", "keys"], dockyard.env) as again:
        again.type("echo again\r")
        again.expect("again")
        again.type(b"\x00q")
        assert again.wait() == 1  # Docker's attach: "read escape sequence", status 1
        again.expect("read escape sequence")
        assert again.modes_restored()
    assert dockyard.inspect("keys")["State"]["Status"] == "running"  # type: ignore[index]

    bad = dockyard.run("run", "-it", "--detach-keys", "ctrl-", engine_images.busybox, check=False)
    assert bad.returncode == 125
    assert "Invalid detach keys (ctrl-) provided" in bad.stderr


def test_the_terminal_is_restored_when_the_cli_is_told_to_end(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    dockyard.run("run", "-dit", "--name", "bg", engine_images.busybox, "sh")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with PtySession(["attach", "bg"], dockyard.env) as term:
            term.type("echo $((6 * 7))\r")
            term.expect("42")  # the container's answer, not our terminal's echo
            assert term.raw()
            term.signal(signum)
            assert term.wait() == 128 + signum
            assert term.modes_restored()
    assert dockyard.inspect("bg")["State"]["Status"] == "running"  # type: ignore[index]
    # run -it: no signal proxy with a terminal (Docker's rule); the container runs on
    with PtySession(["run", "-it", "--name", "fg", engine_images.busybox], dockyard.env) as term:
        term.expect("# ")
        term.signal(signal.SIGTERM)
        assert term.wait() == 128 + signal.SIGTERM
        assert term.modes_restored()
    assert dockyard.inspect("fg")["State"]["Status"] == "running"  # type: ignore[index]


def test_several_clients_attach_at_once(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("pull", engine_images.busybox)
    dockyard.run("run", "-dit", "--name", "shared", engine_images.busybox, "sh")
    with (
        PtySession(["attach", "shared"], dockyard.env) as one,
        PtySession(["attach", "shared"], dockyard.env) as two,
    ):
        wait_for(lambda: attached_clients(dockyard, "shared") == 2, "both clients attached")
        one.type("echo from-one\r")
        one.expect("from-one")
        two.expect("from-one")  # both see what either types
        two.type("exit 7\r")
        assert one.wait() == 7
        assert two.wait() == 7


def test_start_ai_attaches_a_created_terminal(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("create", "-it", "--name", "later", engine_images.busybox, "sh")
    with PtySession(["start", "-ai", "later"], dockyard.env, rows=30, cols=90) as term:
        term.expect(PROMPT)
        term.type("stty size; exit 4\r")
        term.expect("30 90")
        assert term.wait() == 4
        assert term.modes_restored()


def test_run_it_needs_a_terminal_to_read_from(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    result = dockyard.run(
        "run", "-it", "--rm", engine_images.busybox, "true", input=b"", check=False
    )

    assert result.returncode == 1  # Docker's CLI refuses it itself: 1, not the daemon's 125
    assert "the input device is not a TTY" in result.stderr


def test_the_terminal_is_restored_when_the_container_cannot_start_or_ends_at_once(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run("pull", engine_images.busybox)
    for command, status in (("no-such-command", 127), ("true", 0)):
        with PtySession(
            ["run", "-it", "--rm", "--runtime", runtime, engine_images.busybox, command],
            dockyard.env,
        ) as term:
            assert term.wait() == status
            assert term.modes_restored()
    assert dockyard.ids() == []

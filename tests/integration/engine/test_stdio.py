"""Streams without a terminal: ``-i`` stdin, separate stdout and stderr, ``-a``,
signals proxied to the container, ``attach`` and ``start -a -i``."""

from __future__ import annotations

import signal
import subprocess

from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages, attached_clients
from tests.support import wait_for


def _popen(dockyard: Dockyard, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(DOCKYARD), *args],
        env=dockyard.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _read_line(proc: subprocess.Popen[bytes]) -> bytes:
    assert proc.stdout is not None
    return proc.stdout.readline()


def test_run_i_streams_stdin_and_its_end_closes_the_containers(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    data = b"".join(b"line %d\n" % i for i in range(5000))  # more than a pipe holds

    result = dockyard.run(
        "run", "-i", "--rm", "--runtime", runtime, engine_images.busybox,
        "sh", "-c", "wc -l; echo done >&2",
        input=data,
    )  # fmt: skip

    assert result.stdout.strip() == "5000"
    assert result.stderr.endswith("done\n")


def test_without_i_the_container_reads_nothing(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    result = dockyard.run("run", "--rm", engine_images.busybox, "cat", input=b"not for it\n")

    assert result.stdout == ""


def test_run_a_attaches_only_the_streams_asked_for(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    both = "echo out; echo err >&2"
    out_only = dockyard.run(
        "run", "--rm", "-a", "stdout", engine_images.busybox, "sh", "-c", both
    )  # fmt: skip
    err_only = dockyard.run(
        "run", "--rm", "-a", "STDERR", engine_images.busybox, "sh", "-c", both
    )  # fmt: skip
    conflict = dockyard.run("run", "-d", "-a", "stdout", engine_images.busybox, check=False)

    assert (out_only.stdout, out_only.stderr.endswith("err\n")) == ("out\n", False)
    assert err_only.stdout == "" and err_only.stderr.endswith("err\n")
    assert conflict.returncode == 125 and "Conflicting options: -a and -d" in conflict.stderr


def test_signals_to_the_cli_reach_the_container(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run("pull", engine_images.busybox)
    script = 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
    proc = _popen(dockyard, "run", "--rm", "--runtime", runtime, engine_images.busybox,
                  "sh", "-c", script)  # fmt: skip
    try:
        assert _read_line(proc) == b"ready\n"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert out == b"got-term\n"
    assert proc.returncode == 7


def test_sig_proxy_false_leaves_the_container_alone(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    proc = _popen(dockyard, "run", "--sig-proxy=false", "--name", "alone",
                  engine_images.busybox, "sh", "-c", "echo ready; exec sleep 1000")  # fmt: skip
    try:
        assert _read_line(proc) == b"ready\n"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 143
    assert dockyard.inspect("alone")["State"]["Status"] == "running"  # type: ignore[index]


def test_attach_streams_both_ways_and_no_stdin_only_listens(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "-i", "--name", "echoer", "--runtime", runtime, engine_images.busybox,
        "sh", "-c", "while read line; do echo got $line; echo err $line >&2; done",
    )  # fmt: skip
    listener = _popen(dockyard, "attach", "--no-stdin", "echoer")
    talker = _popen(dockyard, "attach", "echoer")
    try:
        wait_for(lambda: attached_clients(dockyard, "echoer") == 2, "both clients attached")
        assert listener.stdin is not None and talker.stdin is not None
        listener.stdin.write(b"ignored\n")
        listener.stdin.flush()
        talker.stdin.write(b"hello\n")
        talker.stdin.flush()
        assert _read_line(talker) == b"got hello\n"
        assert _read_line(listener) == b"got hello\n"
        dockyard.run("kill", "echoer")
        talker_out, talker_err = talker.communicate(timeout=20)
        listener_out, listener_err = listener.communicate(timeout=20)
    finally:
        listener.kill()
        talker.kill()
    assert talker.returncode == listener.returncode == 137
    assert b"ignored" not in talker_out + listener_out
    assert talker_err == listener_err == b"err hello\n"


def test_attach_to_a_stopped_container_is_refused(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("create", "--name", "idle", engine_images.busybox)

    result = dockyard.run("attach", "idle", check=False)

    assert result.returncode == 1
    assert result.stderr == "Error: cannot attach to a stopped container, start it first\n"


def test_start_a_i_streams_stdin_and_returns_the_exit_status(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "create", "-i", "--name", "reader", "--runtime", runtime, engine_images.busybox,
        "sh", "-c", "read x; echo got $x; echo bye >&2; exit 6",
    )  # fmt: skip

    result = dockyard.run("start", "-a", "-i", "reader", input=b"abc\n", check=False)

    assert (result.returncode, result.stdout, result.stderr) == (6, "got abc\n", "bye\n")
    two = dockyard.run("start", "-a", "reader", "reader", check=False)
    assert "you cannot start and attach multiple containers at once" in two.stderr


def test_the_python_api_attaches_as_docker_py(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    from tests.integration.engine.test_api import dockyard_client

    script = "echo before; sleep 1; echo after; echo err >&2"
    with dockyard_client(dockyard) as client:
        box = client.containers.run(engine_images.busybox, ["sh", "-c", script], detach=True)
        wait_for(lambda: box.logs() == b"before\n", "the first line")

        assert box.attach(logs=True) == b"before\nafter\nerr\n"  # until it ended
        assert box.attach(logs=True, demux=True) == (b"before\nafter\n", b"err\n")  # stopped
        assert next(box.attach(logs=True, stderr=False, stream=True)) == b"before\n"
        assert box.attach() == b""  # stopped, no logs asked for


def test_attach_proxies_signals_and_returns_the_exit_status(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    script = 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
    dockyard.run("run", "-d", "--name", "trapper", engine_images.busybox, "sh", "-c", script)
    wait_for(lambda: dockyard.run("logs", "trapper").stdout == "ready\n", "the trap set")
    proc = _popen(dockyard, "attach", "trapper")
    try:
        wait_for(lambda: attached_clients(dockyard, "trapper") == 1, "the client attached")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert (proc.returncode, out) == (7, b"got-term\n")

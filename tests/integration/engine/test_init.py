"""``--init``: Debian's tini-static as pid 1 (/sbin/docker-init), as Docker runs it.

Each behaviour is shown beside the same container without ``--init``, so
the test fails if the init is not what makes the difference.
"""

from __future__ import annotations

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client
from tests.support import wait_for

#: an orphan: the subshell exits at once, its `sleep 0.2` is re-parented to pid 1 and dies
ORPHAN = "(sleep 0.2 &); exec sleep 1000"
#: a shell that takes no care of SIGTERM: as pid 1 the kernel drops the signal for it
STUBBORN = "while :; do sleep 0.1; done"


def _sleeps(dockyard: Dockyard, name: str) -> list[str]:
    """The state letter of each ``sleep`` process in the container (Z: a zombie)."""
    states = dockyard.run("exec", name, "sh", "-c", "cat /proc/[0-9]*/stat").stdout
    found = []
    for line in states.splitlines():
        comm, _, rest = line.partition(" (")[2].rpartition(") ")
        if comm == "sleep":
            found.append(rest.split()[0])
    return found


@pytest.fixture(autouse=True)
def tini() -> None:
    import os

    if not os.access("/usr/bin/tini-static", os.X_OK):
        pytest.skip("needs Debian's tini (apt-get install tini), as scripts/setup installs it")


def test_init_is_pid_1_and_reaps_orphans(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    for name, init in (("with-init", ["--init"]), ("without", [])):
        dockyard.run(
            "run", "-d", "--name", name, "--runtime", runtime, *init, engine_images.busybox,
            "sh", "-c", ORPHAN,
        )  # fmt: skip
    # the orphan dies after 0.2 s: a zombie for good without an init to reap it...
    wait_for(lambda: sorted(_sleeps(dockyard, "without")) == ["S", "Z"], "the zombie")
    # ...reaped at once with one: only `sleep 1000` is left
    wait_for(lambda: _sleeps(dockyard, "with-init") == ["S"], "the orphan reaped")

    cmdline = dockyard.run("exec", "with-init", "cat", "/proc/1/cmdline").stdout.split("\0")
    assert cmdline[:4] == ["/sbin/docker-init", "--", "sh", "-c"]
    assert sorted(_sleeps(dockyard, "without")) == ["S", "Z"]  # sleep as pid 1 never waits
    assert dockyard.inspect("with-init")["HostConfig"]["Init"] is True  # type: ignore[index]
    assert "Init" not in dockyard.inspect("without")["HostConfig"]  # type: ignore[operator]


def test_stop_ends_a_shell_that_ignores_sigterm_as_pid_1(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    for name, init in (("with-init", ["--init"]), ("without", [])):
        dockyard.run(
            "run", "-d", "--name", name, "--runtime", runtime, *init, engine_images.busybox,
            "sh", "-c", STUBBORN,
        )  # fmt: skip

    dockyard.run("stop", "-t", "60", "with-init")
    dockyard.run("stop", "-t", "1", "without")

    # 143: SIGTERM ended the shell (had it not reached it, the SIGKILL after the timeout
    # would have: 137), without a clock around the CLI's start-up on a loaded machine
    assert dockyard.inspect("with-init")["State"]["ExitCode"] == 143  # type: ignore[index]
    assert dockyard.inspect("without")["State"]["ExitCode"] == 137  # only SIGKILL ended it


def test_init_passes_signals_and_the_exit_status_on(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    status = dockyard.run(
        "run", "--rm", "--init", engine_images.busybox, "sh", "-c", "exit 7", check=False
    )
    assert status.returncode == 7

    dockyard.run(
        "run", "-d", "--init", "--name", "trap", engine_images.busybox,
        "sh", "-c", 'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 0.1; done',
    )  # fmt: skip
    wait_for(lambda: dockyard.run("logs", "trap").stdout == "ready\n", "the trap set")
    dockyard.run("kill", "-s", "USR1", "trap")
    assert dockyard.run("wait", "trap").stdout == "5\n"
    assert dockyard.run("logs", "trap").stdout == "ready\ngot-usr1\n"


def test_the_python_api_takes_init(dockyard: Dockyard, engine_images: EngineImages) -> None:
    with dockyard_client(dockyard) as client:
        box = client.containers.run(
            engine_images.busybox, ["sleep", "1000"], init=True, detach=True
        )
        assert box.attrs["HostConfig"]["Init"] is True

        def init_is_pid_1() -> bool:
            return bool(
                box.exec_run("cat /proc/1/cmdline").output.startswith(b"/sbin/docker-init\0")
            )

        wait_for(init_is_pid_1, "the init as pid 1")

"""CVE-2024-21626: a host descriptor leaked into the container, reached as the
working directory (process.cwd = /proc/self/fd/N) or through /proc/self/fd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

# What a process of the container sees of its own descriptors: stdio, and the
# one ls opens to read the directory.
LIST_FDS = 'for fd in /proc/self/fd/*; do echo "$fd $(readlink $fd)"; done'


@pytest.mark.parametrize("fd", range(3, 11))
def test_a_cwd_through_a_leaked_descriptor_stays_in_the_container(
    runtime: Runtime, bundle: Bundle, fd: int
) -> None:
    (bundle.rootfs / "etc" / "container-marker").write_text("inside\n")
    bundle.process["cwd"] = f"/proc/self/fd/{fd}"
    result = run_in_container(
        runtime, bundle, "sh", "-c", "pwd; cat /etc/container-marker; ls ../../../../etc"
    )

    if result.returncode != 0:
        return  # refused: the attack did not get a foothold
    lines = result.stdout.splitlines()
    assert lines[1] == "inside", result.stdout
    # If the cwd were a host directory, .. would climb the host's tree.
    assert "container-marker" in lines[2:], result.stdout
    assert "(unreachable)" not in lines[0], result.stdout


def test_no_host_descriptor_reaches_the_process(runtime: Runtime, bundle: Bundle) -> None:
    result = run_in_container(runtime, bundle, "sh", "-c", LIST_FDS)

    assert result.returncode == 0, result.stderr
    fds = {}
    for line in result.stdout.splitlines():
        path, _, target = line.partition(" ")
        fds[path.rsplit("/", 1)[1]] = target
    # 0-2 are the test's stdio; the glob above opened nothing that is still open.
    assert set(fds) <= {"0", "1", "2", "3"}, result.stdout
    if "3" in fds:  # a shell may keep its script open; never a directory of the host
        assert not fds["3"].startswith("/") or fds["3"].startswith("/proc/"), result.stdout


def test_the_runtime_holds_nothing_that_survives_exec(runtime: Runtime, bundle: Bundle) -> None:
    # In a created container the runtime's process waits inside the container,
    # holding descriptors of the host (the state directory, pipes): every one
    # past stdio must close on exec.
    bundle.process["args"] = ["true"]
    bundle.write()
    container = runtime.create(bundle)
    pid = runtime.state(container)["pid"]
    fd_dir = Path(f"/proc/{pid}/fd")

    leaks = []
    for entry in fd_dir.iterdir():
        if int(entry.name) < 3:
            continue
        try:
            info = (Path(f"/proc/{pid}/fdinfo") / entry.name).read_text()
            flags = int(info.split("flags:")[1].split()[0], 8)
            target = os.readlink(entry)
        except FileNotFoundError:
            continue
        if not flags & os.O_CLOEXEC:
            leaks.append(f"{entry.name} -> {target}")
    assert leaks == []

"""Fixtures for the cgroup tests on the real host: a cgroup and processes to put in it.

Everything is cleaned up even when a test fails: the processes are killed and
reaped, then the cgroup is destroyed in every hierarchy, then the parent
directory the test made. Cgroup names carry "dockyard-test" so that the
session's leak check (tests/support/leaks.py) would see a leftover.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockyard.cgroups.manager import CgroupManager, manager_for

Spawn = Callable[[str], subprocess.Popen[str]]


@pytest.fixture
def cgroup_parent() -> str:
    return f"/dockyard-test-cg-{secrets.token_hex(4)}"


@pytest.fixture
def cgroup(cgroup_parent: str) -> Iterator[CgroupManager]:
    manager = manager_for(f"{cgroup_parent}/c1", "c1")
    manager.create()
    try:
        yield manager
    finally:
        try:
            if manager.procs():
                manager.kill_all(9)
            manager.destroy()
        finally:
            for path in manager.paths().values():
                parent = Path(path).parent
                if parent.name == cgroup_parent.strip("/") and parent.exists():
                    parent.rmdir()


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """``spawn(script)``: run ``sh -c script`` with pipes; killed and reaped afterwards.

    Scripts that should start inside the cgroup begin with ``read go``: the
    test moves the process in, then writes a line to its stdin.
    """
    children: list[subprocess.Popen[str]] = []

    def start(script: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            ["sh", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        return child

    try:
        yield start
    finally:
        for child in children:
            if child.poll() is None:
                try:
                    os.kill(child.pid, 9)
                except ProcessLookupError:
                    pass
            child.communicate()

"""The benches run on machines where test sessions run too: they must leave
the host as it was for them, while they run as well as afterwards.

bench/runtime_startup runs crun, which needs a v1 hugetlb hierarchy on this
host; it once mounted one on the host's /sys/fs/cgroup for the run, and every
test session running then saw cgroups appear and vanish. Its private view
(`private_cgroup_view`, which seccomp_startup and exec_latency use too) must
keep the host's /sys/fs/cgroup, its entries and its mounts, unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import leaks, requires

pytestmark = [
    pytest.mark.integration,
    requires("root", "cgroup1", "binary:runc", "binary:crun"),
]

BENCH = Path(__file__).resolve().parents[3] / "bench" / "runtime_startup"


def host_cgroup_view() -> tuple[tuple[str, ...], tuple[tuple[Path, int], ...]]:
    """The host's /sys/fs/cgroup: its entries, and the hierarchies mounted there."""
    entries = tuple(sorted(os.listdir(leaks.CGROUP_ROOT)))
    return entries, tuple(sorted(leaks.cgroup_mounts().items()))


def test_runtime_startup_runs_crun_without_changing_the_hosts_cgroups() -> None:
    before = host_cgroup_view()
    runtime = Path(sys.executable).parent / "dockyard-runtime"
    bench = subprocess.Popen(
        [sys.executable, BENCH, "--runs", "1", "--runtime", runtime],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = set()
    while bench.poll() is None:  # as a test session running beside it sees it
        seen.add(host_cgroup_view())
    output = bench.communicate()[0]

    assert bench.returncode == 0, output
    assert "crun" in output.split("\n")[-2], output  # crun ran, and was timed
    assert seen | {host_cgroup_view()} == {before}

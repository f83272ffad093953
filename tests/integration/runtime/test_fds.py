"""Descriptors: none of the runtime's reaches the container, --preserve-fds
hands on exactly the ones asked for, and process.cwd cannot be one that
leads outside the root (CVE-2024-21626)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.runtime.containers import use_script
from tests.integration.runtime.inside import probe, run_probe
from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

# Every descriptor ls inherited, with what it points at; ls adds one, the
# directory it reads. (A shell loop would add pipes and saved descriptors.)
LIST_FDS = "ls -l /proc/self/fd"


def descriptors(output: str) -> dict[int, str]:
    """{fd: target} from ``ls -l`` lines: ``... 3 -> /given``."""
    fds = {}
    for line in output.splitlines():
        name, arrow, target = line.partition(" -> ")
        if arrow:
            fds[int(name.split()[-1])] = target
    return fds


def without_the_listing(fds: dict[int, str]) -> dict[int, str]:
    """Drop the descriptor of the /proc/PID/fd directory being listed."""
    return {fd: target for fd, target in fds.items() if not target.endswith("/fd")}


def test_only_stdio_reaches_the_process(runtime: Runtime, bundle: Bundle) -> None:
    fds = descriptors(probe(runtime, bundle, LIST_FDS))

    assert sorted(without_the_listing(fds)) == [0, 1, 2], fds


def test_ls_sees_only_stdio_and_its_own_directory(runtime: Runtime, bundle: Bundle) -> None:
    assert probe(runtime, bundle, "ls /proc/self/fd").split() == ["0", "1", "2", "3"]


def test_a_started_container_has_only_stdio(runtime: Runtime, bundle: Bundle) -> None:
    # create and start separately: what the runtime held at create must be gone.
    use_script(bundle, f"{LIST_FDS} > /tmp/fds.new && mv /tmp/fds.new /tmp/fds")
    container_id = runtime.create(bundle)
    runtime.start(container_id)
    runtime.wait_for_status(container_id, "stopped")

    fds = descriptors((bundle.rootfs / "tmp/fds").read_text())
    assert sorted(without_the_listing(fds)) == [0, 1, 2], fds


def test_preserve_fds_passes_exactly_the_ones_asked_for(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    given = tmp_path / "given"
    given.write_text("through fd 3\n")
    read_end, write_end = os.pipe()
    extra = tmp_path / "not-preserved"
    extra.write_text("")
    fds = [os.open(given, os.O_RDONLY), write_end, os.open(extra, os.O_RDONLY)]
    try:
        use_script(bundle, f"cat <&3; echo through fd 4 >&4; {LIST_FDS}")

        result = runtime(
            "run", "--preserve-fds", "2", "--bundle", bundle.path, runtime.new_id(),
            pass_fds=fds,
        )  # fmt: skip

        os.close(write_end)
        fds.remove(write_end)
        piped = os.read(read_end, 4096)
    finally:
        for fd in [read_end, *fds]:
            os.close(fd)

    lines = result.stdout.splitlines()
    assert lines[0] == "through fd 3"
    assert piped == b"through fd 4\n"
    seen = without_the_listing(descriptors("\n".join(lines[1:])))
    assert sorted(seen) == [0, 1, 2, 3, 4], seen  # not 5: only 2 were preserved
    assert seen[3].endswith("/given")
    assert seen[4].startswith("pipe:")


def test_without_preserve_fds_extra_descriptors_stay_out(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    fd = os.open(tmp_path / "file", os.O_RDONLY)
    try:
        use_script(bundle, LIST_FDS)
        result = runtime("run", "--bundle", bundle.path, runtime.new_id(), pass_fds=[fd])
    finally:
        os.close(fd)

    assert sorted(without_the_listing(descriptors(result.stdout))) == [0, 1, 2]


# Climb from the working directory as far as .. goes: inside the container
# that is its root, where the marker is; from a host directory, the host's /.
CLIMB = "cd -P . && for i in $(seq 40); do cd -P ..; done; ls -a"
MARKER = ".dockyard-container-root"


@pytest.mark.parametrize(
    "cwd", [*(f"/proc/self/fd/{fd}" for fd in range(3, 9)), "/proc/1/cwd", "/../../../.."]
)
def test_a_cwd_cannot_lead_outside_the_root(runtime: Runtime, bundle: Bundle, cwd: str) -> None:
    (bundle.rootfs / MARKER).write_text("")
    bundle.process["cwd"] = cwd

    result = run_probe(runtime, bundle, CLIMB)

    # Refused, or contained: then .. ends at the container's root.
    if result.returncode == 0:
        assert MARKER in result.stdout.split(), result.stdout


def test_a_cwd_through_dotdot_is_contained(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/../../../tmp"

    assert probe(runtime, bundle, "pwd -P") == "/tmp\n"

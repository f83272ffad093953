"""A hostile image: /proc, /dev or /sys replaced by symlinks to host paths, and
masked or read-only paths that are symlinks out of the rootfs. The runtime
must refuse cleanly or keep every mount inside the rootfs; the host
directory the links point at stays as it was, with nothing mounted on it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, requires, run_in_container
from tests.support.leaks import mounts_under, unmount

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A directory of the host outside the bundle, with a file the container must not see."""
    # A name of its own (tmp_path's is the same in every session running this
    # test), searchable by the container's users as a plain mkdir makes it.
    path = Path(tempfile.mkdtemp(prefix="dockyard-test-", suffix="-host", dir="/var/tmp"))
    path.chmod(0o755)
    (path / "host-secret").write_text("host\n")
    yield path
    points = mounts_under(path)
    unmount(points)
    shutil.rmtree(path)
    assert points == [], f"mounted on the host directory: {points}"


def unchanged(host_dir: Path) -> None:
    assert sorted(p.name for p in host_dir.iterdir()) == ["host-secret"]
    assert (host_dir / "host-secret").read_text() == "host\n"
    assert mounts_under(host_dir) == []


def replace_with_link(bundle: Bundle, name: str, target: str) -> None:
    path = bundle.rootfs / name
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    path.symlink_to(target)


@pytest.mark.parametrize("name", ["proc", "sys", "dev"])
@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_a_mount_point_linked_to_the_host(
    runtime: Runtime, bundle: Bundle, host_dir: Path, name: str, style: str
) -> None:
    if name == "dev" and runtime.name == "runc":
        pytest.xfail(
            "runc 1.1.5 follows a /dev symlink when it makes /dev/fd, /dev/stdin...: "
            "it creates them in the host directory"
        )
    target = str(host_dir) if style == "absolute" else "../../../../../.." + str(host_dir)
    replace_with_link(bundle, name, target)
    result = run_in_container(
        runtime, bundle, "sh", "-c", f"ls /{name}/ | grep -c host-secret; cat /proc/self/mountinfo"
    )

    unchanged(host_dir)
    if result.returncode == 0:
        assert result.stdout.split("\n", 1)[0] == "0", result.stdout  # the host dir is not seen
        assert str(host_dir) not in result.stdout.split("\n", 1)[1] or (
            # mounted inside the rootfs where the link leads, as the container sees it
            f" {host_dir} " in result.stdout
        )
    else:
        assert result.stderr.strip(), "a refusal says why"


def test_masked_and_readonly_paths_that_are_symlinks_out(
    runtime: Runtime, bundle: Bundle, host_dir: Path
) -> None:
    (bundle.rootfs / "masked-link").symlink_to(str(host_dir))
    (bundle.rootfs / "masked-file-link").symlink_to(str(host_dir / "host-secret"))
    (bundle.rootfs / "ro-link").symlink_to("../../../.." + str(host_dir))
    bundle.config["linux"]["maskedPaths"] += ["/masked-link", "/masked-file-link"]
    bundle.config["linux"]["readonlyPaths"] += ["/ro-link"]
    result = run_in_container(runtime, bundle, "sh", "-c", "cat /masked-file-link; ls /ro-link/")

    unchanged(host_dir)
    assert "host" not in result.stdout


def test_masked_paths_hide_what_they_mask(runtime: Runtime, bundle: Bundle) -> None:
    script = (
        "for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do "
        '  [ -e $f ] && echo "$f $(wc -c < $f)"; '
        "done; echo /sys/firmware $(ls /sys/firmware | wc -l)"
    )
    result = run_in_container(runtime, bundle, "sh", "-c", script)

    assert result.returncode == 0, result.stderr
    sizes = dict(line.split() for line in result.stdout.splitlines())
    assert "/sys/firmware" in sizes and len(sizes) > 1, result.stdout
    assert set(sizes.values()) == {"0"}, sizes

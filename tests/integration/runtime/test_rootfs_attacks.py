"""Every path from the spec is resolved inside the container's root, whatever
symlinks the image holds: a hostile image cannot make the runtime mount,
make device nodes or mask paths on the host (runc's CVE-2021-30465 and kin).

Each image here has a symlink to an absolute path of a real host directory
(``host_dir``); the work must land at that path inside the rootfs, and the
host directory must stay empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.runtime.inside import mount_at, mounts_in, probe, run_probe
from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


def link_to_host(bundle: Bundle, link: str, host_dir: Path) -> Path:
    """Put ``link -> host_dir`` (absolute) in the image; return where
    ``host_dir`` is inside the rootfs, where resolving the link must lead."""
    (bundle.rootfs / link.lstrip("/")).symlink_to(host_dir)
    return bundle.rootfs / str(host_dir).lstrip("/")


def assert_untouched(host_dir: Path) -> None:
    assert list(host_dir.iterdir()) == []
    with open("/proc/self/mountinfo") as mountinfo:
        assert f" {host_dir}" not in mountinfo.read()


def test_a_mount_through_a_symlink_lands_in_the_rootfs(
    runtime: Runtime, bundle: Bundle, host_dir: Path
) -> None:
    inside = link_to_host(bundle, "/mnt", host_dir)
    bundle.config["mounts"].append(
        {"destination": "/mnt/data", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}
    )

    entry = mount_at(mounts_in(runtime, bundle), f"{host_dir}/data")

    assert entry.fstype == "tmpfs"
    assert (inside / "data").is_dir()
    assert_untouched(host_dir)


def test_a_bind_mount_through_a_symlink_lands_in_the_rootfs(
    runtime: Runtime, bundle: Bundle, host_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "file").write_text("bound\n")
    link_to_host(bundle, "/mnt", host_dir)
    bundle.config["mounts"].append(
        {"destination": "/mnt/data", "type": "bind", "source": str(source), "options": ["bind"]}
    )

    assert probe(runtime, bundle, "cat /mnt/data/file") == "bound\n"
    assert_untouched(host_dir)


def test_a_device_through_a_symlink_lands_in_the_rootfs(
    runtime: Runtime, bundle: Bundle, host_dir: Path
) -> None:
    # No /dev tmpfs: the image's own /dev, with the link in it, is used.
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev"]
    inside = link_to_host(bundle, "/dev/sneaky", host_dir)
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/sneaky/null2", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666}
    ]

    out = probe(runtime, bundle, "stat -c '%F %t:%T' /dev/sneaky/null2")

    assert out == "character special file 1:3\n"
    assert (inside / "null2").is_char_device()
    assert_untouched(host_dir)


def test_a_masked_path_through_a_symlink_is_masked_in_the_rootfs(
    runtime: Runtime, bundle: Bundle, host_dir: Path
) -> None:
    inside = link_to_host(bundle, "/secrets", host_dir)
    inside.mkdir(parents=True)
    (inside / "key").write_text("secret\n")
    (host_dir / "host-file").write_text("host\n")
    bundle.config["linux"]["maskedPaths"].append("/secrets")

    out = probe(runtime, bundle, "ls -A /secrets; ls -A /secrets/")

    assert out == ""
    assert [p.name for p in host_dir.iterdir()] == ["host-file"]
    (host_dir / "host-file").unlink()
    assert_untouched(host_dir)


def test_a_readonly_path_through_a_symlink_is_readonly_in_the_rootfs(
    runtime: Runtime, bundle: Bundle, host_dir: Path
) -> None:
    inside = link_to_host(bundle, "/config", host_dir)
    inside.mkdir(parents=True)
    bundle.config["linux"]["readonlyPaths"].append("/config")

    result = run_probe(runtime, bundle, "touch /config/new", writable_root=True)

    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert_untouched(host_dir)


@pytest.mark.parametrize("target", ["/", "host_dir"])
def test_proc_as_a_symlink_is_refused(
    runtime: Runtime, bundle: Bundle, host_dir: Path, target: str
) -> None:
    # runc refuses ("must be mounted on ordinary directory"); mounting proc
    # through the link anywhere would be the CVE-2019-16884 family.
    (bundle.rootfs / "proc").rmdir()
    (bundle.rootfs / "proc").symlink_to(host_dir if target == "host_dir" else target)

    result = run_probe(runtime, bundle, "echo started")

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert result.stderr.strip()
    assert_untouched(host_dir)


def test_a_cwd_through_a_symlink_stays_in_the_rootfs(
    runtime: Runtime, bundle: Bundle, host_dir: Path
) -> None:
    inside = link_to_host(bundle, "/work", host_dir)
    inside.mkdir(parents=True)
    (inside / "here").write_text("")
    bundle.process["cwd"] = "/work"

    assert probe(runtime, bundle, "ls") == "here\n"
    assert_untouched(host_dir)

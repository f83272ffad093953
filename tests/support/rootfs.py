"""A busybox root filesystem made offline from the host's static busybox.

The rootfs is ``bin/busybox`` plus one symlink per applet, a few ``/etc``
files and the empty directories a runtime mounts over. It is built once per
session (`build_rootfs`) and copied per test (`copy_rootfs`): ``cp -a`` of
it takes about 20 ms, a fresh build several times that.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HOST_BUSYBOX = Path("/bin/busybox")

# Users the tests switch to: root, an unprivileged ``test`` and ``nobody``.
PASSWD = """\
root:x:0:0:root:/root:/bin/sh
test:x:1000:1000:test:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
# tty (gid 5) because the default /dev/pts mount uses gid=5.
GROUP = """\
root:x:0:
tty:x:5:
test:x:1000:
nogroup:x:65534:
"""
EMPTY_DIRS = ("proc", "sys", "dev", "tmp", "etc", "root")


def busybox_applets(busybox: Path = HOST_BUSYBOX) -> list[str]:
    listing = subprocess.run(
        [str(busybox), "--list"], check=True, capture_output=True, text=True
    ).stdout
    # "busybox" is an applet too; linking it would replace the binary.
    return [name for name in listing.split() if name != "busybox"]


def build_rootfs(dest: Path, busybox: Path = HOST_BUSYBOX) -> Path:
    """Create a busybox rootfs at ``dest`` (which must not exist yet)."""
    dest.mkdir(parents=True)
    bin_dir = dest / "bin"
    bin_dir.mkdir()
    shutil.copy2(busybox, bin_dir / "busybox")
    for applet in busybox_applets(busybox):
        (bin_dir / applet).symlink_to("busybox")
    for name in EMPTY_DIRS:
        (dest / name).mkdir(exist_ok=True)
    (dest / "tmp").chmod(0o1777)
    (dest / "root").chmod(0o700)
    (dest / "etc" / "passwd").write_text(PASSWD)
    (dest / "etc" / "group").write_text(GROUP)
    return dest


def copy_rootfs(source: Path, dest: Path) -> Path:
    """Give a test its own copy of a built rootfs (``dest`` must not exist)."""
    subprocess.run(["cp", "-a", "--", str(source), str(dest)], check=True)
    return dest

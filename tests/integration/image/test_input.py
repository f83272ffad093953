"""Disk and bad input: layers that try to fill the disk, full disks, odd archives, odd outputs."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_entries,
    write_layout,
)
from tests.integration.image.conftest import Dockyard, Registry

pytestmark = pytest.mark.integration

CAP_NET_RAW = 13
# struct vfs_cap_data, revision 2: magic with the effective flag, then two (permitted,
# inheritable) pairs of 32-bit masks: cap_net_raw=ep, what `setcap cap_net_raw=ep` writes
NET_RAW_EP = struct.pack("<IIIII", 0x02000000 | 1, 1 << CAP_NET_RAW, 0, 0, 0)


def test_file_capabilities_survive_a_pull(
    dockyard: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    ping, data = file_entry("bin/ping", b"#!/bin/sh\n", 0o755)
    # written as the raw bytes: tarfile marks the record hdrcharset=BINARY
    ping.pax_headers = {
        "SCHILY.xattr.security.capability": NET_RAW_EP.decode("utf-8", "surrogateescape")
    }
    owned, owned_data = file_entry("bin/tool", b"tool\n", 0o4755)
    owned.uid = owned.gid = 1000
    owned.pax_headers = dict(ping.pax_headers)
    layer = make_layer(tar_entries([dir_entry("bin"), (ping, data), (owned, owned_data)]))
    name = f"{registry.host}/test/caps:1"
    write_layout(tmp_path / "layout", {"docker.io/library/caps:1": [Image([layer])]})
    dockyard.run("load", "-i", str(tmp_path / "layout"))
    dockyard.run("tag", "caps:1", name)
    dockyard.run("push", name)
    dockyard.run("rmi", name, "caps:1")

    dockyard.run("pull", name)

    (chain,) = (dockyard.root / "layers").iterdir()
    for path, uid, mode in (("bin/ping", 0, 0o755), ("bin/tool", 1000, 0o4755)):
        target = chain / "diff" / path
        assert os.getxattr(target, "security.capability") == NET_RAW_EP, path
        st = target.stat()
        assert (st.st_uid, st.st_mode & 0o7777) == (uid, mode), path
        shown = subprocess.run(["getcap", str(target)], capture_output=True, text=True).stdout
        assert "cap_net_raw=ep" in shown, shown

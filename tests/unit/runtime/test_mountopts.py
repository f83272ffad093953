from __future__ import annotations

import pytest

from dockyard.errors import Unsupported
from dockyard.linux import libc as L
from dockyard.runtime.mountopts import MountOptions, locked_flags


def test_flags_data_and_propagation_are_split() -> None:
    opts = MountOptions(["rbind", "ro", "nosuid", "rslave", "mode=755", "size=1m"], "m")
    assert opts.flags == L.MS_BIND | L.MS_REC | L.MS_RDONLY | L.MS_NOSUID
    assert opts.propagation == [L.MS_SLAVE | L.MS_REC]
    assert opts.data == "mode=755,size=1m"
    assert opts.is_bind


def test_later_options_win() -> None:
    assert MountOptions(["ro", "rw"], "m").flags & L.MS_RDONLY == 0
    assert MountOptions(["nodev", "dev", "nodev"], "m").flags & L.MS_NODEV


def test_recursive_options_use_mount_setattr_bits() -> None:
    opts = MountOptions(["rbind", "rro", "rnosuid", "rnoatime"], "m")
    assert opts.rec_set == L.MOUNT_ATTR_RDONLY | L.MOUNT_ATTR_NOSUID | L.MOUNT_ATTR_NOATIME
    assert opts.rec_clear & L.MOUNT_ATTR__ATIME


def test_unsupported_options_name_the_field() -> None:
    with pytest.raises(Unsupported, match=r"mounts\[2\].options.*idmap"):
        MountOptions(["bind", "idmap"], "mounts[2].options")


def test_locked_flags_from_statvfs() -> None:
    assert locked_flags(1 | 2 | 4 | 8) == L.MS_RDONLY | L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC

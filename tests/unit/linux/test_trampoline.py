"""The exec trampoline's memfd: executable where vm.memfd_noexec would make it
otherwise (MFD_EXEC), made on kernels that predate the flag, never faked."""

from __future__ import annotations

import errno
import os
import posix
from collections.abc import Callable

import pytest

from dockyard.linux import trampoline

pytestmark = pytest.mark.skipif(
    trampoline.program() is None, reason="no trampoline for this architecture yet"
)

MemfdCreate = Callable[[str, int], int]


def recording_memfd_create(
    monkeypatch: pytest.MonkeyPatch, refuse_exec_with: int | None
) -> list[int]:
    """posix.memfd_create, recording its flags; MFD_EXEC refused with that errno."""
    real: MemfdCreate = posix.memfd_create
    calls: list[int] = []

    def memfd_create(name: str, flags: int = posix.MFD_CLOEXEC) -> int:
        calls.append(flags)
        if refuse_exec_with is not None and flags & trampoline.MFD_EXEC:
            raise OSError(refuse_exec_with, os.strerror(refuse_exec_with))
        return real(name, flags & ~trampoline.MFD_EXEC if refuse_exec_with else flags)

    monkeypatch.setattr(posix, "memfd_create", memfd_create)
    return calls


def test_the_trampoline_is_asked_for_as_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = recording_memfd_create(monkeypatch, None)
    fd = trampoline.make(10)
    assert fd is not None
    try:
        assert fd >= 10
        assert calls == [posix.MFD_CLOEXEC | posix.MFD_ALLOW_SEALING | trampoline.MFD_EXEC]
        assert os.access(f"/proc/self/fd/{fd}", os.X_OK)
        assert os.read(fd, 4) == b"\x7fELF"
    finally:
        os.close(fd)


def test_a_kernel_without_mfd_exec_gets_the_plain_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = recording_memfd_create(monkeypatch, errno.EINVAL)  # before Linux 6.3
    fd = trampoline.make()
    assert fd is not None
    os.close(fd)

    assert [flags & trampoline.MFD_EXEC for flags in calls] == [trampoline.MFD_EXEC, 0]


def test_memfd_noexec_2_is_an_error_not_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = recording_memfd_create(monkeypatch, errno.EACCES)  # vm.memfd_noexec = 2
    with pytest.raises(PermissionError):
        trampoline.make()

    assert len(calls) == 1

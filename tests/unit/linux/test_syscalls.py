"""System call numbers per architecture: checked against libseccomp's own tables."""

from __future__ import annotations

import errno

import pytest

from dockyard.linux import seccomp, syscalls

NAMES = sorted({*syscalls._GENERIC, *syscalls._SINCE_5_1})


@pytest.mark.parametrize("arch", sorted(syscalls._TABLES))
def test_the_table_matches_libseccomp(arch: str) -> None:
    seccomp.load_library()
    token = seccomp.resolve_arch(arch)
    assert token, f"libseccomp does not know {arch}"
    table = {**syscalls._TABLES[arch], **syscalls._SINCE_5_1}

    theirs = {name: seccomp.resolve_syscall(name, token) for name in NAMES}

    assert {name: table[name] for name in NAMES} == theirs


def test_keyctl_on_ppc64le_is_not_tgkill() -> None:
    # The old fallback gave every unlisted architecture x86_64's 250.
    assert syscalls._TABLES["ppc64le"]["keyctl"] == 271


def test_this_machine_has_its_numbers() -> None:
    assert syscalls.ARCH in syscalls._TABLES
    assert syscalls.number("pivot_root") == syscalls._TABLES[syscalls.ARCH]["pivot_root"]


def unknown_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syscalls, "MACHINE", "loongarch64")
    monkeypatch.setattr(syscalls, "_known", {})


def test_elsewhere_libseccomp_gives_the_number(monkeypatch: pytest.MonkeyPatch) -> None:
    unknown_machine(monkeypatch)
    seccomp.load_library()

    assert syscalls.number("keyctl") == seccomp.resolve_syscall("keyctl")


def test_without_libseccomp_an_unknown_machine_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unknown_machine(monkeypatch)

    def missing() -> None:
        raise OSError(errno.ENOENT, "cannot load libseccomp.so.2")

    monkeypatch.setattr(seccomp, "load_library", missing)

    with pytest.raises(OSError) as refused:
        syscalls.number("keyctl")

    assert refused.value.errno == errno.ENOSYS
    assert "keyctl system call on loongarch64 is not known" in str(refused.value)

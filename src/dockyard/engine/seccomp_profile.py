"""``--security-opt seccomp=FILE``: a profile in Docker's format -> the spec's linux.seccomp.

Docker's profiles (its own default.json and the ones users write from it)
carry conditions the runtime spec does not have: ``includes``/``excludes``
on capabilities, architectures and the kernel version, and an ``archMap``
of architectures. They are settled here for one container, the way
Docker's daemon does before it hands the profile to runc; a profile
already in the spec's form passes through unchanged.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_DROPPED = ("includes", "excludes", "comment")


def _kernel_tuple(text: str) -> tuple[int, int]:
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise InvalidArgument(f"seccomp profile: minKernel {text!r} is not a version") from None


def _holds(cond: dict[str, Any], caps: set[str], arch: str, kernel: tuple[int, int]) -> bool:
    """True if every part of an includes block holds."""
    if cond.get("caps") and not set(cond["caps"]) <= caps:
        return False
    if cond.get("arches") and arch not in cond["arches"]:
        return False
    return not (cond.get("minKernel") and kernel < _kernel_tuple(str(cond["minKernel"])))


def _excluded(cond: dict[str, Any], caps: set[str], arch: str, kernel: tuple[int, int]) -> bool:
    """True if any part of an excludes block matches."""
    if cond.get("caps") and set(cond["caps"]) & caps:
        return True
    if cond.get("arches") and arch in cond["arches"]:
        return True
    return bool(cond.get("minKernel") and kernel >= _kernel_tuple(str(cond["minKernel"])))


def convert(
    profile: dict[str, Any],
    caps: list[str],
    arch: str,
    kernel: tuple[int, int],
    scmp_arches: tuple[str, ...],
) -> dict[str, Any]:
    out = {k: v for k, v in profile.items() if k not in ("archMap", "syscalls")}
    arch_map = profile.get("archMap")
    if isinstance(arch_map, list) and "architectures" not in profile:
        for entry in arch_map:
            if isinstance(entry, dict) and entry.get("architecture") in scmp_arches[:1]:
                out["architectures"] = [entry["architecture"], *entry.get("subArchitectures", [])]
    have = set(caps)
    syscalls = []
    for rule in profile.get("syscalls") or []:
        if not isinstance(rule, dict):
            raise InvalidArgument("seccomp profile: each syscalls entry must be an object")
        if not _holds(rule.get("includes") or {}, have, arch, kernel):
            continue
        if _excluded(rule.get("excludes") or {}, have, arch, kernel):
            continue
        cleaned = {k: v for k, v in rule.items() if k not in _DROPPED}
        if "name" in cleaned and "names" not in cleaned:
            cleaned["names"] = [cleaned.pop("name")]
        syscalls.append(cleaned)
    out["syscalls"] = syscalls
    return out


def from_docker_profile(text: str, caps: list[str]) -> dict[str, Any]:
    from dockyard.runtime.seccomp_default import ARCHITECTURES, kernel_version, machine_arch

    try:
        profile = jsonio.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"decoding seccomp profile failed: {exc}") from None
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        raise InvalidArgument("seccomp profile: not a profile (no defaultAction)")
    arch = machine_arch()
    return convert(profile, caps, arch, kernel_version(), ARCHITECTURES.get(arch, ()))

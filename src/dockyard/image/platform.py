"""Platforms (os/architecture/variant): the host's, ``--platform`` text, choosing from an index."""

from __future__ import annotations

import os

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.image_spec import Descriptor, Index, Platform

_MACHINES = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}


def host_platform() -> Platform:
    machine = os.uname().machine
    arch, variant = _MACHINES.get(machine, (machine, ""))
    return Platform(os="linux", architecture=arch, variant=variant)


def parse_platform(text: str) -> Platform:
    """``linux/arm64/v8``, ``linux/amd64``, ``arm64`` (os defaults to linux)."""
    parts = text.strip().lower().split("/")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise InvalidArgument(f"invalid platform {text!r}: expected os/arch[/variant]")
    if len(parts) == 1:
        parts = ["linux", parts[0]]
    os_name, arch = parts[0], _ARCH_ALIASES.get(parts[1], parts[1])
    variant = parts[2] if len(parts) == 3 else ""
    return normalize(Platform(os=os_name, architecture=arch, variant=variant))


def normalize(platform: Platform) -> Platform:
    arch = _ARCH_ALIASES.get(platform.architecture, platform.architecture)
    variant = platform.variant
    if arch == "arm64" and variant == "v8":
        variant = ""
    return Platform(os=platform.os, architecture=arch, variant=variant)


def matches(wanted: Platform, offered: Platform) -> bool:
    """Does ``offered`` (from an index or a config) run where ``wanted`` is asked for?

    A missing variant on either side matches any variant (arm64's v8 is its default).
    """
    w, o = normalize(wanted), normalize(offered)
    if w.os != o.os or w.architecture != o.architecture:
        return False
    return not w.variant or not o.variant or w.variant == o.variant


def _variant_rank(wanted: Platform, offered: Platform) -> int:
    w, o = normalize(wanted), normalize(offered)
    if w.variant == o.variant:
        return 0
    return 1 if not o.variant else 2


def select(index: Index, wanted: Platform) -> Descriptor:
    """The manifest in ``index`` for ``wanted``; an exact variant beats a missing one."""
    candidates = [
        d
        for d in index.manifests
        if d.platform is not None
        and matches(wanted, d.platform)
        and d.annotations.get("vnd.docker.reference.type") != "attestation-manifest"
    ]
    if not candidates:
        offered = ", ".join(str(d.platform) for d in index.manifests if d.platform) or "none"
        raise NotFound(
            f"no image for platform {wanted} in the manifest list (it has: {offered}); "
            "choose one with --platform"
        )
    candidates.sort(key=lambda d: _variant_rank(wanted, d.platform or wanted))
    return candidates[0]

"""Helpers for the security tests: the probe binary, seccomp profiles, results."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support import Bundle

PROBE_SOURCE = Path(__file__).with_name("probe.c")


def build_probe(dest: Path) -> tuple[Path | None, str]:
    """(path of the static probe, "") or (None, why it could not be built)."""
    if shutil.which("gcc") is None:
        return None, "gcc is not on PATH (Debian: gcc, libc6-dev)"
    result = subprocess.run(
        ["gcc", "-static", "-O1", "-o", str(dest), str(PROBE_SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None, f"gcc -static failed (Debian: libc6-dev): {result.stderr.strip()[-300:]}"
    return dest, ""


def add_probe(bundle: Bundle, probe: Path) -> str:
    """Copy the probe into the bundle's rootfs; its path inside the container."""
    shutil.copy2(probe, bundle.rootfs / "probe")
    return "/probe"


def probe_results(stdout: str) -> dict[str, tuple[str, int]]:
    """{"sys:mkdirat": ("errno", 1), "open": ("ok", 0)...}; a repeated op keeps its last."""
    results = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("ok", "errno"):
            results[parts[0]] = (parts[1], int(parts[2]))
    return results


#: what `seccomp` sets noNewPrivileges to when a test does not say: the
#: ``no_new_privileges`` fixture of the seccomp tests runs each both ways
NO_NEW_PRIVILEGES = {"default": True}


def seccomp(bundle: Bundle, profile: dict[str, Any], no_new_privileges: bool | None = None) -> None:
    """Give the bundle ``profile``; noNewPrivileges decides where the runtime
    installs it (last before exec, or before the capabilities go)."""
    if no_new_privileges is None:
        no_new_privileges = NO_NEW_PRIVILEGES["default"]
    bundle.config["linux"]["seccomp"] = profile
    bundle.process["noNewPrivileges"] = no_new_privileges
    bundle.write()


def docker_default_profile(bundle: Bundle) -> dict[str, Any]:
    from dockyard.runtime.seccomp_default import default_seccomp

    return default_seccomp(bundle.process["capabilities"]["bounding"])

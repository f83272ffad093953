"""Look from inside a container: run a busybox script there, read what it saw.

The spec-feature tests (namespaces, mounts, devices, process...) change a
bundle's config, run one ``sh -c`` probe as the container's process and assert
on its output. Helpers here run the probe, parse /proc/self/mountinfo and
/proc/self/status lines, and mark what runc 1.1 does not do the spec's way.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import pytest

from tests.support.bundle import Bundle
from tests.support.runtime import Runtime, run_in_container, runtime_under_test

RUNTIME_NAME = runtime_under_test()[0]


def not_on_runc(reason: str) -> pytest.MarkDecorator:
    """Skip a test where runc (1.1.5 here) deviates from the spec or lacks a feature."""
    return pytest.mark.skipif(RUNTIME_NAME == "runc", reason=f"runc 1.1: {reason}")


def run_probe(
    runtime: Runtime, bundle: Bundle, script: str, writable_root: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``sh -c script`` as the container's process; its status and output."""
    bundle.config["root"]["readonly"] = not writable_root
    return run_in_container(runtime, bundle, "sh", "-c", script)


def probe(runtime: Runtime, bundle: Bundle, script: str, writable_root: bool = False) -> str:
    """`run_probe` that must succeed; the script's stdout."""
    result = run_probe(runtime, bundle, script, writable_root)
    assert result.returncode == 0, f"probe exited {result.returncode}: {result.stderr}"
    return result.stdout


def probe_lines(runtime: Runtime, bundle: Bundle, script: str) -> list[str]:
    return probe(runtime, bundle, script).splitlines()


def assert_refused(result: subprocess.CompletedProcess[str], *field: str) -> None:
    """The runtime refused the config: non-zero and an error. Dockyard's error
    must also name the config field (runc's wording is its own)."""
    assert result.returncode != 0, f"expected a refusal, got {result.stdout!r}"
    assert result.stderr.strip()
    if RUNTIME_NAME == "dockyard":
        for name in field:
            assert name in result.stderr, f"{name!r} not named in {result.stderr!r}"


# ---------------------------------------------------------------- /proc/self/mountinfo


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/PID/mountinfo."""

    root: str
    mount_point: str
    options: frozenset[str]  # per-mount: ro, nosuid, noatime...
    optional: tuple[str, ...]  # propagation: shared:N, master:N, unbindable
    fstype: str
    source: str
    super_options: frozenset[str]  # per-superblock: size=..., mode=...

    @property
    def propagation(self) -> set[str]:
        """``{"shared", "master"}`` and the like, without the group numbers."""
        return {field.split(":")[0] for field in self.optional}


def parse_mountinfo(text: str) -> list[MountEntry]:
    entries = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        fstype, source, super_options = right.split(" ", 2)
        entries.append(
            MountEntry(
                root=fields[3],
                mount_point=fields[4],
                options=frozenset(fields[5].split(",")),
                optional=tuple(fields[6:]),
                fstype=fstype,
                source=source,
                super_options=frozenset(super_options.split(",")),
            )
        )
    return entries


def mount_at(entries: list[MountEntry], mount_point: str) -> MountEntry:
    """The visible (last) mount at ``mount_point``."""
    found = [entry for entry in entries if entry.mount_point == mount_point]
    assert found, f"nothing is mounted at {mount_point}: {[e.mount_point for e in entries]}"
    return found[-1]


def mounts_in(runtime: Runtime, bundle: Bundle, script: str = "") -> list[MountEntry]:
    """Run ``script`` (if any), then read the container's mount table."""
    return parse_mountinfo(probe(runtime, bundle, f"{script}\ncat /proc/self/mountinfo"))


# ---------------------------------------------------------------- /proc/self/status


def status_fields(text: str) -> dict[str, str]:
    """``Name:\tvalue`` lines of /proc/PID/status as a dict."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value.strip()
    return fields

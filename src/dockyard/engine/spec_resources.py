"""The run options beyond the common limits, into config.json as Docker's daemon puts them.

``--cpu-period``/``--cpu-quota``, ``--blkio-weight``, ``--memory-swappiness``,
``--oom-kill-disable``, ``--device-cgroup-rule`` (``linux.resources``),
``--oom-score-adj`` (``process.oomScoreAdj``) and ``--cgroupns`` (the cgroup
namespace). Each value is checked here with the daemon's own words, at
``create``, so a bad one makes no container.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.types import HostConfig


MIN_MEMORY = 6 << 20  # Docker's daemon's floor for a memory limit or reservation


def check(host: HostConfig) -> None:
    """Refuse what Docker's daemon refuses, in its words."""
    if 0 < host.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if 0 < host.memory_reservation < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    if host.nano_cpus and host.cpu_period:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if host.nano_cpus and host.cpu_quota:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if host.cpu_period and not 1000 <= host.cpu_period <= 1_000_000:
        raise InvalidArgument(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        )
    if host.cpu_quota and 0 < host.cpu_quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if host.blkio_weight and not 10 <= host.blkio_weight <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    swappiness = host.memory_swappiness
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidArgument(
            f"Invalid value: {swappiness}, valid memory swappiness range is 0-100"
        )
    if not -1000 <= host.oom_score_adj <= 1000:
        raise InvalidArgument(
            f"Invalid value {host.oom_score_adj}, range for oom score adj is [-1000, 1000]"
        )
    if host.cgroupns_mode not in ("", "host", "private"):
        raise InvalidArgument(f"invalid cgroup namespace mode: {host.cgroupns_mode}")
    for rule in host.device_cgroup_rules:
        device_rule(rule)


def settle(host: HostConfig, warn: Any) -> None:
    """What Docker's daemon fills in or drops at create: the swap limit twice the memory
    limit when only that is given; a blkio weight this kernel cannot take (saying so)."""
    if host.memory > 0 and host.memory_swap == 0:
        host.memory_swap = host.memory * 2
    if host.blkio_weight and not _blkio_weight_supported():
        warn(
            "WARNING: Your kernel does not support Block I/O weight or the cgroup is not "
            "mounted. Weight discarded.\n"
        )
        host.blkio_weight = 0


def _blkio_weight_supported() -> bool:
    import posix

    for path in (
        "/sys/fs/cgroup/blkio/blkio.weight",
        "/sys/fs/cgroup/blkio/blkio.bfq.weight",
        "/sys/fs/cgroup/cgroup.controllers",  # v2: io.weight is there wherever io is enabled
    ):
        try:
            posix.stat(path)
        except OSError:
            continue
        if not path.endswith("controllers"):
            return True
        with open(path, encoding="ascii") as f:
            return "io" in f.read().split()
    return False


def device_rule(text: str) -> dict[str, Any]:
    """``c 1:3 rwm``, ``a *:* rwm``, ``b 8:* r``: a linux.resources.devices entry."""
    parts = text.split()
    if len(parts) == 3 and parts[0] in ("a", "b", "c") and parts[1].count(":") == 1:
        major, minor = parts[1].split(":")
        access = parts[2]
        numbers = [n for n in (major, minor) if n != "*"]
        if all(n.isdigit() for n in numbers) and access and set(access) <= set("rwm"):
            out: dict[str, Any] = {"allow": True, "type": parts[0], "access": access}
            if major != "*":
                out["major"] = int(major)
            if minor != "*":
                out["minor"] = int(minor)
            return out
    raise InvalidArgument(f"invalid device cgroup format '{text}'")


def add(host: HostConfig, resources: dict[str, Any], process: dict[str, Any]) -> None:
    """Put the options into ``linux.resources`` and ``process`` (both already made)."""
    check(host)
    if host.cpu_period or host.cpu_quota:
        cpu = resources.setdefault("cpu", {})
        if host.cpu_period:
            cpu["period"] = host.cpu_period
        if host.cpu_quota:
            cpu["quota"] = host.cpu_quota
    memory: dict[str, Any] = {}
    if host.memory_swappiness is not None and host.memory_swappiness >= 0:
        memory["swappiness"] = host.memory_swappiness
    if host.oom_kill_disable:
        memory["disableOOMKiller"] = True
    if memory:
        resources.setdefault("memory", {}).update(memory)
    if host.blkio_weight:
        resources["blockIO"] = {"weight": host.blkio_weight}
    if host.device_cgroup_rules and not host.privileged:
        resources["devices"] += [device_rule(r) for r in host.device_cgroup_rules]
    if host.oom_score_adj:
        process["oomScoreAdj"] = host.oom_score_adj


def private_cgroupns(host: HostConfig, cgroup_v2: bool) -> bool:
    """Docker's default: a cgroup namespace of its own on cgroup v2, the host's on v1."""
    if host.cgroupns_mode:
        return host.cgroupns_mode == "private"
    return cgroup_v2 and not host.privileged

"""v1 blkio controller: weights (CFQ or BFQ files) and throttling."""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.blockIO"
THROTTLES = (
    ("throttleReadBpsDevice", "blkio.throttle.read_bps_device"),
    ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device"),
    ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device"),
    ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"),
)


def set(directory: str, blkio: dict[str, Any]) -> None:
    weight = values.integer(blkio, "weight", FIELD, 0, 1000)
    leaf_weight = values.integer(blkio, "leafWeight", FIELD, 0, 1000)
    devices = values.items(blkio, "weightDevice")
    # CFQ (gone since Linux 5.0) had blkio.weight; BFQ has blkio.bfq.weight.
    prefix = "blkio"
    if (
        directory
        and not fs.exists(directory, "blkio.weight")
        and fs.exists(directory, "blkio.bfq.weight")
    ):
        prefix = "blkio.bfq"
    if weight:
        fs.write(directory, f"{prefix}.weight", str(weight), f"{FIELD}.weight")
    if leaf_weight:
        fs.write(directory, "blkio.leaf_weight", str(leaf_weight), f"{FIELD}.leafWeight")
    for i, device in enumerate(devices):
        where = f"{FIELD}.weightDevice[{i}]"
        numbers = values.device_numbers(device, where)
        dev_weight = values.integer(device, "weight", where, 0, 1000)
        dev_leaf = values.integer(device, "leafWeight", where, 0, 1000)
        if dev_weight:
            fs.write(
                directory, f"{prefix}.weight_device", f"{numbers} {dev_weight}", f"{where}.weight"
            )
        if dev_leaf:
            fs.write(
                directory,
                "blkio.leaf_weight_device",
                f"{numbers} {dev_leaf}",
                f"{where}.leafWeight",
            )
    for key, name in THROTTLES:
        for i, device in enumerate(values.items(blkio, key)):
            where = f"{FIELD}.{key}[{i}]"
            numbers = values.device_numbers(device, where)
            rate = values.unsigned(device, "rate", where)
            if rate is None:
                raise InvalidSpec(f"{where}.rate", "is required")
            fs.write(directory, name, f"{numbers} {rate}", f"{where}.rate")


def _entries(directory: str, name: str) -> list[dict[str, Any]]:
    """Lines like "8:0 Read 1282048" (the "Total" summary line is skipped)."""
    entries: list[dict[str, Any]] = []
    for line in fs.read_or(directory, name).splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue
        major, _, minor = parts[0].partition(":")
        entries.append(
            {"major": int(major), "minor": int(minor), "op": parts[1], "value": fs.to_int(parts[2])}
        )
    return entries


def stats(directory: str) -> dict[str, Any]:
    if not directory:
        return {}
    # CFQ files when they exist, else BFQ's, else the throttle layer's (always there).
    for prefix in ("blkio", "blkio.bfq", "blkio.throttle"):
        if fs.exists(directory, f"{prefix}.io_service_bytes_recursive"):
            return {
                "ioServiceBytesRecursive": _entries(
                    directory, f"{prefix}.io_service_bytes_recursive"
                ),
                "ioServicedRecursive": _entries(directory, f"{prefix}.io_serviced_recursive"),
            }
    return {"ioServiceBytesRecursive": [], "ioServicedRecursive": []}

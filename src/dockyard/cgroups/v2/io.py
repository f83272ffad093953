"""v2 io controller: io.bfq.weight or io.weight, and io.max throttling.

The OCI blkio weight (10-1000) goes unconverted to io.bfq.weight when the
BFQ scheduler provides it, else converted to io.weight's 1-10000 range
(crun and runc: 1 + (weight - 10) * 9999 / 990).
"""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.blockIO"
THROTTLES = (
    ("throttleReadBpsDevice", "rbps"),
    ("throttleWriteBpsDevice", "wbps"),
    ("throttleReadIOPSDevice", "riops"),
    ("throttleWriteIOPSDevice", "wiops"),
)


def io_weight(blkio_weight: int) -> int:
    if blkio_weight == 0:
        return 0
    return 1 + (max(blkio_weight, 10) - 10) * 9999 // 990


def set(directory: str, blkio: dict[str, Any]) -> None:
    weight = values.integer(blkio, "weight", FIELD, 0, 1000)
    if values.integer(blkio, "leafWeight", FIELD, 0, 1000):
        raise Unsupported(f"{FIELD}.leafWeight: cgroup v2 has no leaf weights")
    devices = values.items(blkio, "weightDevice")
    bfq = bool(directory) and fs.exists(directory, "io.bfq.weight")
    if weight:
        if bfq:
            fs.write(directory, "io.bfq.weight", str(weight), f"{FIELD}.weight")
        else:
            fs.write(directory, "io.weight", str(io_weight(weight)), f"{FIELD}.weight")
    for i, device in enumerate(devices):
        where = f"{FIELD}.weightDevice[{i}]"
        numbers = values.device_numbers(device, where)
        dev_weight = values.integer(device, "weight", where, 0, 1000)
        if values.integer(device, "leafWeight", where, 0, 1000):
            raise Unsupported(f"{where}.leafWeight: cgroup v2 has no leaf weights")
        if dev_weight:
            if bfq:
                fs.write(directory, "io.bfq.weight", f"{numbers} {dev_weight}", f"{where}.weight")
            else:
                fs.write(
                    directory, "io.weight", f"{numbers} {io_weight(dev_weight)}", f"{where}.weight"
                )
    for key, knob in THROTTLES:
        for i, device in enumerate(values.items(blkio, key)):
            where = f"{FIELD}.{key}[{i}]"
            numbers = values.device_numbers(device, where)
            rate = values.unsigned(device, "rate", where)
            if rate is None:
                raise InvalidSpec(f"{where}.rate", "is required")
            fs.write(directory, "io.max", f"{numbers} {knob}={rate or 'max'}", f"{where}.rate")


_OPS = {
    "rbytes": ("ioServiceBytesRecursive", "Read"),
    "wbytes": ("ioServiceBytesRecursive", "Write"),
    "rios": ("ioServicedRecursive", "Read"),
    "wios": ("ioServicedRecursive", "Write"),
}


def stats(directory: str) -> dict[str, Any]:
    """io.stat lines "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." in v1's shape."""
    out: dict[str, list[dict[str, Any]]] = {
        "ioServiceBytesRecursive": [],
        "ioServicedRecursive": [],
    }
    for line in fs.read_or(directory, "io.stat").splitlines():
        device, *pairs = line.split()
        major, _, minor = device.partition(":")
        if not minor:
            continue
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key in _OPS:
                table, op = _OPS[key]
                out[table].append(
                    {"major": int(major), "minor": int(minor), "op": op, "value": fs.to_int(value)}
                )
    return out

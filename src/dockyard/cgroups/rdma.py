"""rdma controller (v1 and v2 alike): rdma.max lines "<device> hca_handle=N hca_object=M"."""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.rdma"


def set(directory: str, rdma: dict[str, Any]) -> None:
    for device, limits in rdma.items():
        where = f"{FIELD}.{device}"
        if not device or any(c.isspace() for c in device) or not isinstance(limits, dict):
            raise InvalidSpec(where, "must map a device name to {hcaHandles, hcaObjects}")
        handles = values.unsigned(limits, "hcaHandles", where, 2**32 - 1)
        objects = values.unsigned(limits, "hcaObjects", where, 2**32 - 1)
        line = device
        if handles is not None:
            line += f" hca_handle={handles}"
        if objects is not None:
            line += f" hca_object={objects}"
        if line != device:
            fs.write(directory, "rdma.max", line, where)

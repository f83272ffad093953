"""``system df``: what images, containers and volumes take, as Docker's ``GET /system/df``.

Image sizes are the unpacked sizes of their layers; a layer two images
share counts once in ``LayersSize`` and in each image's ``SharedSize``. A
container's size is what it wrote (its overlay upper directory), a
volume's the files under its ``_data``. There is no build cache yet.
"""

from __future__ import annotations

from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine

ACTIVE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def disk_usage(engine: Engine) -> dict[str, Any]:
    """``{"LayersSize", "Images", "Containers", "Volumes", "BuildCache"}`` as Docker's."""
    import time

    from dockyard.engine.clock import parse_ns
    from dockyard.engine.exits import current_status
    from dockyard.engine.listing import status_text
    from dockyard.engine.sizes import tree_size
    from dockyard.image import reference

    now = time.time()
    store = engine.images.store
    records = engine.containers.all()
    users: dict[str, int] = {}
    for rec in records:
        users[rec.image_id] = users.get(rec.image_id, 0) + 1
    images = store.images.all()
    layer_users: dict[str, int] = {}
    for image in images:
        for chain in set(image.layers):
            layer_users[chain] = layer_users.get(chain, 0) + 1
    layer_size: dict[str, int] = {}
    for chain in layer_users:
        try:
            layer_size[chain] = store.layers.record(chain).size
        except Exception:
            layer_size[chain] = 0
    names = store.images.names()
    image_rows = []
    for image in sorted(images, key=lambda i: i.created, reverse=True):
        shared = sum(layer_size[c] for c in set(image.layers) if layer_users[c] > 1)
        image_rows.append(
            {
                "Id": image.id,
                "ParentId": "",
                "RepoTags": [
                    reference.parse(t).familiar for t in store.images.tags_of(image.id, names)
                ],
                "RepoDigests": [reference.parse(d).familiar for d in image.repo_digests],
                "Created": parse_ns(image.created) // 1_000_000_000 if image.created else 0,
                "Size": image.size,
                "SharedSize": shared,
                "VirtualSize": image.size,
                "Labels": None,
                "Containers": users.get(image.id, 0),
            }
        )
    containers = []
    for rec in records:
        fields = status_text(engine, rec, now)
        written = tree_size(f"{store.root}/snapshots/{rec.id}/upper")
        containers.append(
            {
                "Id": rec.id,
                "Names": [f"/{rec.name}"],
                "Image": rec.config.image,
                "ImageID": rec.image_id,
                "Command": " ".join([*(rec.config.entrypoint or []), *(rec.config.cmd or [])]),
                "Created": parse_ns(rec.created) // 1_000_000_000,
                "SizeRw": written,
                "SizeRootFs": written + _image_size(engine, rec.image_id),
                "Labels": dict(rec.config.labels),
                "State": current_status(engine, rec),
                "Status": fields[1],
                "Mounts": [
                    {"Type": m.type, "Name": m.name, "Destination": m.destination}
                    for m in rec.mounts
                ],
            }
        )
    in_use: dict[str, int] = {}
    for rec in records:
        for m in rec.mounts:
            if m.type == "volume" and m.name:
                in_use[m.name] = in_use.get(m.name, 0) + 1
    volumes = [
        {
            "Name": vol.name,
            "Driver": vol.driver,
            "Mountpoint": vol.mountpoint,
            "Labels": dict(vol.labels) or None,
            "Scope": "local",
            "UsageData": {"Size": tree_size(vol.mountpoint), "RefCount": in_use.get(vol.name, 0)},
        }
        for vol in engine.volumes.all()
    ]
    return {
        "LayersSize": sum(layer_size.values()),
        "Images": image_rows,
        "Containers": containers,
        "Volumes": volumes,
        "BuildCache": [],
    }


def _image_size(engine: Engine, image_id: str) -> int:
    try:
        return engine.images.store.images.get(image_id).size
    except Exception:
        return 0


def is_active(container: dict[str, Any]) -> bool:
    return container["State"] in ACTIVE


def summary(usage: dict[str, Any]) -> list[dict[str, str]]:
    """The four rows of ``system df``: TYPE TOTAL ACTIVE SIZE RECLAIMABLE, as docker/cli
    computes them (its disk usage formatter)."""
    from dockyard.oci.units import human_size

    def size(n: float) -> str:
        return human_size(n, 4)

    def reclaimable(amount: int, total: int) -> str:
        if total > 0:
            return f"{size(amount)} ({amount * 100 // total}%)"
        return size(amount)

    images = usage["Images"]
    total = usage["LayersSize"]
    used = sum(i["Size"] - i["SharedSize"] for i in images if i["Containers"])
    containers = usage["Containers"]
    c_total = sum(c["SizeRw"] for c in containers)
    c_free = sum(c["SizeRw"] for c in containers if not is_active(c))
    volumes = usage["Volumes"]
    v_total = sum(v["UsageData"]["Size"] for v in volumes)
    v_free = sum(v["UsageData"]["Size"] for v in volumes if not v["UsageData"]["RefCount"])
    return [
        {
            "Type": "Images",
            "TotalCount": str(len(images)),
            "Active": str(sum(1 for i in images if i["Containers"])),
            "Size": size(total),
            "Reclaimable": reclaimable(total - used, total),
        },
        {
            "Type": "Containers",
            "TotalCount": str(len(containers)),
            "Active": str(sum(1 for c in containers if is_active(c))),
            "Size": size(c_total),
            "Reclaimable": reclaimable(c_free, c_total),
        },
        {
            "Type": "Local Volumes",
            "TotalCount": str(len(volumes)),
            "Active": str(sum(1 for v in volumes if v["UsageData"]["RefCount"])),
            "Size": size(v_total),
            "Reclaimable": reclaimable(v_free, v_total),
        },
        {
            "Type": "Build Cache",
            "TotalCount": "0",
            "Active": "0",
            "Size": size(0),
            "Reclaimable": size(0),
        },
    ]

"""Show docker disk usage."""

from __future__ import annotations

import sys

from dockyard.cli.commands import _args
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.engine.engine import Engine

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag("verbose", "v", help="Show detailed information on space usage"),
]

SUMMARY = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
SUMMARY_HEADERS = {
    "Type": "TYPE",
    "TotalCount": "TOTAL",
    "Active": "ACTIVE",
    "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}
IMAGES = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
    "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
)
CONTAINERS = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
    "{{.RunningFor}}\t{{.Status}}\t{{.Names}}"
)
VOLUMES = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
BUILD_CACHE = (
    "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
    "{{.UsageCount}}\t{{.Shared}}"
)
BUILD_CACHE_HEADERS = {
    "ID": "CACHE ID",
    "CacheType": "CACHE TYPE",
    "Size": "SIZE",
    "CreatedSince": "CREATED",
    "LastUsedSince": "LAST USED",
    "UsageCount": "USAGE",
    "Shared": "SHARED",
}


class SummaryRow:
    GO_TYPE = "*formatter.diskUsageImagesContext"

    def __init__(self, fields: dict[str, str]) -> None:
        self.Type = fields["Type"]
        self.TotalCount = fields["TotalCount"]
        self.Active = fields["Active"]
        self.Size = fields["Size"]
        self.Reclaimable = fields["Reclaimable"]

    def __json__(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in sorted(SUMMARY_HEADERS)}


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.formatter.format import render
    from dockyard.engine.disk_usage import disk_usage, summary

    _args.none("system df", p.args)
    engine = ctx.engine()
    usage = disk_usage(engine)
    fmt = str(p.format)
    if p.verbose and (not fmt or fmt.startswith("table")):
        sys.stdout.write(_verbose(engine, usage))
        return 0
    rows = [SummaryRow(r) for r in summary(usage)]
    sys.stdout.write(render(fmt or SUMMARY, rows, SUMMARY_HEADERS))
    return 0


def _verbose(engine: Engine, usage: dict[str, Any]) -> str:
    """docker/cli's verbose disk usage: each kind's table under its title."""
    from dockyard.cli.formatter.format import render
    from dockyard.cli.formatter.rows import ContainerRow, ImageRow, VolumeRow
    from dockyard.engine.listing import row
    from dockyard.errors import NotFound
    from dockyard.oci.units import human_size

    images = []
    for i in usage["Images"]:
        names = [t.rpartition(":") for t in i["RepoTags"]] or [("<none>", "", "<none>")]
        for repo, _, tag in names:
            image = ImageRow(i["Id"], repo, tag, "", i["Created"] or None, i["Size"])
            image.SharedSize = human_size(i["SharedSize"], 4)
            image.UniqueSize = human_size(i["Size"] - i["SharedSize"], 4)
            image.Containers = str(i["Containers"])
            images.append(image)
    containers = []
    for c in usage["Containers"]:
        try:
            fields = row(engine, engine.containers.get(c["Id"]))
        except NotFound:
            continue  # removed meanwhile
        fields["Size"] = human_size(c["SizeRw"])  # the virtual size is left out here
        containers.append(ContainerRow(fields, c["Labels"]))
    volumes = []
    for v in usage["Volumes"]:
        vol = VolumeRow(v["Name"], v["Driver"], v["Mountpoint"], v["Labels"] or {})
        vol.Links = str(v["UsageData"]["RefCount"])
        vol.Size = human_size(v["UsageData"]["Size"], 4)
        volumes.append(vol)
    return (
        "Images space usage:\n\n"
        + render(IMAGES, images, ImageRow.HEADERS)
        + "\nContainers space usage:\n\n"
        + render(CONTAINERS, containers, ContainerRow.HEADERS)
        + "\nLocal Volumes space usage:\n\n"
        + render(VOLUMES, volumes, VolumeRow.HEADERS)
        + f"\nBuild cache usage: {human_size(0, 4)}\n\n"
        + render(BUILD_CACHE, [], BUILD_CACHE_HEADERS)
    )

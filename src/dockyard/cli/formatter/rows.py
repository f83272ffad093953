"""The rows the listings hand to ``--format``: one class per listing, with Docker's field
names and values (docker/cli's imageContext, ContainerContext, historyContext,
volumeContext), the header of each column, and what ``{{json .}}`` shows
(every field, in sorted order, as Docker's MarshalJSON writes them).
"""

from __future__ import annotations

import time

from dockyard.oci.units import go_rfc3339, go_time, human_duration, human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def truncate_id(text: str) -> str:
    """docker's TruncateID: no "sha256:", twelve characters."""
    return text.partition(":")[2][:12] if ":" in text else text[:12]


def ellipsis(text: str, width: int) -> str:
    """docker's Ellipsis: at most ``width`` columns, the last one "…" when cut."""
    from dockyard.cli.formatter.tabwriter import display_width

    if width <= 0:
        return ""
    if display_width(text) <= width:
        return text
    if width == 1:
        return text[:1]
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def labels_text(labels: dict[str, str]) -> str:
    return ",".join(sorted(f"{k}={v}" for k, v in labels.items()))


class Row:
    GO_TYPE = ""
    #: field -> the header of its column
    HEADERS: dict[str, str] = {}
    #: what {{json .}} shows, sorted
    FIELDS: tuple[str, ...] = ()

    def __json__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}


class ImageRow(Row):
    GO_TYPE = "*formatter.imageContext"
    HEADERS = {
        "ID": "IMAGE ID",
        "Repository": "REPOSITORY",
        "Tag": "TAG",
        "Digest": "DIGEST",
        "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT",
        "Size": "SIZE",
        "Containers": "CONTAINERS",
        "SharedSize": "SHARED SIZE",
        "UniqueSize": "UNIQUE SIZE",
    }
    FIELDS = (
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "SharedSize",
        "Size",
        "Tag",
        "UniqueSize",
    )
    TABLE = (
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"
        "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
    )
    TABLE_DIGESTS = (
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
        "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
    )

    def __init__(
        self,
        image_id: str,
        repository: str,
        tag: str,
        digest: str,
        created: float | None,
        size: int,
        trunc: bool = True,
    ) -> None:
        self.ID = truncate_id(image_id) if trunc else image_id
        self.Repository = repository
        self.Tag = tag
        self.Digest = digest
        now = time.time()
        self.CreatedSince = "" if created is None else human_duration(now - created) + " ago"
        self.CreatedAt = go_time(created or 0)
        self.Size = human_size(size)
        self.Containers = self.SharedSize = self.UniqueSize = "N/A"


class HistoryRow(Row):
    GO_TYPE = "*image.historyContext"
    HEADERS = {
        "ID": "IMAGE",
        "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY",
        "Size": "SIZE",
        "Comment": "COMMENT",
    }
    FIELDS = ("Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size")
    TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    TABLE_NON_HUMAN = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    EPOCH = 946684800  # 2000-01-01: older dates are "N/A", as Docker shows them

    def __init__(
        self,
        layer_id: str,
        created: float,
        created_by: str,
        size: int,
        comment: str,
        trunc: bool = True,
        human: bool = True,
    ) -> None:
        self.ID = truncate_id(layer_id) if trunc and layer_id != "<missing>" else layer_id
        self.CreatedAt = go_rfc3339(created)
        if not human:
            self.CreatedSince = self.CreatedAt
        elif created <= self.EPOCH:
            self.CreatedSince = "N/A"
        else:
            self.CreatedSince = human_duration(time.time() - created) + " ago"
        created_by = created_by.replace("\t", " ")
        self.CreatedBy = ellipsis(created_by, 45) if trunc else created_by
        self.Size = human_size(size) if human else str(size)
        self.Comment = comment


class VolumeRow(Row):
    GO_TYPE = "*formatter.volumeContext"
    HEADERS = {
        "ID": "ID",
        "Name": "VOLUME NAME",
        "Group": "GROUP",
        "Driver": "DRIVER",
        "Scope": "SCOPE",
        "Availability": "AVAILABILITY",
        "Mountpoint": "MOUNTPOINT",
        "Labels": "LABELS",
        "Links": "LINKS",
        "Size": "SIZE",
        "Status": "STATUS",
    }
    FIELDS = (
        "Availability",
        "Driver",
        "Group",
        "Labels",
        "Links",
        "Mountpoint",
        "Name",
        "Scope",
        "Size",
        "Status",
    )
    TABLE = "table {{.Driver}}\t{{.Name}}"

    def __init__(self, name: str, driver: str, mountpoint: str, labels: dict[str, str]) -> None:
        self.Name = name
        self.Driver = driver
        self.Scope = "local"
        self.Mountpoint = mountpoint
        self.Labels = labels_text(labels)
        self._labels = labels
        # usage and cluster data Dockyard does not compute: Docker's "not known" values
        self.Links = self.Size = self.Group = self.Availability = self.Status = "N/A"

    def Label(self, name: str) -> str:
        return self._labels.get(name, "")


class ContainerRow(Row):
    """A ``ps`` row: the engine's listing strings, the labels for ``.Label``, and the
    size, measured only if the template asks for it (it walks the container's files)."""

    GO_TYPE = "*formatter.ContainerContext"
    HEADERS = {
        "ID": "CONTAINER ID",
        "Names": "NAMES",
        "Image": "IMAGE",
        "Command": "COMMAND",
        "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED",
        "Ports": "PORTS",
        "State": "STATE",
        "Status": "STATUS",
        "Size": "SIZE",
        "Labels": "LABELS",
        "Mounts": "MOUNTS",
        "LocalVolumes": "LOCAL VOLUMES",
        "Networks": "NETWORKS",
        "Platform": "PLATFORM",
        "HealthStatus": "HEALTH STATUS",
    }
    FIELDS = (
        "Command",
        "CreatedAt",
        "HealthStatus",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Platform",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    )
    TABLE = (
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
        "{{.Status}}\t{{.Ports}}\t{{.Names}}"
    )

    def __init__(
        self,
        fields: dict[str, Any],
        labels: dict[str, str],
        size: Callable[[], str] | None = None,
    ) -> None:
        get = fields.get
        self.ID: str = get("ID", "")
        self.Image: str = get("Image", "")
        self.Command: str = get("Command", "")
        self.CreatedAt: str = get("CreatedAt", "")
        self.RunningFor: str = get("RunningFor", "")
        self.Ports: str = get("Ports", "")
        self.State: str = get("State", "")
        self.Status: str = get("Status", "")
        self.Names: str = get("Names", "")
        self.Labels: str = get("Labels", "")
        self.Mounts: str = get("Mounts", "")
        self.Networks: str = get("Networks", "")
        self.LocalVolumes: str = get("LocalVolumes", "0")
        self.HealthStatus = ""  # no health checks yet
        self.Platform = None  # not recorded: Docker shows null too when it is not known
        self._labels = labels
        self._size = size
        self._size_text: str | None = get("Size") or None

    @property
    def Size(self) -> str:
        if self._size_text is None:
            self._size_text = self._size() if self._size is not None else ""
        return self._size_text

    def Label(self, name: str) -> str:
        return self._labels.get(name, "")

"""update ID [flags | -r resources.json]: change the limits of a live container."""

from __future__ import annotations

import sys

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import flag, parse
from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio
from dockyard.runtime.update import parse_size, update

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cli.runtime_main import Context

# flag → (section, key, parser)
_FIELDS = {
    "memory": ("memory", "limit", "size"),
    "memory_reservation": ("memory", "reservation", "size"),
    "memory_swap": ("memory", "swap", "size"),
    "cpu_share": ("cpu", "shares", "int"),
    "cpu_quota": ("cpu", "quota", "int"),
    "cpu_period": ("cpu", "period", "int"),
    "cpu_rt_runtime": ("cpu", "realtimeRuntime", "int"),
    "cpu_rt_period": ("cpu", "realtimePeriod", "int"),
    "cpuset_cpus": ("cpu", "cpus", "str"),
    "cpuset_mems": ("cpu", "mems", "str"),
    "blkio_weight": ("blockIO", "weight", "int"),
    "pids_limit": ("pids", "limit", "int"),
}


def run(ctx: Context, argv: list[str]) -> int:
    flags = [flag("--resources", "-r", value=True)]
    flags += [flag("--" + name.replace("_", "-"), value=True) for name in _FIELDS]
    flags += [flag("--l3-cache-schema", value=True), flag("--mem-bw-schema", value=True)]
    parsed = parse(argv, flags, command="update")
    cid = container_id(parsed, "update")
    if parsed.l3_cache_schema or parsed.mem_bw_schema:
        raise InvalidArgument("Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported")
    if parsed.resources:
        text = sys.stdin.read() if parsed.resources == "-" else _read(str(parsed.resources))
        source = "stdin" if parsed.resources == "-" else str(parsed.resources)
        try:
            resources = jsonio.loads(text)
        except jsonio.JSONError as exc:
            raise InvalidArgument(f"--resources {source}: not valid JSON: {exc}") from exc
    else:
        resources = _from_flags(parsed)
    update(ctx.root, cid, resources)
    return 0


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        raise InvalidArgument(f"--resources {path}: {exc.strerror}") from exc


def _from_flags(parsed: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for name, (section, key, kind) in _FIELDS.items():
        text = getattr(parsed, name)
        if not text:
            continue
        flag_name = "--" + name.replace("_", "-")
        if kind == "size":
            value: object = parse_size(str(text), flag_name)
        elif kind == "int":
            try:
                value = int(str(text))
            except ValueError:
                raise InvalidArgument(f"{flag_name}: {text!r} is not a number") from None
        else:
            value = str(text)
        resources.setdefault(section, {})[key] = value
    if not resources:
        raise InvalidArgument("update: nothing to change (give a limit flag or -r FILE)")
    return resources

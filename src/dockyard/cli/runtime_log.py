"""Log lines in runc's two formats (logrus text and JSON); containerd parses them."""

from __future__ import annotations

import time


def format_line(fmt: str, level: str, message: str) -> str:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if fmt == "json":
        from dockyard.oci.jsonio import dumps_compact

        return dumps_compact({"level": level, "msg": message, "time": now}) + "\n"
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'time="{now}" level={level} msg="{escaped}"\n'

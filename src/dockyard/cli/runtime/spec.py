"""spec [--bundle DIR] [--rootless]: write a starter config.json."""

from __future__ import annotations

import os

from dockyard.cli.runtime_args import flag, parse
from dockyard.errors import Conflict, NotFound
from dockyard.oci.default_spec import default_spec
from dockyard.oci.jsonio import dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(
        argv, [flag("--bundle", "-b", value=True, default="."), flag("--rootless")], command="spec"
    )
    bundle = str(parsed.bundle)
    if not os.path.isdir(bundle):
        raise NotFound(f"bundle directory {bundle} does not exist")
    path = os.path.join(bundle, "config.json")
    if os.path.exists(path):
        raise Conflict(f"{path} exists already; remove it first")
    with open(path, "w") as f:
        f.write(dumps(default_spec(bool(parsed.rootless)), indent=2) + "\n")
    return 0

"""list [-f table|json] [-q]: the containers under --root."""

from __future__ import annotations

from dockyard.cli.runtime_args import flag, parse
from dockyard.errors import InvalidArgument
from dockyard.oci.jsonio import dumps
from dockyard.runtime.state import list_states

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(
        argv,
        [flag("--format", "-f", value=True, default="table"), flag("--quiet", "-q")],
        command="list",
    )
    states = list_states(ctx.root, ctx.warn)
    if parsed.quiet:
        for state in states:
            print(state.id)
        return 0
    if parsed.format == "json":
        # runc names the owner in list (but not in state)
        print(dumps([{**s.oci_state(), "owner": s.owner or "root"} for s in states] or None))
        return 0
    if parsed.format != "table":
        raise InvalidArgument(f"invalid format option {parsed.format!r}: use table or json")
    rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
    for s in states:
        oci = s.oci_state()
        rows.append([s.id, str(oci["pid"]), s.status, s.bundle, s.created, s.owner or "root"])
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        # runc's tabwriter: columns padded to the widest cell plus at least 4 spaces
        print(
            "".join(
                cell.ljust(max(widths[i] + 4, 12)) if i < 5 else cell for i, cell in enumerate(row)
            ).rstrip()
        )
    return 0

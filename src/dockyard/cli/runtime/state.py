"""state ID: the runtime spec's state of a container, as JSON."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import parse
from dockyard.oci.jsonio import dumps
from dockyard.runtime.state import ContainerState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(argv, [], command="state")
    state = ContainerState.load(ctx.root, container_id(parsed, "state"))
    print(dumps(state.oci_state(), indent=2))
    return 0

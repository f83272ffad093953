"""v1 devices controller: devices.allow and devices.deny.

The writes are the transition from what devices.list reports now to what the
rules ask for (runc's method): a fresh cgroup inherits "a *:* rwm", so it gets
``a`` written to devices.deny, then one devices.allow line per exception.
"""

from __future__ import annotations

from dockyard.cgroups import fs
from dockyard.cgroups.devices import FIELD, Emulator, rule_string
from dockyard.errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cgroups.devices import Rule


def set(directory: str, rules: list[Rule]) -> None:
    target = Emulator.from_rules(rules)
    if not directory:
        fs.write(directory, "devices.allow", "", FIELD)  # raises Unsupported
    current = Emulator.from_list(fs.read_or(directory, "devices.list"))
    for rule in current.transition(target):
        name = "devices.allow" if rule[0] else "devices.deny"
        fs.write(directory, name, rule_string(rule), FIELD)
    after = Emulator.from_list(fs.read_or(directory, "devices.list"))
    if after.default_allow != target.default_allow or (
        not target.default_allow and after.exceptions != target.exceptions
    ):
        raise HostError(f"cgroup {directory}: devices.list does not show the rules just written")

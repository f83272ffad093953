"""Device access rules: parsing the OCI list, and an emulator of the v1 kernel's logic.

The devices controller keeps a default (allow or deny everything) plus a set
of exceptions. The OCI list is applied in order: a rule of type "a" resets
the default and drops every exception, other rules add or remove exceptions.
Both backends program the result of that emulation: v1 by writing the
transition from the cgroup's current state (devices.list) to devices.allow
and devices.deny, v2 by compiling it into an eBPF program. Like runc's
emulator, a rule that would punch a hole in a wildcard exception is refused,
since v1 cannot express it.
"""

from __future__ import annotations

from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    #: (allow, type "a" | "b" | "c", major (-1 = any), minor (-1 = any), access "rwm" subset)
    Rule = tuple[bool, str, int, int, str]
    Key = tuple[str, int, int]

FIELD = "linux.resources.devices"
WILDCARD = -1


def _access(text: str) -> str:
    """Access letters in canonical order ("rwm"), or "" for an invalid string."""
    if not text or any(c not in "rwm" for c in text):
        return ""
    return "".join(c for c in "rwm" if c in text)


def parse_rules(raw: object, field: str = FIELD) -> list[Rule]:
    """The OCI ``linux.resources.devices`` list as rule tuples, each field checked."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidSpec(field, "must be an array")
    rules: list[Rule] = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise InvalidSpec(where, "must be an object")
        allow = item.get("allow")
        if not isinstance(allow, bool):
            raise InvalidSpec(f"{where}.allow", "is required and must be true or false")
        kind = item.get("type") or "a"
        if kind not in ("a", "b", "c"):
            raise InvalidSpec(f"{where}.type", f"must be a, b or c, not {kind!r}")
        numbers = []
        for key in ("major", "minor"):
            value = item.get(key)
            if value is None:
                value = WILDCARD  # -1 is a wildcard too, as runc reads it
            elif isinstance(value, bool) or not isinstance(value, int) or not -1 <= value < 2**31:
                raise InvalidSpec(f"{where}.{key}", f"must be a device number, not {value!r}")
            numbers.append(value)
        text = item.get("access")
        if text is None:
            text = "rwm"
        access = _access(text) if isinstance(text, str) else ""
        if not access:
            raise InvalidSpec(f"{where}.access", f"must be letters from rwm, not {text!r}")
        rules.append((allow, kind, numbers[0], numbers[1], access))
    return rules


def rule_string(rule: Rule) -> str:
    """The rule as devices.allow and devices.deny take it."""
    _, kind, major, minor, access = rule
    if kind == "a":
        return "a"
    m = "*" if major == WILDCARD else str(major)
    n = "*" if minor == WILDCARD else str(minor)
    return f"{kind} {m}:{n} {access}"


class Emulator:
    """A device cgroup's state: a default and the exceptions to it."""

    __slots__ = ("default_allow", "exceptions")

    def __init__(self, default_allow: bool = False) -> None:
        self.default_allow = default_allow
        self.exceptions: dict[Key, str] = {}

    @classmethod
    def from_rules(cls, rules: list[Rule], field: str = FIELD) -> Emulator:
        """Apply the rules in order to a deny-all start, as runc does."""
        emu = cls()
        for i, rule in enumerate(rules):
            emu.apply(rule, f"{field}[{i}]")
        return emu

    @classmethod
    def from_list(cls, text: str) -> Emulator:
        """The state a v1 cgroup reports in devices.list."""
        emu = cls()
        for line in text.splitlines():
            parts = line.replace(":", " ").split()
            if len(parts) != 4:
                continue
            kind, major, minor, access = parts
            if kind == "a":
                emu.default_allow = True
                emu.exceptions.clear()
                continue
            rule = (
                True,
                kind,
                WILDCARD if major == "*" else int(major),
                WILDCARD if minor == "*" else int(minor),
                _access(access),
            )
            emu.apply(rule, "devices.list")
        return emu

    def apply(self, rule: Rule, field: str) -> None:
        allow, kind, major, minor, access = rule
        if kind == "a":
            self.default_allow = allow
            self.exceptions.clear()
        elif allow == self.default_allow:
            self._remove((kind, major, minor), access, field)
        else:
            key = (kind, major, minor)
            self.exceptions[key] = _access(self.exceptions.get(key, "") + access)

    def _remove(self, key: Key, access: str, field: str) -> None:
        kind, major, minor = key
        for wider in ((kind, WILDCARD, minor), (kind, major, WILDCARD), (kind, WILDCARD, WILDCARD)):
            if wider != key and any(c in self.exceptions.get(wider, "") for c in access):
                raise InvalidSpec(
                    field,
                    f"cannot take {access!r} away from one device while the rule "
                    f"{rule_string((True, *wider, self.exceptions[wider]))!r} covers it; "
                    "cgroup v1 cannot express this, list the devices one by one",
                )
        left = "".join(c for c in self.exceptions.get(key, "") if c not in access)
        if left:
            self.exceptions[key] = left
        else:
            self.exceptions.pop(key, None)

    def ordered(self) -> list[tuple[Key, str]]:
        return sorted(self.exceptions.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0]))

    def transition(self, target: Emulator) -> list[Rule]:
        """The writes that turn this state into ``target`` (runc's minimal transition):
        the end state of writing the rules one by one in their listed order (crun's
        way), reached without passing through states in between."""
        rules: list[Rule] = []
        old = self.exceptions
        if self.default_allow or self.default_allow != target.default_allow:
            # A deny list cannot be edited into an allow list: reset, then add.
            rules.append((target.default_allow, "a", WILDCARD, WILDCARD, "rwm"))
            old = {}
        for key, access in sorted(old.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
            dropped = "".join(c for c in access if c not in target.exceptions.get(key, ""))
            if dropped:
                rules.append((target.default_allow, *key, dropped))
        # In the order the rules first name them, as writing the list in order
        # would leave them (the kernel lists exceptions in the order added).
        for key, access in target.exceptions.items():
            gained = "".join(c for c in access if c not in old.get(key, ""))
            if gained:
                rules.append((not target.default_allow, *key, gained))
        return rules


#: What runc allows every container besides its spec's rules (specconv.AllowedDevices):
#: (device path or "", rule). A default with a path is dropped when linux.devices
#: creates that path itself.
DEFAULT_ALLOWED: tuple[tuple[str, Rule], ...] = (
    ("", (True, "c", WILDCARD, WILDCARD, "m")),
    ("", (True, "b", WILDCARD, WILDCARD, "m")),
    ("/dev/null", (True, "c", 1, 3, "rwm")),
    ("/dev/random", (True, "c", 1, 8, "rwm")),
    ("/dev/full", (True, "c", 1, 7, "rwm")),
    ("/dev/tty", (True, "c", 5, 0, "rwm")),
    ("/dev/zero", (True, "c", 1, 5, "rwm")),
    ("/dev/urandom", (True, "c", 1, 9, "rwm")),
    ("", (True, "c", 136, WILDCARD, "rwm")),  # /dev/pts/*
    ("", (True, "c", 5, 2, "rwm")),  # /dev/ptmx
    ("", (True, "c", 10, 200, "rwm")),  # /dev/net/tun, kept for compatibility
)


def rule_dict(rule: Rule) -> dict[str, Any]:
    allow, kind, major, minor, access = rule
    out: dict[str, Any] = {"allow": allow, "type": kind, "access": access}
    if major != WILDCARD:
        out["major"] = major
    if minor != WILDCARD:
        out["minor"] = minor
    return out


def container_resources(linux: dict[str, Any]) -> dict[str, Any]:
    """``linux.resources`` with runc's default device rules appended.

    ``CgroupManager.set`` programs exactly the list it is given; a runtime that
    wants runc's behaviour (/dev/null, /dev/zero, ptys... always usable, mknod
    of anything allowed) passes its spec's ``linux`` object through this first.
    """
    resources = dict(linux.get("resources") or {})
    own_paths = {d.get("path") for d in linux.get("devices") or () if isinstance(d, dict)}
    rules = list(resources.get("devices") or [])
    rules.extend(
        rule_dict(rule) for path, rule in DEFAULT_ALLOWED if not path or path not in own_paths
    )
    resources["devices"] = rules
    return resources

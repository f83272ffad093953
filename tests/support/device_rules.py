"""linux.resources.devices lists the cgroup tests apply, each to be applied
in its listed order, and the rule builders they are made of."""

from __future__ import annotations

from typing import Any

Rule = dict[str, Any]


def deny_all() -> Rule:
    return {"allow": False, "access": "rwm"}


def allow(kind: str, major: int | None, minor: int | None, access: str) -> Rule:
    rule: Rule = {"allow": True, "type": kind, "access": access}
    rule.update({k: v for k, v in (("major", major), ("minor", minor)) if v is not None})
    return rule


def deny(kind: str, major: int, minor: int, access: str) -> Rule:
    return {**allow(kind, major, minor, access), "allow": False}


DEVICE_LISTS: dict[str, list[Rule]] = {
    "deny-all-then-allows": [
        deny_all(),
        allow("c", 10, 229, "rwm"),
        allow("c", 1, 3, "rwm"),
        allow("b", 8, None, "m"),
    ],
    "allows-before-a-deny-all-are-dropped": [
        allow("c", 10, 229, "rwm"),
        deny_all(),
        allow("c", 1, 3, "rwm"),
    ],
    "access-added-then-taken": [
        deny_all(),
        allow("c", 10, 229, "r"),
        allow("c", 1, 3, "rwm"),
        allow("c", 10, 229, "w"),
        deny("c", 1, 3, "w"),
    ],
    "removed-then-added-again": [
        deny_all(),
        allow("c", 1, 3, "rwm"),
        allow("c", 10, 229, "rwm"),
        deny("c", 1, 3, "rwm"),
        allow("c", 1, 3, "r"),
    ],
    "allow-all-then-denies": [
        {"allow": True, "access": "rwm"},
        deny("c", 10, 229, "rwm"),
    ],
}

"""``network ls --filter`` and ``network prune --filter`` as Docker reads them."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.engine.network_types import NetworkRecord

BUILTIN = ("bridge", "host", "none")


def _label_match(labels: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


def matcher(filters: list[str], allowed: tuple[str, ...]) -> Callable[..., bool]:
    """A predicate over (network, number of containers on it)."""
    from dockyard.engine.clock import parse_ns

    wanted: dict[str, list[str]] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if key == "label" and value.startswith("!"):  # not Docker's, but harmless
            key, value = "label!", value[1:]
        if key.endswith("!") and key[:-1] == "label":
            key = "label!"
        if not sep or key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")
        wanted.setdefault(key, []).append(value)
    for value in wanted.get("type", []):
        if value not in ("custom", "builtin"):
            raise InvalidArgument(f"invalid filter: 'type'='{value}'")

    def keep(net: NetworkRecord, users: int = 0) -> bool:
        builtin = net.name in BUILTIN
        checks: dict[str, Callable[[str], bool]] = {
            "driver": lambda v: net.driver == v,
            "id": lambda v: net.id.startswith(v),
            "name": lambda v: v in net.name,
            "scope": lambda v: v == "local",
            "type": lambda v: builtin == (v == "builtin"),
            "label": lambda v: _label_match(net.labels, v),
            "dangling": lambda v: (users == 0 and not builtin) == (v.lower() in ("true", "1")),
            "until": lambda v: _until(net.created, v, parse_ns),
        }
        for key, values in wanted.items():
            if key == "label!":
                if any(_label_match(net.labels, v) for v in values):
                    return False
                continue
            test = checks[key]
            # several values of one key: any may match; labels: all must
            matched = (
                all(test(v) for v in values) if key == "label" else any(test(v) for v in values)
            )
            if not matched:
                return False
        return True

    return keep


def _until(created: str, value: str, parse_ns: Callable[[str], int]) -> bool:
    import time

    try:
        limit = float(value)
    except ValueError:
        units = {"s": 1, "m": 60, "h": 3600}
        if value[-1:] in units and value[:-1].isdigit():
            limit = time.time() - int(value[:-1]) * units[value[-1]]
        else:
            limit = parse_ns(value) / 1e9
    return parse_ns(created) / 1e9 < limit

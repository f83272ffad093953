"""``events --filter``: which events to show, with the rules of Docker's daemon.

Values of one key are alternatives (any may match); different keys must all
match. Per key:

- ``type``, ``event``: exactly (``event=health_status``, ``exec_create`` and
  ``exec_start`` also match by prefix, since those actions carry a suffix:
  ``health_status: healthy``);
- ``container``, ``volume``, ``network``: the actor's id or its ``name``
  attribute, by prefix (as Docker, whatever the event's type);
- ``image``: an image event's id or name, or the image a container event names,
  with or without its tag;
- ``label``: ``key`` or ``key=value`` among the actor's attributes;
- ``scope``: ``local`` (everything here is local), ``swarm`` (nothing).
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.events import Event

ACCEPTED = (
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
)
# keys that name an actor (its id or name, by prefix), whatever the event's type
_NAMED = (
    "container",
    "volume",
    "network",
    "daemon",
    "plugin",
    "node",
    "service",
    "secret",
    "config",
)
# actions that carry a suffix ("exec_start: sh -c ls"): a bare name matches them all
_PREFIXED = ("health_status", "exec_create", "exec_start")


def parse(items: list[str]) -> dict[str, list[str]]:
    """``key=value`` strings (repeatable ``--filter``) to {key: [values]}."""
    found: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"bad format of filter (expected name=value): {item}")
        key = key.strip().lower()
        if key not in ACCEPTED:
            raise InvalidArgument(f"invalid filter '{key}'")
        found.setdefault(key, []).append(value)
    return found


def _exact(values: list[str] | None, source: str) -> bool:
    return values is None or source in values


def _fuzzy(values: list[str] | None, source: str) -> bool:
    return values is None or any(source.startswith(v) for v in values)


def _strip_tag(name: str) -> str:
    """The familiar repository (``docker.io/library/busybox:latest`` -> ``busybox``);
    what is not a reference (an id) as it is."""
    from dockyard.image import reference

    try:
        return reference.parse(name, default_tag=False).familiar_repository
    except InvalidArgument:
        return name


def _named(values: list[str] | None, event: Event) -> bool:
    """Docker's fuzzyMatchName: the actor's id or its ``name`` attribute, by prefix."""
    return _fuzzy(values, event.actor_id) or _fuzzy(values, event.attributes.get("name", ""))


def _image(values: list[str] | None, event: Event) -> bool:
    if values is None:
        return True
    name = event.attributes.get("name" if event.type == "image" else "image", "")
    candidates = {event.actor_id, name, _strip_tag(event.actor_id), _strip_tag(name)}
    return any(c in values for c in candidates if c)


def _labels(values: list[str] | None, attributes: dict[str, str]) -> bool:
    if values is None:
        return True
    for value in values:
        key, sep, wanted = value.partition("=")
        if key not in attributes or (sep and attributes[key] != wanted):
            return False
    return True


def _action(values: list[str] | None, action: str) -> bool:
    if values is None:
        return True
    if any(v in _PREFIXED for v in values):
        return any(action.startswith(v) for v in values)
    return action in values


def matches(filters: dict[str, list[str]], event: Event) -> bool:
    get = filters.get
    return (
        _action(get("event"), event.action)
        and _exact(get("type"), event.type)
        and _exact(get("scope"), "local")
        and all(_named(get(key), event) for key in _NAMED)
        and _image(get("image"), event)
        and _labels(get("label"), event.attributes)
    )

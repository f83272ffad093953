"""``client.events()``: docker-py's event stream, read from the engine's event log."""

from __future__ import annotations

from dockyard.client.errors import translate
from dockyard.errors import DockyardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.client import Client
    from dockyard.engine.event_stream import Subscription


def _when(value: object) -> str:
    """docker-py's since/until: a datetime, a Unix time (int or float), or a string."""
    if value is None:
        return ""
    if hasattr(value, "timestamp"):
        return repr(value.timestamp())
    return str(value)


class EventStream:
    """docker-py's CancellableStream: iterate for events, ``close()`` to stop following."""

    def __init__(self, events: Subscription, decode: bool) -> None:
        self._events = events
        self._decode = decode

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Any:
        from dockyard.engine.events import message_json
        from dockyard.oci import jsonio

        try:
            event = next(self._events)
        except DockyardError as exc:
            raise translate(exc) from exc
        doc = message_json(event)
        if self._decode:
            return doc
        return (jsonio.dumps_compact(doc) + "\n").encode()

    def close(self) -> None:
        self._events.close()


def events(
    client: Client,
    since: object = None,
    until: object = None,
    filters: dict[str, Any] | None = None,
    decode: bool | None = None,
) -> EventStream:
    """Past events (with ``since``/``until``), then new ones until ``until`` or ``close()``."""
    from dockyard.engine import event_filter
    from dockyard.engine.event_stream import Subscription

    items = []
    for key, value in (filters or {}).items():
        for v in value if isinstance(value, list | tuple) else [value]:
            items.append(f"{key}={v}")
    try:
        wanted = event_filter.parse(items)
        found = Subscription(client.engine, _when(since), _when(until), wanted)
    except DockyardError as exc:
        raise translate(exc) from exc
    return EventStream(found, bool(decode))

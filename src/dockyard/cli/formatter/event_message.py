"""What ``events --format`` templates see: Docker's events.Message, field for field.

Go's field names (``.Type``, ``.Action``, ``.Actor.ID``, ``.Actor.Attributes.name``,
``.Status``, ``.ID``, ``.From``, ``.Scope``, ``.Time``, ``.TimeNano``); ``{{json .}}``
writes its JSON names and order (engine.events.message_json).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.events import Event


class Actor:
    GO_TYPE = "events.Actor"

    def __init__(self, actor_id: str, attributes: dict[str, str]) -> None:
        self.ID = actor_id
        self.Attributes = attributes

    def __json__(self) -> dict[str, Any]:
        return {"ID": self.ID, "Attributes": self.Attributes}


class EventMessage:
    GO_TYPE = "events.Message"

    def __init__(self, event: Event | None) -> None:
        from dockyard.engine.events import message_json

        doc = message_json(event) if event is not None else {}
        self._doc = doc
        self.Status = doc.get("status", "")
        self.ID = doc.get("id", "")
        self.From = doc.get("from", "")
        self.Type = doc.get("Type", "")
        self.Action = doc.get("Action", "")
        actor = doc.get("Actor") or {}
        # a typed Go map even when nil: {{.Actor.Attributes.name}} is "<no value>"
        self.Actor = Actor(actor.get("ID", ""), actor.get("Attributes") or {})
        self.Scope = doc.get("scope", "")
        self.Time = doc.get("time", 0)
        self.TimeNano = doc.get("timeNano", 0)

    @classmethod
    def empty(cls) -> EventMessage:
        """The zero message Docker runs a template over to check it."""
        return cls(None)

    def __json__(self) -> dict[str, Any]:
        if not self._doc:
            return {"Type": "", "Action": "", "Actor": {"ID": "", "Attributes": None}}
        return self._doc

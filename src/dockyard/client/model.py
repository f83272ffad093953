"""What docker-py's model objects share: the client, the ``attrs`` JSON, identity by id."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.client import Client


class Model:
    id_key = "Id"

    def __init__(self, client: Client, attrs: dict[str, Any]) -> None:
        self.client = client
        self.attrs = attrs

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.short_id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def id(self) -> str:
        return str(self.attrs[self.id_key])

    @property
    def short_id(self) -> str:
        return self.id[:12]

"""The errors a registry answers with, as Dockyard errors."""

from __future__ import annotations

from typing import Any

from dockyard.errors import HostError, NotFound
from dockyard.oci import jsonio


class RegistryError(HostError):
    """The registry answered with an error; ``status`` and its ``errors`` list are kept."""

    def __init__(self, message: str, status: int = 0, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


class RegistryNotFound(NotFound):
    pass


def error_message(status: int, body: bytes) -> tuple[str, tuple[str, ...]]:
    """The registry's ``{"errors": [{"code", "message"}]}`` as text, with the codes."""
    try:
        doc: Any = jsonio.loads(body)
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors:
            codes = tuple(str(e.get("code", "")) for e in errors if isinstance(e, dict))
            text = "; ".join(
                f"{e.get('code', '')}: {e.get('message', '')}"
                for e in errors
                if isinstance(e, dict)
            )
            return text, codes
    except (jsonio.JSONError, UnicodeDecodeError, AttributeError):
        pass
    snippet = body[:200].decode(errors="replace").strip()
    return f"HTTP {status}" + (f": {snippet}" if snippet else ""), ()

"""JSON in and out through CPython's C accelerator, without importing ``json``.

``import json`` pulls in ``re`` and ``enum`` and costs about 20 ms on the
machines we measure on, more than the whole container start we aim for. The
C scanner and encoder in ``_json`` do the same work; this module gives them
the few settings ``json`` would. Output matches ``json.dumps``.
"""

from __future__ import annotations

import _json
import sys

# ``typing`` costs ~25 ms to import; mypy honours a local TYPE_CHECKING flag.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class JSONError(ValueError):
    """Text that is not JSON; ``pos`` is the character offset of the problem."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(f"{message} at character {pos}")
        self.pos = pos


class _ScanContext:
    # The attributes _json.make_scanner reads from a json.JSONDecoder.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return _CONSTANTS[name]


_scan: Callable[[str, int], tuple[Any, int]] = _json.make_scanner(_ScanContext())  # type: ignore[arg-type]
_WHITESPACE = " \t\n\r"


def loads(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        # What "utf-8-sig" does, without importing its codec module (~0.4 ms).
        text = (text[3:] if text.startswith(b"\xef\xbb\xbf") else text).decode()
    start = 0
    end_of_text = len(text)
    while start < end_of_text and text[start] in _WHITESPACE:
        start += 1
    try:
        value, end = _scan(text, start)
    except StopIteration as exc:
        raise JSONError("expecting a value", exc.value) from None
    except ValueError as exc:  # _json raises json.JSONDecodeError only if json is loaded
        # JSONDecodeError's own text repeats the position: keep its message alone.
        raise JSONError(getattr(exc, "msg", str(exc)), getattr(exc, "pos", start)) from None
    except RecursionError:  # the C scanner recurses per [ or {: hostile input runs it out
        raise JSONError("arrays or objects nested too deeply", start) from None
    except SystemError:
        # _json builds its errors from json.decoder.JSONDecodeError, and only
        # when json.decoder is loaded already: otherwise it fails with no
        # exception set (a SystemError). Bad input is rare; load it and scan again.
        if "json.decoder" in sys.modules:
            raise
        import json.decoder  # noqa: F401

        return loads(text)
    while end < end_of_text and text[end] in _WHITESPACE:
        end += 1
    if end != end_of_text:
        raise JSONError("extra data", end)
    return value


def _skip_whitespace(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def object_members(text: str | bytes) -> dict[str, Any]:
    """The members of the JSON object ``text`` that parse, in order, up to the
    first that does not: what can still be read from a damaged or cut file."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    members: dict[str, Any] = {}
    pos = _skip_whitespace(text, 0)
    if text[pos : pos + 1] != "{":
        return members
    pos += 1
    while True:
        try:
            key, pos = _scan(text, _skip_whitespace(text, pos))
            pos = _skip_whitespace(text, pos)
            if not isinstance(key, str) or text[pos : pos + 1] != ":":
                return members
            value, pos = _scan(text, _skip_whitespace(text, pos + 1))
        except (StopIteration, ValueError, SystemError, RecursionError):
            return members  # SystemError: see loads
        members[key] = value
        pos = _skip_whitespace(text, pos)
        if text[pos : pos + 1] != ",":
            return members
        pos += 1


def _unencodable(obj: object) -> object:
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serializable")


def _float_repr(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)


def dumps(obj: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    separator = ", " if indent is None else ","
    encode = _json.make_encoder(
        {} if indent is None else None,  # markers: cycle detection for compact output
        _unencodable,
        _json.encode_basestring_ascii,
        None if indent is None else " " * indent,
        ": ",
        separator,
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )
    if indent is None:
        return "".join(encode(obj, 0))
    # The C encoder handles indent only from 3.13 on; indent ourselves.
    return _indent(obj, indent, 0, sort_keys)


def dumps_compact(obj: Any) -> str:
    """The smallest form: no spaces, as runc writes state.json."""
    encode = _json.make_encoder(
        {}, _unencodable, _json.encode_basestring_ascii, None, ":", ",", False, False, True
    )
    return "".join(encode(obj, 0))


def _indent(obj: Any, step: int, level: int, sort_keys: bool) -> str:
    pad = "\n" + " " * (step * (level + 1))
    end = "\n" + " " * (step * level)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = sorted(obj.items()) if sort_keys else obj.items()
        parts = [
            _json.encode_basestring_ascii(str(k)) + ": " + _indent(v, step, level + 1, sort_keys)
            for k, v in items
        ]
        return "{" + pad + ("," + pad).join(parts) + end + "}"
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        parts = [_indent(v, step, level + 1, sort_keys) for v in obj]
        return "[" + pad + ("," + pad).join(parts) + end + "]"
    return dumps(obj)

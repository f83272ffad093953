"""JSON as Go's encoding/json writes it with HTML escaping off (Docker's ``json``
function): compact, floats without a needless ".0", control characters as
``\\u00XX``, U+2028/U+2029 escaped, non-ASCII kept as it is.

Dicts keep their order: Dockyard's inspect documents are built in the order
of Docker's structs, which is the order Go writes them in.
"""

from __future__ import annotations

from dockyard.cli.gotemplate.errors import FuncError
from dockyard.cli.gotemplate.values import MISSING, format_float, public_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_SHORT["\t"] = "\\t"
_SHORT["\u2028"] = "\\u2028"
_SHORT["\u2029"] = "\\u2029"


def quote(text: str) -> str:
    out = ['"']
    plain = 0
    for i, ch in enumerate(text):
        code = ord(ch)
        if code >= 0x20 and ch not in _SHORT and not 0xD800 <= code <= 0xDFFF:
            continue
        out.append(text[plain:i])
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append("\\ufffd")  # a lone surrogate: invalid UTF-8 as Go replaces it
        plain = i + 1
    out.append(text[plain:])
    out.append('"')
    return "".join(out)


def _float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise FuncError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(value, "e")
        mantissa, _, exponent = text.partition("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        return f"{mantissa}e{'-' if sign == '-' else '+'}{digits}"
    return format_float(value, "f")


def encode(value: Any) -> str:
    if value is None or value is MISSING:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{quote(str(k))}:{encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    custom = getattr(value, "__json__", None)
    if custom is not None:
        return encode(custom())
    if callable(value):
        raise FuncError("json: unsupported type: func()")
    return "{" + ",".join(f"{quote(n)}:{encode(v)}" for n, v in public_fields(value)) + "}"

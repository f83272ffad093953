"""Go's builtin template functions: and, or, not, len, index, slice, eq, ne, lt, le,
gt, ge, print, printf, println, html, js, urlquery, call.

A function declares the Go kinds of its parameters, because the executor
converts and checks arguments as Go does ("wrong type for value; expected
string; got int", "expected integer; found "x""): ``any`` (interface{},
an absent value arrives as None), ``value`` (reflect.Value: MISSING arrives
as it is), ``string``, ``int``, ``bool``.
"""

from __future__ import annotations

from dockyard.cli.gotemplate.errors import FuncError
from dockyard.cli.gotemplate.values import MISSING, is_true, sprint_value, type_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Func:
    __slots__ = ("impl", "name", "params", "variadic")

    def __init__(
        self, name: str, impl: Callable[..., Any], params: str = "", variadic: str = ""
    ) -> None:
        self.name = name
        self.impl = impl
        self.params = tuple(params.split()) if params else ()
        self.variadic = variadic


def truth(value: Any) -> bool:
    return is_true(value)[0]


# -- indexing --------------------------------------------------------------
def _index_arg(index: Any, cap: int) -> int:
    if index is None or index is MISSING:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return index


def _zero_of(mapping: dict[Any, Any]) -> Any:
    """The zero value of a map's element type, guessed from its values: Docker's label
    maps are map[string]string, where an absent key gives "" (not <no value>)."""
    return "" if all(isinstance(v, str) for v in mapping.values()) else None


def index(item: Any, *indexes: Any) -> Any:
    if item is MISSING:
        raise FuncError("index of untyped nil")
    for key in indexes:
        if item is None:  # a nil map or slice (JSON null): empty, as Go's typed nil is
            if isinstance(key, str):
                item = ""
                continue
            raise FuncError(f"index out of range: {_index_arg(key, 0)}")
        if isinstance(item, str):
            data = item.encode()
            i = _index_arg(key, len(data))
            if i == len(data):
                raise FuncError("reflect: string index out of range")
            item = data[i]
        elif isinstance(item, list | tuple):
            i = _index_arg(key, len(item))
            if i == len(item):
                raise FuncError("reflect: slice index out of range")
            item = item[i]
        elif isinstance(item, dict):
            if key is None or key is MISSING:
                raise FuncError("value is nil; should be of type string")
            sample = next(iter(item), "")
            if type(key) is not type(sample) and not (
                isinstance(key, int | float) and isinstance(sample, int | float)
            ):
                raise FuncError(f"value has type {type_name(key)}; should be {type_name(sample)}")
            item = item[key] if key in item else _zero_of(item)
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    if item is None or item is MISSING:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data: Any = item.encode()
    elif isinstance(item, list | tuple):
        data = item
    else:
        raise FuncError(f"can't slice item of type {type_name(item)}")
    bounds = [0, len(data), len(data)]
    for i, key in enumerate(indexes):
        bounds[i] = _index_arg(key, len(data))
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(indexes) == 3 and bounds[1] > bounds[2]:
        raise FuncError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    part = data[bounds[0] : bounds[1]]
    return part.decode(errors="replace") if isinstance(item, str) else part


def length(item: Any) -> int:
    if item is None:
        return 0  # a nil map or slice
    if item is MISSING:
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, list | tuple | dict):
        return len(item)
    raise FuncError(f"len of type {type_name(item)}")


def call(fn: Any, *args: Any) -> Any:
    if fn is None or fn is MISSING:
        raise FuncError("call of nil")
    if not callable(fn):
        raise FuncError(f"non-function of type {type_name(fn)}")
    try:
        return fn(*(None if a is MISSING else a for a in args))
    except FuncError:
        raise
    except Exception as exc:
        raise FuncError(str(exc)) from exc


# -- comparison ------------------------------------------------------------
def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, complex):
        return "complex"
    if isinstance(value, str):
        return "string"
    return ""


def _nil(value: Any) -> bool:
    return value is None or value is MISSING


def eq(first: Any, *others: Any) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    k1 = _kind(first)
    for other in others:
        k2 = _kind(other)
        if k1 != k2:
            if not _nil(first) and not _nil(other):
                raise FuncError(
                    f"incompatible types for comparison: {type_name(first)} and {type_name(other)}"
                )
            truth_ = False
        elif k1:
            truth_ = first == other
        elif _nil(first) or _nil(other):
            truth_ = _nil(first) and _nil(other)
        elif isinstance(other, list | dict):
            raise FuncError(f"non-comparable type {sprint_value(other)}: {type_name(other)}")
        else:
            truth_ = first is other or first == other
        if truth_:
            return True
    return False


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def lt(a: Any, b: Any) -> bool:
    k1, k2 = _kind(a), _kind(b)
    if not k1 or not k2:
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError(f"incompatible types for comparison: {type_name(a)} and {type_name(b)}")
    if k1 in ("bool", "complex"):
        raise FuncError("invalid type for comparison")
    return bool(a < b)


def le(a: Any, b: Any) -> bool:
    return lt(a, b) or eq(a, b)


def gt(a: Any, b: Any) -> bool:
    return not le(a, b)


def ge(a: Any, b: Any) -> bool:
    return not lt(a, b)


# -- escaping --------------------------------------------------------------
def _text_of(args: tuple[Any, ...]) -> str:
    """Go's evalArgs: one string as it is, otherwise fmt.Sprint with <no value> for nil."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    from dockyard.cli.gotemplate import gofmt

    return gofmt.sprint(["<no value>" if a is None or a is MISSING else a for a in args])


_HTML = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026"}
_JS["="] = "\\u003D"


def html(*args: Any) -> str:
    return "".join(_HTML.get(ch, ch) for ch in _text_of(args))


def js(*args: Any) -> str:
    out = []
    for ch in _text_of(args):
        if ch in _JS:
            out.append(_JS[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u00{ord(ch):02X}")
        elif ord(ch) >= 0x80 and not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def urlquery(*args: Any) -> str:
    """url.QueryEscape: space as +, unreserved bytes kept, the rest %XX."""
    out = []
    for byte in _text_of(args).encode("utf-8", "surrogateescape"):
        if byte in _UNRESERVED:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def _not(value: Any) -> bool:
    return not truth(value)


# fmt's printing is imported when a template prints, not with every template
def _print(*args: Any) -> str:
    from dockyard.cli.gotemplate import gofmt

    return gofmt.sprint(list(args))


def _printf(fmt: str, *args: Any) -> str:
    from dockyard.cli.gotemplate import gofmt

    return gofmt.sprintf(fmt, list(args))


def _println(*args: Any) -> str:
    from dockyard.cli.gotemplate import gofmt

    return gofmt.sprintln(list(args))


BUILTINS = {
    f.name: f
    for f in (
        Func("and", truth, "value", "value"),  # short-circuits: done by the executor
        Func("or", truth, "value", "value"),
        Func("call", call, "value", "value"),
        Func("html", html, "", "any"),
        Func("index", index, "value", "value"),
        Func("slice", slice_, "value", "value"),
        Func("js", js, "", "any"),
        Func("len", length, "value"),
        Func("not", _not, "value"),
        Func("print", _print, "", "any"),
        Func("printf", _printf, "string", "any"),
        Func("println", _println, "", "any"),
        Func("urlquery", urlquery, "", "any"),
        Func("eq", eq, "value", "value"),
        Func("ge", ge, "value value"),
        Func("gt", gt, "value value"),
        Func("le", le, "value value"),
        Func("lt", lt, "value value"),
        Func("ne", ne, "value value"),
    )
}

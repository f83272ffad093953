"""Docker's template functions (docker/cli's ``templates`` package): json, split, join,
title, lower, upper, pad, truncate; and the stand-ins a table's header row is
rendered with, which leave the column names as they are."""

from __future__ import annotations

from dockyard.cli.gotemplate.errors import FuncError
from dockyard.cli.gotemplate.funcs import Func
from dockyard.cli.gotemplate.values import MISSING, sorted_keys, sprint_value, type_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def split(text: str, sep: str) -> list[str]:
    """strings.Split: an empty separator splits into characters."""
    if sep == "":
        return list(text)
    return text.split(sep)


def join(elems: Any, sep: str) -> str:
    if elems is None or elems is MISSING:
        return ""
    if isinstance(elems, list | tuple):
        return sep.join(e if isinstance(e, str) else sprint_value(e) for e in elems)
    if isinstance(elems, dict):
        return sep.join(sorted(sprint_value(elems[k]) for k in sorted_keys(elems)))
    raise FuncError(f"expected slice, got {type_name(elems)}")


def title(text: str) -> str:
    """strings.Title: the first letter of each word upper-cased, the rest untouched."""
    out = []
    prev = " "
    for ch in text:
        out.append(ch.upper() if _separator(prev) else ch)
        prev = ch
    return "".join(out)


def _separator(ch: str) -> bool:
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def pad(text: str, prefix: int, suffix: int) -> str:
    if text == "":
        return text
    return " " * max(prefix, 0) + text + " " * max(suffix, 0)


def truncate(text: str, length: int) -> str:
    if length < 0:
        raise FuncError(f"runtime error: slice bounds out of range [:{length}]")
    return text if len(text) < length else text[:length]


def _json(value: Any) -> str:
    from dockyard.cli.gotemplate import gojson

    return gojson.encode(value)


def _same(text: str, *_: Any) -> str:
    return text


DOCKER = {
    f.name: f
    for f in (
        Func("json", _json, "any"),
        Func("split", split, "string string"),
        Func("join", join, "any string"),
        Func("title", title, "string"),
        Func("lower", str.lower, "string"),
        Func("upper", str.upper, "string"),
        Func("pad", pad, "string int int"),
        Func("truncate", truncate, "string int"),
    )
}

#: a table's header is the row template run over the column names with these
HEADER = {
    f.name: f
    for f in (
        Func("json", _same, "string"),
        Func("split", _same, "string string"),
        Func("join", _same, "string string"),
        Func("title", _same, "string"),
        Func("lower", _same, "string"),
        Func("upper", _same, "string"),
        Func("truncate", _same, "string int"),
    )
}

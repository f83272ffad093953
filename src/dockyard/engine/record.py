"""Typed records for the engine's boundaries, without importing ``dataclasses``.

``dataclasses`` pulls in ``inspect``, ``re`` and ``enum``: about 10 ms, a
sixth of the budget of a whole ``dockyard run``. For mypy, `record` *is*
``dataclasses.dataclass`` (so constructors, fields and defaults are checked
as a dataclass's); at run time it is the small decorator below, which reads
the same class body: annotated fields, plain defaults, ``field(default_factory=...)``.

`to_json` and `from_json` map a record to JSON and back, recursing into
fields whose annotation names another record (``Mount``, ``list[Mount]``,
``dict[str, Mount]``, ``Mount | None``). JSON keys are the field names.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from dataclasses import dataclass as record
    from dataclasses import field
    from typing import Any, TypeVar

    T = TypeVar("T")
else:

    def field(*, default_factory):
        return _Factory(default_factory)

    def record(cls):
        return _build(cls)


_MISSING = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


def _build(cls: Any) -> Any:
    names: list[str] = []
    defaults: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        for name in vars(klass).get("__annotations__", {}):
            if name.startswith("_") or name in names:
                continue
            names.append(name)
    for name in names:
        value = getattr(cls, name, _MISSING)
        if value is not _MISSING:
            defaults[name] = value
    required = [n for n in names if n not in defaults]
    cls.__record_fields__ = tuple(names)
    cls.__record_defaults__ = defaults

    def __init__(self: Any, *args: object, **kwargs: object) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, got {len(args)}")
        for name, value in zip(names, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got {name!r} twice")
            kwargs[name] = value
        for name in names:
            if name in kwargs:
                setattr(self, name, kwargs.pop(name))
                continue
            default = defaults.get(name, _MISSING)
            if default is _MISSING:
                raise TypeError(f"{cls.__name__}() needs {name!r} (required: {required})")
            setattr(self, name, default.make() if isinstance(default, _Factory) else default)
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unexpected fields {sorted(kwargs)}")

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{cls.__name__}({inner})"

    cls.__init__ = __init__
    cls.__eq__ = __eq__
    cls.__hash__ = None
    cls.__repr__ = __repr__
    return cls


def fields_of(obj: object) -> tuple[str, ...]:
    return obj.__class__.__record_fields__  # type: ignore[attr-defined, no-any-return]


def to_json(value: Any) -> Any:
    """A record (or list/dict of them) as plain JSON values."""
    if hasattr(value.__class__, "__record_fields__"):
        return {name: to_json(getattr(value, name)) for name in fields_of(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(cls: type[T], raw: Any) -> T:
    """Build ``cls`` from what `to_json` made; unknown keys are ignored, missing take defaults."""
    if not isinstance(raw, dict):
        raise TypeError(f"{cls.__name__}: expected an object, got {type(raw).__name__}")
    hints = _hints(cls)
    values = {}
    for name in cls.__record_fields__:  # type: ignore[attr-defined]
        if name in raw:
            values[name] = _convert(hints.get(name, ""), raw[name], cls)
    return cls(**values)


def _hints(cls: type) -> dict[str, str]:
    hints: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        hints.update(vars(klass).get("__annotations__", {}))
    return hints


def _convert(annotation: str, value: Any, owner: type) -> Any:
    if value is None:
        return None
    annotation = annotation.replace(" | None", "").strip()
    if annotation.startswith("list[") and isinstance(value, list):
        inner = annotation[5:-1]
        return [_convert(inner, v, owner) for v in value]
    if annotation.startswith("dict[str, ") and isinstance(value, dict):
        inner = annotation[10:-1]
        return {k: _convert(inner, v, owner) for k, v in value.items()}
    target = getattr(sys.modules[owner.__module__], annotation, None)
    if target is not None and hasattr(target, "__record_fields__") and isinstance(value, dict):
        return from_json(target, value)
    return value


def replace(obj: T, **changes: Any) -> T:
    """A copy of ``obj`` with some fields changed (``dataclasses.replace``)."""
    values = {name: getattr(obj, name) for name in fields_of(obj)}
    values.update(changes)
    return obj.__class__(**values)


__all__ = ["field", "fields_of", "from_json", "record", "replace", "to_json"]

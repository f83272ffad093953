"""Python values seen as Go's text/template sees Go values.

| Python                | Go                                          | printed        |
|-----------------------|---------------------------------------------|----------------|
| ``MISSING``           | no value (a map's absent key)               | ``<no value>`` |
| ``None``              | nil (pointer, interface, JSON null)         | ``<nil>``      |
| bool, int, float, str | bool, int, float64, string                  | Go's ``%v``    |
| list, tuple           | slice                                       | ``[a b]``      |
| dict                  | map, keys in sorted order                   | ``map[k:v]``   |
| other objects         | struct: attributes are fields, class        | ``{a b}``      |
|                       | functions are methods                       |                |

An object may name its Go type for error messages (``GO_TYPE``), and say
what ``json`` makes of it (``__json__``).
"""

from __future__ import annotations

from dockyard.cli.gotemplate.strconv import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _Missing:
    """Go's invalid reflect.Value: what an absent map key evaluates to."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
_FUNCTION = type(quote)


def type_name(value: Any) -> str:
    """The Go type a value stands for, as errors name it."""
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    if isinstance(value, dict):
        return getattr(type(value), "GO_TYPE", "map[string]interface {}")
    if callable(value) and not hasattr(type(value), "GO_TYPE"):
        return "func"
    return str(getattr(type(value), "GO_TYPE", type(value).__name__))


def is_true(value: Any) -> tuple[bool, bool]:
    """Go's template truth: (truth, whether the value has one). Zero values are false."""
    if value is None or value is MISSING:
        return False, True
    if isinstance(value, bool | int | float | complex | str | list | tuple | dict):
        return bool(value), True
    return True, True  # structs and non-nil funcs are true


def method_of(obj: Any, name: str) -> Any:
    """The Go method ``name`` of an object: a function its class defines (not Python's own
    dict/list methods, not private names), bound to the object; or None."""
    if name.startswith("_"):
        return None
    for cls in type(obj).__mro__:
        if cls in _BUILTIN_CLASSES:
            return None
        attr = cls.__dict__.get(name)
        if attr is not None:
            if isinstance(attr, _FUNCTION):
                return getattr(obj, name)
            return None
    return None


_BUILTIN_CLASSES = (object, dict, list, tuple, str, int, float, bool)


def field_of(obj: Any, name: str) -> tuple[bool, Any]:
    """(found, value) of a struct field: a public attribute or a property."""
    if name.startswith("_") or isinstance(obj, _BUILTIN_CLASSES[1:]):
        return False, None
    try:
        return True, getattr(obj, name)
    except AttributeError:
        return False, None


def public_fields(obj: Any) -> list[tuple[str, Any]]:
    """A struct's fields in order: dataclass fields, else the instance's public attributes."""
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields is not None:
        return [(n, getattr(obj, n)) for n in fields if not n.startswith("_")]
    names = getattr(obj, "__dict__", {})
    return [(n, v) for n, v in names.items() if not n.startswith("_")]


def is_stringer(value: Any) -> bool:
    """Whether the object's class says how it prints (Go's fmt.Stringer)."""
    return any("__str__" in cls.__dict__ for cls in type(value).__mro__[:-1])


def sorted_keys(mapping: dict[Any, Any]) -> list[Any]:
    """Go's fmtsort order: numbers by value, strings by bytes, mixed kinds grouped."""
    try:
        return sorted(mapping)
    except TypeError:
        return sorted(mapping, key=lambda k: (type(k).__name__, str(k)))


def format_float(value: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(value, verb, prec, 64) for verbs e, f, g (prec -1: shortest)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if verb == "f" and prec >= 0:
        return f"{value:.{prec}f}"
    if verb == "e" and prec >= 0:
        return f"{value:.{prec}e}"
    if verb == "g" and prec >= 0:
        return f"{value:.{prec}g}"  # Go's %.Ng and Python's agree, exponent included
    # shortest: the digits of repr, placed as Go places them
    sign = "-" if str(value).startswith("-") else ""
    digits, point = _shortest(abs(value))
    if verb == "e":
        return sign + _e_form(digits, point - 1)
    if verb == "f":
        return sign + _f_form(digits, point)
    exp = point - 1
    if exp < -4 or exp >= 6:  # strconv's rule for the shortest %g (and so %v)
        return sign + _e_form(digits, exp)
    return sign + _f_form(digits, point)


def _shortest(value: float) -> tuple[str, int]:
    """repr's shortest round-trip digits and where the decimal point goes after them."""
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0")
    if not digits:
        return "0", 1
    return digits, point


def _e_form(digits: str, exp: int) -> str:
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{head}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _f_form(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def sprint_value(value: Any, plus: bool = False, top: bool = True) -> str:
    """Go's ``%v`` (``%+v`` with plus) of a value."""
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, complex):
        real, imag = format_float(value.real), format_float(value.imag)
        return f"({real}{'' if imag.startswith(('-', '+')) else '+'}{imag}i)"
    if isinstance(value, list | tuple):
        return "[" + " ".join(sprint_value(v, plus, False) for v in value) + "]"
    if isinstance(value, dict):
        items = (
            f"{sprint_value(k, plus, False)}:{sprint_value(value[k], plus, False)}"
            for k in sorted_keys(value)
        )
        return "map[" + " ".join(items) + "]"
    if is_stringer(value):
        return str(value)
    if callable(value):
        return f"{hex(id(value))}"
    fields = public_fields(value)
    if plus:
        return "{" + " ".join(f"{n}:{sprint_value(v, plus, False)}" for n, v in fields) + "}"
    return "{" + " ".join(sprint_value(v, plus, False) for _, v in fields) + "}"

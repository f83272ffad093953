"""Go's fmt.Sprint, Sprintln and Sprintf over Python values (the template's ``print``,
``println`` and ``printf``).

The verbs people put in Docker templates work as in Go: ``%s %v %+v %d
%q %t %x %X %o %b %c %U %e %f %g %T %%``, with flags ``-+# 0``, width and
precision (``*`` too). Mistakes print as Go prints them instead of
failing: ``%!d(string=hi)``, ``%!s(MISSING)``, ``%!(EXTRA int=1)``.
"""

from __future__ import annotations

from dockyard.cli.gotemplate.strconv import quote
from dockyard.cli.gotemplate.values import (
    MISSING,
    format_float,
    is_stringer,
    public_fields,
    sorted_keys,
    sprint_value,
    type_name,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(arg))
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


class _Spec:
    __slots__ = ("minus", "plus", "precision", "sharp", "space", "width", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width = -1
        self.precision = -1


def sprintf(fmt: str, args: list[Any]) -> str:
    out: list[str] = []
    argi = 0
    i, n = 0, len(fmt)
    while i < n:
        pct = fmt.find("%", i)
        if pct < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:pct])
        i = pct + 1
        spec = _Spec()
        while i < n and fmt[i] in "#0+- ":
            flag = fmt[i]
            spec.sharp |= flag == "#"
            spec.zero |= flag == "0"
            spec.plus |= flag == "+"
            spec.minus |= flag == "-"
            spec.space |= flag == " "
            i += 1
        if i < n and fmt[i] == "*":
            i += 1
            spec.width, argi, bad = _star(args, argi)
            if bad:
                out.append("%!(BADWIDTH)")
            elif spec.width < 0:
                spec.minus, spec.width = True, -spec.width
        else:
            start = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > start:
                spec.width = int(fmt[start:i])
                if spec.width > _TOO_LARGE:  # Go gives up on the rest of the format
                    i, spec.width = n, -1
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                i += 1
                spec.precision, argi, bad = _star(args, argi)
                if bad or spec.precision < 0:
                    spec.precision = -1
                    if bad:
                        out.append("%!(BADPREC)")
            else:
                start = i
                while i < n and fmt[i].isdigit():
                    i += 1
                spec.precision = int(fmt[start:i] or "0")
                if spec.precision > _TOO_LARGE:
                    i, spec.precision = n, -1
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(format_arg(args[argi], verb, spec))
        argi += 1
    if argi < len(args):
        extra = []
        for arg in args[argi:]:
            if arg is None or arg is MISSING:
                extra.append("<nil>")
            else:
                extra.append(f"{type_name(arg)}={sprint_value(arg)}")
        out.append("%!(EXTRA " + ", ".join(extra) + ")")
    return "".join(out)


_TOO_LARGE = 1_000_000  # fmt's limit on a width or precision


def _star(args: list[Any], argi: int) -> tuple[int, int, bool]:
    arg = args[argi] if argi < len(args) else None
    if isinstance(arg, bool) or not isinstance(arg, int) or abs(arg) > _TOO_LARGE:
        return -1, argi + 1, True
    return arg, argi + 1, False


def format_arg(arg: Any, verb: str, spec: _Spec) -> str:
    if verb == "T":
        return _pad(type_name(arg), spec)
    if arg is None or arg is MISSING:
        return _pad("<nil>", spec) if verb == "v" else f"%!{verb}(<nil>)"
    if isinstance(arg, bool):
        if verb in "tv":
            return _pad("true" if arg else "false", spec)
        return _bad(verb, arg)
    if isinstance(arg, int):
        return _integer(arg, verb, spec)
    if isinstance(arg, float):
        return _float(arg, verb, spec)
    if isinstance(arg, str):
        return _string(arg, verb, spec)
    if isinstance(arg, complex):
        if verb not in "vgGeEfF":
            return _bad(verb, arg)
        real = _float(arg.real, verb, _Spec())
        imag = _float(arg.imag, verb, _Spec())
        sign = "" if imag.startswith(("+", "-")) else "+"
        return _pad(f"({real}{sign}{imag}i)", spec, False)
    if isinstance(arg, list | tuple):
        inner = " ".join(format_arg(v, verb, _Spec()) for v in arg)
        return _pad("[" + inner + "]", spec)
    if isinstance(arg, dict):
        inner = " ".join(
            f"{format_arg(k, verb, _Spec())}:{format_arg(arg[k], verb, _Spec())}"
            for k in sorted_keys(arg)
        )
        return _pad("map[" + inner + "]", spec)
    if is_stringer(arg) and verb in "vsqxX":
        return _string(str(arg), "s" if verb == "v" else verb, spec)
    if verb == "v" and spec.plus:
        return _pad(sprint_value(arg, plus=True), spec)
    fields = public_fields(arg)
    if fields or verb == "v":
        return _pad("{" + " ".join(format_arg(v, verb, _Spec()) for _, v in fields) + "}", spec)
    return _bad(verb, arg)


def _bad(verb: str, arg: Any) -> str:
    return f"%!{verb}({type_name(arg)}={sprint_value(arg)})"


def _pad(text: str, spec: _Spec, zero_ok: bool = True) -> str:
    if spec.width < 0 or len(text) >= spec.width:
        return text
    fill = spec.width - len(text)
    if spec.minus:
        return text + " " * fill
    if spec.zero and zero_ok:
        return "0" * fill + text
    return " " * fill + text


def _integer(value: int, verb: str, spec: _Spec) -> str:
    if verb in "vd":
        digits, prefix = str(abs(value)), ""
    elif verb == "b":
        digits, prefix = format(abs(value), "b"), "0b" if spec.sharp else ""
    elif verb in "oO":
        digits = format(abs(value), "o")
        prefix = "0o" if verb == "O" else ("0" if spec.sharp else "")
    elif verb in "xX":
        digits = format(abs(value), "x" if verb == "x" else "X")
        prefix = ("0x" if verb == "x" else "0X") if spec.sharp else ""
    elif verb == "c":
        return _pad(_rune(value), spec, False)
    elif verb == "q":
        return _pad(quote(_rune(value), "'"), spec, False)
    elif verb == "U":
        text = f"U+{value:04X}"
        return _pad(text + (f" '{_rune(value)}'" if spec.sharp else ""), spec, False)
    else:
        return _bad(verb, value)
    if spec.precision >= 0:
        digits = digits.rjust(spec.precision, "0") if spec.precision else digits.lstrip("0")
    sign = "-" if value < 0 else "+" if spec.plus else " " if spec.space else ""
    head = sign + prefix
    if spec.zero and not spec.minus and spec.precision < 0 and spec.width > 0:
        digits = digits.rjust(spec.width - len(head), "0")
    return _pad(head + digits, spec, False)


def _rune(value: int) -> str:
    return chr(value) if 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else "\ufffd"


def _float(value: float, verb: str, spec: _Spec) -> str:
    lower = verb.lower()
    if verb == "v":
        lower = "g"
    if lower not in "efg":
        return _bad(verb, value)
    prec = spec.precision
    if lower in "ef" and prec < 0:
        prec = 6
    text = format_float(value, lower, prec)
    if verb in "EG":
        text = text.upper()
    if spec.sharp and lower == "g" and "." not in text and "e" not in text.lower():
        text += "."
    if text[0] not in "+-":
        text = ("+" if spec.plus else " " if spec.space else "") + text
    if spec.zero and not spec.minus and spec.width > len(text) and text[-1].isdigit():
        sign = text[0] if text[0] in "+- " else ""
        body = text[len(sign) :]
        return sign + body.rjust(spec.width - len(sign), "0")
    return _pad(text, spec, False)


def _string(value: str, verb: str, spec: _Spec) -> str:
    if verb in "vs":
        text = value[: spec.precision] if spec.precision >= 0 else value
        return _pad(text, spec)
    if verb == "q":
        if spec.sharp and "`" not in value:
            return _pad("`" + value + "`", spec)
        text = value[: spec.precision] if spec.precision >= 0 else value
        return _pad(quote(text), spec)
    if verb in "xX":
        data = value.encode("utf-8", "surrogateescape")
        if spec.precision >= 0:
            data = data[: spec.precision]
        hex_text = data.hex()
        if spec.space:
            hex_text = " ".join(hex_text[i : i + 2] for i in range(0, len(hex_text), 2))
        return _pad(hex_text.upper() if verb == "X" else hex_text, spec)
    return _bad(verb, value)

"""Go's string quoting (strconv.Quote, Unquote, UnquoteChar), used by the parser for
literals and by printing for ``%q`` and error messages."""

from __future__ import annotations

_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES["\v"] = "\\v"


class SyntaxErr(ValueError):
    """strconv's ErrSyntax: Go's text is "invalid syntax"."""

    def __init__(self) -> None:
        super().__init__("invalid syntax")


def quote(s: str, quote_char: str = '"') -> str:
    """strconv.Quote: printable characters as they are, the rest escaped."""
    out = [quote_char]
    for ch in s:
        if ch == quote_char or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        else:
            code = ord(ch)
            if code < 0x20 or code == 0x7F:
                out.append(f"\\x{code:02x}")
            elif 0xD800 <= code <= 0xDFFF:
                out.append("\\ufffd")  # a lone surrogate is not a rune: Go shows U+FFFD
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append(quote_char)
    return "".join(out)


def unquote_char(s: str, i: int, quote_char: str) -> tuple[str, int]:
    """One character of a quoted literal at s[i]: (the character, the index after it)."""
    ch = s[i]
    if ch == quote_char and quote_char in "'\"":
        raise SyntaxErr()
    if ch != "\\":
        return ch, i + 1
    if i + 1 >= len(s):
        raise SyntaxErr()
    c = s[i + 1]
    if c in _SIMPLE:
        return _SIMPLE[c], i + 2
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i + 2 : i + 2 + n]
        if len(digits) != n or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise SyntaxErr()
        code = int(digits, 16)
        if c != "x" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
            raise SyntaxErr()
        return chr(code), i + 2 + n
    if c in "01234567":
        digits = s[i + 1 : i + 4]
        if len(digits) != 3 or any(d not in "01234567" for d in digits):
            raise SyntaxErr()
        code = int(digits, 8)
        if code > 255:
            raise SyntaxErr()
        return chr(code), i + 4
    if c == quote_char and c in "'\"":
        return c, i + 2
    raise SyntaxErr()


def unquote(s: str) -> str:
    """strconv.Unquote for "..." and `...` literals."""
    if len(s) < 2 or s[0] != s[-1]:
        raise SyntaxErr()
    q, body = s[0], s[1:-1]
    if q == "`":
        if "`" in body:
            raise SyntaxErr()
        return body.replace("\r", "")
    if q not in "\"'":
        raise SyntaxErr()
    if "\n" in body:
        raise SyntaxErr()
    out = []
    i = 0
    while i < len(body):
        ch, i = unquote_char(body, i, q)
        out.append(ch)
    if q == "'" and len(out) != 1:
        raise SyntaxErr()
    return "".join(out)

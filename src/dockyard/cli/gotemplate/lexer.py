"""The scanner of Go's text/template: text, ``{{ }}`` actions and the tokens inside them.

It follows Go's lexer rule for rule, because what a template means (and
where an error is reported) hangs on those rules: ``{{- `` and `` -}}``
trim the white space beside an action (the space after ``-`` is required,
so ``{{-3}}`` is the number -3); ``{{/* */}}`` is a comment that must touch
its delimiters; ``.A.B`` is two field tokens; ``$`` alone is a variable;
newlines are allowed inside actions; ``break`` and ``continue`` are
keywords. Items carry their byte offset (for ``line:col`` in execution
errors) and line (for parse errors).
"""

from __future__ import annotations

from dockyard.cli.gotemplate.strconv import quote

# item types; keywords come after KEYWORD
ERROR = 0
BOOL = 1
CHAR = 2  # a printable ASCII character: the grab bag for ',' and friends
CHAR_CONSTANT = 3
COMMENT = 4
COMPLEX = 5
ASSIGN = 6  # =
DECLARE = 7  # :=
EOF = 8
FIELD = 9
IDENTIFIER = 10
LEFT_DELIM = 11
LEFT_PAREN = 12
NUMBER = 13
PIPE = 14
RAW_STRING = 15
RIGHT_DELIM = 16
RIGHT_PAREN = 17
SPACE = 18
STRING = 19
TEXT = 20
VARIABLE = 21
KEYWORD = 30
BLOCK = 31
BREAK = 32
CONTINUE = 33
DOT = 34
DEFINE = 35
ELSE = 36
END = 37
IF = 38
NIL = 39
RANGE = 40
TEMPLATE = 41
WITH = 42

KEYWORDS = {
    ".": DOT,
    "block": BLOCK,
    "break": BREAK,
    "continue": CONTINUE,
    "define": DEFINE,
    "else": ELSE,
    "end": END,
    "if": IF,
    "range": RANGE,
    "nil": NIL,
    "template": TEMPLATE,
    "with": WITH,
}

LEFT, RIGHT = "{{", "}}"
SPACES = " \t\r\n"


class Item:
    __slots__ = ("line", "pos", "typ", "val")

    def __init__(self, typ: int, pos: int, val: str, line: int) -> None:
        self.typ = typ
        self.pos = pos
        self.val = val
        self.line = line

    def __str__(self) -> str:
        """How Go's parser names a token in "unexpected X in Y"."""
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ > KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return quote(self.val[:10]) + "..."
        return quote(self.val)


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


def _left_trim(s: str, at: int) -> bool:
    """``{{- ``: a minus and a space right after the left delimiter."""
    return s[at : at + 1] == "-" and s[at + 1 : at + 2] in tuple(SPACES)


def _right_trim(s: str, at: int) -> bool:
    """`` -}}``: a space, a minus and the right delimiter."""
    return s[at : at + 1] in tuple(SPACES) and s.startswith("-" + RIGHT, at + 1)


class Lexer:
    """Turns the template's text into a list of items; the last is EOF or ERROR."""

    def __init__(self, text: str, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.s = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.items: list[Item] = []

    # -- bookkeeping -------------------------------------------------------
    def _emit(self, typ: int) -> None:
        self.items.append(Item(typ, self.start, self.s[self.start : self.pos], self.start_line))
        self._skip()

    def _skip(self) -> None:
        """Drop the pending text (counting its newlines)."""
        self.line += self.s.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def _error(self, message: str) -> None:
        self.items.append(Item(ERROR, self.start, message, self.start_line))

    def _peek(self) -> str:
        return self.s[self.pos : self.pos + 1]

    def _at_right_delim(self) -> tuple[bool, bool]:
        if _right_trim(self.s, self.pos):
            return True, True
        return self.s.startswith(RIGHT, self.pos), False

    def _at_terminator(self) -> bool:
        ch = self._peek()
        if ch == "" or ch in SPACES or ch in ".,|:()":
            return True
        return self.s.startswith(RIGHT, self.pos)

    # -- the scan ----------------------------------------------------------
    def run(self) -> list[Item]:
        s = self.s
        while True:
            at = s.find(LEFT, self.pos)
            if at < 0:
                self.pos = len(s)
                if self.pos > self.start:
                    self._emit(TEXT)
                self.items.append(Item(EOF, self.pos, "", self.start_line))
                return self.items
            end = at
            if _left_trim(s, at + len(LEFT)):
                end = len(s[:at].rstrip(SPACES))
                end = max(end, self.start)
            if end > self.start:
                self.pos = end
                self.line += s.count("\n", self.start, end)
                self.items.append(Item(TEXT, self.start, s[self.start : end], self.start_line))
                self.start, self.start_line = end, self.line
            self.pos = at
            self._skip()
            if not self._action():
                return self.items

    def _action(self) -> bool:
        """From a left delimiter to past its right one; False after an error."""
        s = self.s
        self.pos += len(LEFT)
        trim = _left_trim(s, self.pos)
        after = 2 if trim else 0
        if s.startswith("/*", self.pos + after):
            self.pos += after
            self._skip()
            return self._comment()
        self._emit(LEFT_DELIM)
        self.pos += after
        self._skip()
        self.paren_depth = 0
        while True:
            delim, trim_right = self._at_right_delim()
            if delim:
                if self.paren_depth:
                    self._error("unclosed left paren")
                    return False
                self._right_delim(trim_right)
                return True
            if not self._inside():
                return False

    def _right_delim(self, trim: bool) -> None:
        if trim:
            self.pos += 2
            self._skip()
        self.pos += len(RIGHT)
        self._emit(RIGHT_DELIM)
        if trim:
            self.pos += len(self.s[self.pos :]) - len(self.s[self.pos :].lstrip(SPACES))
            self._skip()

    def _comment(self) -> bool:
        self.pos += 2
        end = self.s.find("*/", self.pos)
        if end < 0:
            self._error("unclosed comment")
            return False
        self.pos = end + 2
        delim, trim = self._at_right_delim()
        if not delim:
            self._error("comment ends before closing delimiter")
            return False
        self.pos += (2 if trim else 0) + len(RIGHT)
        if trim:
            self.pos += len(self.s[self.pos :]) - len(self.s[self.pos :].lstrip(SPACES))
        self._skip()
        return True

    def _inside(self) -> bool:
        """One token inside an action; False after an error."""
        s = self.s
        if self.pos >= len(s):
            self._error("unclosed action")
            return False
        ch = s[self.pos]
        if ch in SPACES:
            return self._space()
        self.pos += 1
        if ch == "=":
            self._emit(ASSIGN)
        elif ch == ":":
            if self._peek() != "=":
                self._error("expected :=")
                return False
            self.pos += 1
            self._emit(DECLARE)
        elif ch == "|":
            self._emit(PIPE)
        elif ch == '"':
            return self._quote()
        elif ch == "`":
            return self._raw_quote()
        elif ch == "$":
            return self._field_or_variable(VARIABLE)
        elif ch == "'":
            return self._char()
        elif ch == "." and self._peek() != "" and not "0" <= self._peek() <= "9":
            return self._field_or_variable(FIELD)
        elif ch in "+-." or "0" <= ch <= "9":
            self.pos -= 1
            return self._number()
        elif _is_alnum(ch):
            self.pos -= 1
            return self._identifier()
        elif ch == "(":
            self.paren_depth += 1
            self._emit(LEFT_PAREN)
        elif ch == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self._error("unexpected right paren")
                return False
            self._emit(RIGHT_PAREN)
        elif " " <= ch <= "~":
            self._emit(CHAR)
        else:
            self._error(f"unrecognized character in action: {_unicode_name(ch)}")
            return False
        return True

    def _space(self) -> bool:
        s, count = self.s, 0
        while self.pos < len(s) and s[self.pos] in SPACES:
            self.pos += 1
            count += 1
        # " -}}" closes the action: leave its space to the right delimiter
        if _right_trim(s, self.pos - 1):
            self.pos -= 1
            if count == 1:
                return True
        self._emit(SPACE)
        return True

    def _identifier(self) -> bool:
        s = self.s
        while self.pos < len(s) and _is_alnum(s[self.pos]):
            self.pos += 1
        if not self._at_terminator():
            self._error(f"bad character {_unicode_name(self._peek())}")
            return False
        word = s[self.start : self.pos]
        typ = KEYWORDS.get(word, 0)
        if typ > KEYWORD:
            if (typ == BREAK and not self.break_ok) or (typ == CONTINUE and not self.continue_ok):
                typ = IDENTIFIER
            self._emit(typ)
        elif word in ("true", "false"):
            self._emit(BOOL)
        else:
            self._emit(IDENTIFIER)
        return True

    def _field_or_variable(self, typ: int) -> bool:
        if self._at_terminator():  # "." or "$" alone
            self._emit(DOT if typ == FIELD else VARIABLE)
            return True
        s = self.s
        while self.pos < len(s) and _is_alnum(s[self.pos]):
            self.pos += 1
        if not self._at_terminator():
            self._error(f"bad character {_unicode_name(self._peek())}")
            return False
        self._emit(typ)
        return True

    def _char(self) -> bool:
        s = self.s
        while True:
            ch = s[self.pos : self.pos + 1]
            self.pos += 1
            if ch == "\\":
                nxt = s[self.pos : self.pos + 1]
                self.pos += 1
                if nxt not in ("", "\n"):
                    continue
                ch = nxt
            if ch in ("", "\n"):
                self.pos = min(self.pos, len(s))
                self._error("unterminated character constant")
                return False
            if ch == "'":
                self._emit(CHAR_CONSTANT)
                return True

    def _quote(self) -> bool:
        s = self.s
        while True:
            ch = s[self.pos : self.pos + 1]
            self.pos += 1
            if ch == "\\":
                nxt = s[self.pos : self.pos + 1]
                self.pos += 1
                if nxt not in ("", "\n"):
                    continue
                ch = nxt
            if ch in ("", "\n"):
                self.pos = min(self.pos, len(s))
                self._error("unterminated quoted string")
                return False
            if ch == '"':
                self._emit(STRING)
                return True

    def _raw_quote(self) -> bool:
        end = self.s.find("`", self.pos)
        if end < 0:
            self._error("unterminated raw quoted string")
            return False
        self.pos = end + 1
        self._emit(RAW_STRING)
        return True

    def _number(self) -> bool:
        if not self._scan_number():
            self._error(f"bad number syntax: {quote(self.s[self.start : self.pos])}")
            return False
        if self._peek() in ("+", "-"):  # complex: 1+2i, no spaces
            if not self._scan_number() or self.s[self.pos - 1] != "i":
                self._error(f"bad number syntax: {quote(self.s[self.start : self.pos])}")
                return False
            self._emit(COMPLEX)
            return True
        self._emit(NUMBER)
        return True

    def _accept(self, valid: str) -> bool:
        ch = self._peek()
        if ch and ch in valid:
            self.pos += 1
            return True
        return False

    def _accept_run(self, valid: str) -> None:
        while self._accept(valid):
            pass

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        ch = self._peek()
        if ch and _is_alnum(ch):
            self.pos += 1
            return False
        return True


def _unicode_name(ch: str) -> str:
    """Go's %#U: U+0021 '!'."""
    if not ch:
        return "U+FFFFFFFFFFFFFFFF"  # Go's eof rune (-1) as %#U prints it
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


def lex(text: str, break_ok: bool = True, continue_ok: bool = True) -> list[Item]:
    return Lexer(text, break_ok, continue_ok).run()

"""Go's text/template parser: items from the lexer into a tree of nodes.

A recursive descent with Go's grammar and Go's error texts
("template: :1: unexpected "}" in operand", "function "foo" not
defined"), so a user's mistake reads as it does with Docker. ``parse``
returns the named trees of one template text: "" for the text itself,
plus one per ``{{define}}`` and ``{{block}}``.
"""

from __future__ import annotations

from dockyard.cli.gotemplate import lexer as L
from dockyard.cli.gotemplate import nodes as N
from dockyard.cli.gotemplate.errors import ParseError
from dockyard.cli.gotemplate.strconv import SyntaxErr, quote, unquote, unquote_char

MAX_DEPTH = 10000  # nested parentheses, as Go limits them


class Parser:
    def __init__(self, name: str, items: list[L.Item], funcs: frozenset[str], trees: dict) -> None:  # type: ignore[type-arg]
        self.name = name
        self.items = items
        self.i = 0
        self.funcs = funcs
        self.trees: dict[str, N.ListNode] = trees
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.depth = 0
        self.seen = 0  # the furthest item read: Go's errors take their line from it

    # -- tokens ------------------------------------------------------------
    def _at(self, i: int) -> L.Item:
        i = min(i, len(self.items) - 1)
        self.seen = max(self.seen, i)
        return self.items[i]

    def next(self) -> L.Item:
        item = self._at(self.i)
        self.i += 1
        return item

    def backup(self) -> None:
        self.i -= 1

    def peek(self) -> L.Item:
        return self._at(self.i)

    def next_non_space(self) -> L.Item:
        while True:
            item = self.next()
            if item.typ != L.SPACE:
                return item

    def peek_non_space(self) -> L.Item:
        item = self.next_non_space()
        self.backup()
        return item

    # -- errors ------------------------------------------------------------
    def error(self, message: str) -> ParseError:
        line = self.items[self.seen].line
        return ParseError(f"template: {self.name}:{line}: {message}")

    def unexpected(self, item: L.Item, context: str) -> ParseError:
        if item.typ == L.ERROR:
            extra = ""
            if self.action_line and self.action_line != item.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if item.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.error(f"{item}{extra}")
        return self.error(f"unexpected {item} in {context}")

    def expect(self, typ: int, context: str) -> L.Item:
        item = self.next_non_space()
        if item.typ != typ:
            raise self.unexpected(item, context)
        return item

    # -- the grammar -------------------------------------------------------
    def parse(self) -> N.ListNode:
        root = N.ListNode(self.peek().pos)
        while self.peek().typ != L.EOF:
            if self.peek().typ == L.LEFT_DELIM:
                mark = self.i
                self.next()
                if self.next_non_space().typ == L.DEFINE:
                    self.definition()
                    continue
                self.i = mark
            node = self.text_or_action()
            if isinstance(node, N.EndNode | N.ElseNode):
                raise self.error(f"unexpected {node}")
            root.nodes.append(node)
        return root

    def add(self, name: str, root: N.ListNode) -> None:
        old = self.trees.get(name)
        if old is None or _empty(old):
            self.trees[name] = root
        elif not _empty(root):
            raise self.error(f"template: multiple definition of template {quote(name)}")

    def definition(self) -> None:
        context = "define clause"
        item = self.next_non_space()
        if item.typ not in (L.STRING, L.RAW_STRING):
            raise self.unexpected(item, context)
        name = self.unquote(item.val)
        self.expect(L.RIGHT_DELIM, context)
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, N.EndNode):
            raise self.error(f"unexpected {end} in {context}")
        self.add(name, body)

    def item_list(self) -> tuple[N.ListNode, N.Node]:
        body = N.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != L.EOF:
            node = self.text_or_action()
            if isinstance(node, N.EndNode | N.ElseNode):
                return body, node
            body.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> N.Node:
        item = self.next_non_space()
        if item.typ == L.TEXT:
            return N.TextNode(item.pos, item.val)
        if item.typ == L.LEFT_DELIM:
            self.action_line = item.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if item.typ == L.COMMENT:
            return N.CommentNode(item.pos, item.val)
        raise self.unexpected(item, "input")

    def action(self) -> N.Node:
        item = self.next_non_space()
        typ = item.typ
        if typ == L.BLOCK:
            return self.block()
        if typ in (L.BREAK, L.CONTINUE):
            word = "break" if typ == L.BREAK else "continue"
            after = self.next_non_space()
            if after.typ != L.RIGHT_DELIM:
                raise self.unexpected(after, "{{" + word + "}}")
            if not self.range_depth:
                raise self.error("{{" + word + "}} outside {{range}}")
            return N.BreakNode(item.pos) if typ == L.BREAK else N.ContinueNode(item.pos)
        if typ == L.ELSE:
            return self.else_control()
        if typ == L.END:
            return N.EndNode(self.expect(L.RIGHT_DELIM, "end").pos)
        if typ == L.IF:
            return N.IfNode(*self.control("if"))
        if typ == L.RANGE:
            return N.RangeNode(*self.control("range"))
        if typ == L.TEMPLATE:
            return self.template_control()
        if typ == L.WITH:
            return N.WithNode(*self.control("with"))
        self.backup()
        item = self.peek()
        return N.ActionNode(item.pos, item.line, self.pipeline("command", L.RIGHT_DELIM))

    def else_control(self) -> N.Node:
        nxt = self.peek_non_space()
        if nxt.typ in (L.IF, L.WITH):  # {{else if}}: the if is parsed by the caller
            return N.ElseNode(nxt.pos)
        return N.ElseNode(self.expect(L.RIGHT_DELIM, "else").pos)

    def control(self, context: str) -> tuple[int, int, N.PipeNode, N.ListNode, N.ListNode | None]:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, L.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, N.ElseNode):
                # {{else if x}} and {{else with x}} are {{else}}{{if x}}...{{end}}{{end}}
                if context in ("if", "with") and self.peek().typ == (
                    L.IF if context == "if" else L.WITH
                ):
                    self.next()
                    else_list = N.ListNode(nxt.pos)
                    node_type = N.IfNode if context == "if" else N.WithNode
                    else_list.nodes.append(node_type(*self.control(context)))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, N.EndNode):
                        raise self.error(f"expected end; found {nxt}")
            return pipe.pos, pipe.line, pipe, body, else_list
        finally:
            del self.vars[mark:]

    def block(self) -> N.Node:
        context = "block clause"
        item = self.next_non_space()
        name = self.template_name(item, context)
        pipe = self.pipeline(context, L.RIGHT_DELIM)
        saved = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        body, end = self.item_list()
        self.vars, self.range_depth = saved
        if not isinstance(end, N.EndNode):
            raise self.error(f"unexpected {end} in {context}")
        self.add(name, body)
        return N.TemplateNode(item.pos, item.line, name, pipe)

    def template_control(self) -> N.Node:
        context = "template clause"
        item = self.next_non_space()
        name = self.template_name(item, context)
        pipe = None
        if self.next_non_space().typ != L.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, L.RIGHT_DELIM)
        return N.TemplateNode(item.pos, item.line, name, pipe)

    def template_name(self, item: L.Item, context: str) -> str:
        if item.typ not in (L.STRING, L.RAW_STRING):
            raise self.unexpected(item, context)
        return self.unquote(item.val)

    def unquote(self, text: str) -> str:
        try:
            return unquote(text)
        except SyntaxErr as exc:
            raise self.error(str(exc)) from None

    def pipeline(self, context: str, end: int) -> N.PipeNode:
        first = self.peek_non_space()
        pipe = N.PipeNode(first.pos, first.line)
        while (var := self.peek_non_space()).typ == L.VARIABLE:
            self.next_non_space()
            mark = self.i
            nxt = self.peek_non_space()
            if nxt.typ in (L.ASSIGN, L.DECLARE):
                pipe.is_assign = nxt.typ == L.ASSIGN
                self.next_non_space()
                pipe.decl.append(N.VariableNode(var.pos, [var.val]))
                self.vars.append(var.val)
                break
            if nxt.typ == L.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(N.VariableNode(var.pos, [var.val]))
                self.vars.append(var.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (L.VARIABLE, L.RIGHT_DELIM, L.RIGHT_PAREN):
                        continue  # the second variable of range $i, $v :=
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            self.i = mark - 1  # an argument, not a declaration: put the variable back
            break
        while True:
            item = self.next_non_space()
            if item.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if item.typ in _OPERAND_STARTS:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(item, context)

    def check_pipeline(self, pipe: N.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], N.BoolNode | N.DotNode | N.NilNode | N.NumberNode):
                raise self.error(f"non executable command in pipeline stage {i + 2}")
            if isinstance(cmd.args[0], N.StringNode):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> N.CommandNode:
        cmd = N.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            item = self.next()
            if item.typ == L.SPACE:
                continue
            if item.typ in (L.RIGHT_DELIM, L.RIGHT_PAREN):
                self.backup()
            elif item.typ != L.PIPE:
                raise self.unexpected(item, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> N.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == L.FIELD:
            chain = N.ChainNode(self.peek().pos, node)
            while self.peek().typ == L.FIELD:
                chain.field.append(self.next().val[1:])
            if isinstance(node, N.FieldNode):
                return N.FieldNode(chain.pos, node.ident + chain.field)
            if isinstance(node, N.VariableNode):
                return N.VariableNode(chain.pos, node.ident + chain.field)
            if isinstance(node, N.BoolNode | N.StringNode | N.NumberNode | N.NilNode | N.DotNode):
                raise self.error(f"unexpected . after term {quote(str(node))}")
            return chain
        return node

    def term(self) -> N.Node | None:
        item = self.next_non_space()
        typ = item.typ
        if typ == L.IDENTIFIER:
            if item.val not in self.funcs:
                raise self.error(f"function {quote(item.val)} not defined")
            return N.IdentifierNode(item.pos, item.val)
        if typ == L.DOT:
            return N.DotNode(item.pos)
        if typ == L.NIL:
            return N.NilNode(item.pos)
        if typ == L.VARIABLE:
            return self.use_var(item)
        if typ == L.FIELD:
            return N.FieldNode(item.pos, [item.val[1:]])
        if typ == L.BOOL:
            return N.BoolNode(item.pos, item.val == "true")
        if typ in (L.CHAR_CONSTANT, L.COMPLEX, L.NUMBER):
            return self.number(item)
        if typ == L.LEFT_PAREN:
            if self.depth >= MAX_DEPTH:
                raise self.error("max expression depth exceeded")
            self.depth += 1
            try:
                return self.pipeline("parenthesized pipeline", L.RIGHT_PAREN)
            finally:
                self.depth -= 1
        if typ in (L.STRING, L.RAW_STRING):
            return N.StringNode(item.pos, item.val, self.unquote(item.val))
        self.backup()
        return None

    def use_var(self, item: L.Item) -> N.VariableNode:
        parts = item.val.split(".")
        if parts[0] not in self.vars:
            raise self.error(f"undefined variable {quote(parts[0])}")
        return N.VariableNode(item.pos, parts)

    def number(self, item: L.Item) -> N.NumberNode:
        try:
            return parse_number(item)
        except ValueError as exc:
            raise self.error(str(exc)) from None


_OPERAND_STARTS = (
    L.BOOL,
    L.CHAR_CONSTANT,
    L.COMPLEX,
    L.DOT,
    L.FIELD,
    L.IDENTIFIER,
    L.NUMBER,
    L.NIL,
    L.RAW_STRING,
    L.STRING,
    L.VARIABLE,
    L.LEFT_PAREN,
)

_INT64 = 1 << 63


def parse_number(item: L.Item) -> N.NumberNode:
    """Go's parse.newNumber: what a number literal may stand for."""
    text = item.val
    node = N.NumberNode(item.pos, text)
    if item.typ == L.CHAR_CONSTANT:
        try:
            ch, end = unquote_char(text, 1, "'")
        except (SyntaxErr, IndexError):
            raise ValueError(f"malformed character constant: {text}") from None
        if end != len(text) - 1 or text[end] != "'":
            raise ValueError(f"malformed character constant: {text}")
        node.is_int = node.is_uint = node.is_float = True
        node.int = ord(ch)
        node.float = float(ord(ch))
        return node
    if item.typ == L.COMPLEX or text.endswith("i"):
        try:
            node.complex = complex(text[:-1].replace("_", "") + "j")
        except ValueError:
            raise ValueError(f"illegal number syntax: {quote(text)}") from None
        node.is_complex = True
        if node.complex.imag == 0:
            node.is_float = True
            node.float = node.complex.real
        return node
    whole = _go_int(text)
    if whole is not None and -_INT64 <= whole < 1 << 64:
        if whole >= 0 and (not text.startswith(("+", "-")) or whole == 0):
            node.is_uint = True  # -0 too, as Go has it
        if whole < _INT64:
            node.is_int = True
            node.int = whole
        node.is_float = True
        node.float = float(whole)
    else:
        value = _go_float(text)
        if value is not None:
            if not any(c in text for c in ".eEpP"):
                raise ValueError(f"integer overflow: {quote(text)}")
            node.is_float = True
            node.float = value
            if value == int(value):
                node.is_int = -_INT64 <= int(value) < _INT64
                node.is_uint = 0 <= int(value) < 1 << 64
                node.int = int(value)
    if not (node.is_int or node.is_uint or node.is_float):
        raise ValueError(f"illegal number syntax: {quote(text)}")
    return node


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, ...) without the range check: 0x, 0o, 0b, 017, 1_000."""
    body = text.lstrip("+-")
    if len(text) - len(body) > 1 or not body:
        return None
    sign = -1 if text.startswith("-") else 1
    try:
        if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
            return sign * int(body[1:], 8)
        return sign * int(body, 0)
    except ValueError:
        return None


def _go_float(text: str) -> float | None:
    try:
        if text.lstrip("+-")[:2] in ("0x", "0X"):
            if not any(c in text for c in "pP"):
                return None  # Go's hex floats need their p exponent
            return float.fromhex(text.replace("_", ""))
        return float(text)
    except (ValueError, OverflowError):
        return None


def _empty(root: N.ListNode) -> bool:
    """Go's IsEmptyTree: nothing but space and comments."""
    for node in root.nodes:
        if isinstance(node, N.TextNode):
            if node.text.strip(" \t\r\n\v\f"):
                return False
        elif not isinstance(node, N.CommentNode):
            return False
    return True


def parse(text: str, funcs: frozenset[str], name: str = "") -> dict[str, N.ListNode]:
    """The trees of a template text: ``name`` is the text itself, the others its
    {{define}}s and {{block}}s."""
    trees: dict[str, N.ListNode] = {}
    parser = Parser(name, L.lex(text), funcs, trees)
    parser.add(name, parser.parse())
    return trees

"""The parse tree of a template: Go's text/template/parse node kinds.

Each node keeps its byte offset in the template (errors say ``line:col``)
and prints itself as Go's ``Node.String()`` does, because execution
errors quote the node they failed at: ``executing "" at <index .RepoTags 1>``.
"""

from __future__ import annotations

from dockyard.cli.gotemplate.strconv import quote


class Node:
    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def __str__(self) -> str:
        raise NotImplementedError


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text

    def __str__(self) -> str:
        return self.text


class CommentNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.nodes: list[Node] = []

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class DotNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "nil"


class BoolNode(Node):
    __slots__ = ("true",)

    def __init__(self, pos: int, true: bool) -> None:
        super().__init__(pos)
        self.true = true

    def __str__(self) -> str:
        return "true" if self.true else "false"


class NumberNode(Node):
    """A number as written, with what it can stand for: an int (int64), a uint (uint64 too
    big for an int), a float, a complex; a character constant ('a') is all of the first
    three, as in Go."""

    __slots__ = ("complex", "float", "int", "is_complex", "is_float", "is_int", "is_uint", "text")

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int = 0
        self.float = 0.0
        self.complex = 0j

    def __str__(self) -> str:
        return self.text


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, quoted: str, text: str) -> None:
        super().__init__(pos)
        self.quoted = quoted
        self.text = text

    def __str__(self) -> str:
        return self.quoted


class IdentifierNode(Node):
    """A function name."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        super().__init__(pos)
        self.ident = ident

    def __str__(self) -> str:
        return self.ident


class FieldNode(Node):
    """``.A.B``: ident is ["A", "B"]."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: list[str]) -> None:
        super().__init__(pos)
        self.ident = ident

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


class VariableNode(Node):
    """``$x.A``: ident is ["$x", "A"]."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: list[str]) -> None:
        super().__init__(pos)
        self.ident = ident

    def __str__(self) -> str:
        return ".".join(self.ident)


class ChainNode(Node):
    """``(pipeline).A.B``: fields taken from a term that is not a field or variable."""

    __slots__ = ("field", "node")

    def __init__(self, pos: int, node: Node) -> None:
        super().__init__(pos)
        self.node = node
        self.field: list[str] = []

    def __str__(self) -> str:
        head = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return head + "".join("." + f for f in self.field)


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.args: list[Node] = []

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


class PipeNode(Node):
    __slots__ = ("cmds", "decl", "is_assign", "line")

    def __init__(self, pos: int, line: int) -> None:
        super().__init__(pos)
        self.line = line
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def __str__(self) -> str:
        head = ""
        if self.decl:
            head = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return head + " | ".join(str(c) for c in self.cmds)


class ActionNode(Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos: int, line: int, pipe: PipeNode) -> None:
        super().__init__(pos)
        self.line = line
        self.pipe = pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class BranchNode(Node):
    """if, range and with: a pipeline, a list, and the list after {{else}}."""

    __slots__ = ("else_list", "line", "list", "pipe")
    keyword = ""

    def __init__(
        self, pos: int, line: int, pipe: PipeNode, body: ListNode, else_list: ListNode | None
    ) -> None:
        super().__init__(pos)
        self.line = line
        self.pipe = pipe
        self.list = body
        self.else_list = else_list

    def __str__(self) -> str:
        out = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            out += "{{else}}" + str(self.else_list)
        return out + "{{end}}"


class IfNode(BranchNode):
    __slots__ = ()
    keyword = "if"


class RangeNode(BranchNode):
    __slots__ = ()
    keyword = "range"


class WithNode(BranchNode):
    __slots__ = ()
    keyword = "with"


class TemplateNode(Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, line: int, name: str, pipe: PipeNode | None) -> None:
        super().__init__(pos)
        self.line = line
        self.name = name
        self.pipe = pipe

    def __str__(self) -> str:
        if self.pipe is None:
            return "{{template " + quote(self.name) + "}}"
        return "{{template " + quote(self.name) + " " + str(self.pipe) + "}}"


class BreakNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{break}}"


class ContinueNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{continue}}"


class EndNode(Node):
    """{{end}}: ends a list while parsing; never in a finished tree."""

    __slots__ = ()

    def __str__(self) -> str:
        return "{{end}}"


class ElseNode(Node):
    """{{else}}: ends a list while parsing; never in a finished tree."""

    __slots__ = ()

    def __str__(self) -> str:
        return "{{else}}"

"""Go's text/template execution over Python values (see values.py for the mapping).

A walk of the tree that writes text and evaluates pipelines as Go's
exec.go does: fields and methods along chains, variables with Go's
scoping, if/with/range (maps in sorted key order, break and continue),
nested templates, function calls with Go's argument checks, and Go's
error texts with the failing node's ``line:col``.
"""

from __future__ import annotations

from dockyard.cli.gotemplate import nodes as N
from dockyard.cli.gotemplate.errors import ExecError, FuncError
from dockyard.cli.gotemplate.funcs import Func, truth
from dockyard.cli.gotemplate.strconv import quote
from dockyard.cli.gotemplate.values import (
    MISSING,
    field_of,
    is_stringer,
    is_true,
    method_of,
    sorted_keys,
    sprint_value,
    type_name,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 100  # nested {{template}} calls (Go allows 100000; Python's stack does not)


class _NoFinal:
    """No value piped in from the previous command (Go's missingVal)."""


NO_FINAL: Any = _NoFinal()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
    def __init__(
        self,
        text: str,
        trees: dict[str, N.ListNode],
        funcs: dict[str, Func],
        missing_error: bool,
    ) -> None:
        self.text = text
        self.trees = trees
        self.funcs = funcs
        self.missing_error = missing_error
        self.out: list[str] = []
        self.vars: list[list[Any]] = []  # [name, value] pairs: a stack
        self.node: N.Node | None = None
        self.name = ""
        self.parse_name = ""  # the top template's: error locations are "<it>:line:col"
        self.depth = 0

    # -- errors ------------------------------------------------------------
    def error(self, message: str) -> ExecError:
        if self.node is None:
            text = f"template: {self.name}: {message}"
        else:
            before = self.text[: self.node.pos]
            line = before.count("\n") + 1
            col = len(before[before.rfind("\n") + 1 :].encode())  # Go counts bytes from 0
            text = (
                f"template: {self.parse_name}:{line}:{col}: executing {quote(self.name)} "
                f"at <{self.node}>: {message}"
            )
        return ExecError(text, "".join(self.out))

    # -- variables ---------------------------------------------------------
    def var_value(self, name: str) -> Any:
        for pair in reversed(self.vars):
            if pair[0] == name:
                return pair[1]
        raise self.error(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for pair in reversed(self.vars):
            if pair[0] == name:
                pair[1] = value
                return
        raise self.error(f"undefined variable: {name}")

    # -- walking -----------------------------------------------------------
    def run(self, name: str, data: Any) -> str:
        root = self.trees.get(name)
        if root is None:
            raise self.error(f"{quote(name)} is an incomplete or empty template")
        self.name = self.parse_name = name
        if data is None:
            data = MISSING  # nil data is no value at all (Go's invalid reflect.Value)
        self.vars = [["$", data]]
        try:
            self.walk(data, root)
        except RecursionError:
            raise self.error("template nested too deeply") from None
        return "".join(self.out)

    def walk(self, dot: Any, node: N.Node) -> None:
        self.node = node
        if isinstance(node, N.TextNode):
            self.out.append(node.text)
        elif isinstance(node, N.ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, N.ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, N.IfNode | N.WithNode):
            self.walk_if_or_with(dot, node)
        elif isinstance(node, N.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, N.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, N.BreakNode):
            raise _Break()
        elif isinstance(node, N.ContinueNode):
            raise _Continue()
        elif not isinstance(node, N.CommentNode):
            raise self.error(f"unknown node: {node}")

    def print_value(self, node: N.Node, value: Any) -> None:
        self.node = node
        if value is MISSING:
            self.out.append("<no value>")
            return
        if callable(value) and not is_stringer(value):
            raise self.error(f"can't print {node} of type {type_name(value)}")
        self.out.append(sprint_value(value))

    def walk_if_or_with(self, dot: Any, node: N.BranchNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            truth_, ok = is_true(value)
            if not ok:
                raise self.error(f"if/with can't use {sprint_value(value)}")
            if truth_:
                self.walk(value if isinstance(node, N.WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: N.BranchNode) -> None:
        self.node = node
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            body_mark = len(self.vars)
            decl = node.pipe.decl
            if isinstance(value, list | tuple):
                pairs: Any = enumerate(value)
                empty = not value
            elif isinstance(value, dict):
                pairs = ((k, value[k]) for k in sorted_keys(value))
                empty = not value
            elif isinstance(value, int) and not isinstance(value, bool):
                if len(decl) > 1:
                    raise self.error(f"can't use {value} to iterate over more than one variable")
                pairs = ((i, i) for i in range(value))
                empty = value <= 0
            elif value is None or value is MISSING:
                pairs, empty = (), True  # nil: an empty map or slice
            else:
                raise self.error(f"range can't iterate over {sprint_value(value)}")
            try:
                for key, elem in pairs:
                    self._iteration(node, key, elem, body_mark)
            except _Break:
                pass
            if empty and node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def _iteration(self, node: N.BranchNode, key: Any, elem: Any, mark: int) -> None:
        decl, pipe = node.pipe.decl, node.pipe
        if decl:
            if pipe.is_assign:
                self.set_var(decl[0].ident[0], key if len(decl) > 1 else elem)
            else:
                self.vars[mark - 1][1] = elem  # the last declared: the element
        if len(decl) > 1:
            if pipe.is_assign:
                self.set_var(decl[1].ident[0], elem)
            else:
                self.vars[mark - 2][1] = key
        try:
            self.walk(elem, node.list)
        except _Continue:
            pass
        finally:
            del self.vars[mark:]

    def walk_template(self, dot: Any, node: N.TemplateNode) -> None:
        self.node = node
        root = self.trees.get(node.name)
        if root is None:
            raise self.error(f"template {quote(node.name)} not defined")
        if self.depth >= MAX_DEPTH:
            raise self.error(f"exceeded maximum template depth ({MAX_DEPTH})")
        dot = self.eval_pipeline(dot, node.pipe)
        saved = self.vars, self.name
        self.vars, self.name = [["$", dot]], node.name
        self.depth += 1
        try:
            self.walk(dot, root)
        finally:
            self.depth -= 1
            self.vars, self.name = saved

    # -- evaluation --------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: N.PipeNode | None) -> Any:
        if pipe is None:
            return MISSING
        self.node = pipe
        value = NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def not_a_function(self, args: list[N.Node], final: Any) -> None:
        if len(args) > 1 or final is not NO_FINAL:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: N.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, N.FieldNode):
            self.node = first
            return self.eval_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, N.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, N.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, N.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, N.VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.node = first
        self.not_a_function(cmd.args, final)
        if isinstance(first, N.BoolNode):
            return first.true
        if isinstance(first, N.DotNode):
            return dot
        if isinstance(first, N.NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, N.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, N.StringNode):
            return first.text
        raise self.error(f"can't evaluate command {quote(str(first))}")

    def ideal_constant(self, node: N.NumberNode) -> Any:
        self.node = node
        text = node.text
        if node.is_complex:
            return node.complex
        is_hex_int = text.lstrip("+-")[:2] in ("0x", "0X") and not any(c in text for c in "pP")
        if node.is_float and not is_hex_int and text[0] != "'" and any(c in text for c in ".eEpP"):
            return node.float
        if node.is_int:
            return node.int
        if node.is_uint:
            raise self.error(f"{text} overflows int")
        return MISSING

    def eval_chain_node(
        self, dot: Any, chain: N.ChainNode, args: list[N.Node] | None, final: Any
    ) -> Any:
        self.node = chain
        if isinstance(chain.node, N.NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, "value", chain.node)
        return self.eval_chain(dot, receiver, chain, chain.field, args, final)

    def eval_variable(
        self, dot: Any, var: N.VariableNode, args: list[N.Node] | None, final: Any
    ) -> Any:
        self.node = var
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args or [var], final)
            return value
        return self.eval_chain(dot, value, var, var.ident[1:], args, final)

    def eval_chain(
        self,
        dot: Any,
        receiver: Any,
        node: N.Node,
        ident: list[str],
        args: list[N.Node] | None,
        final: Any,
    ) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, NO_FINAL, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: N.Node,
        args: list[N.Node] | None,
        final: Any,
        receiver: Any,
    ) -> Any:
        if receiver is MISSING:
            if self.missing_error:
                raise self.error(f"nil data; no entry for key {quote(name)}")
            return MISSING
        if receiver is None:
            raise self.error(f"nil pointer evaluating interface {{}}.{name}")
        method = method_of(receiver, name)
        if method is not None:
            params = getattr(method, "__go_params__", None)
            if params is None:
                count = method.__code__.co_argcount - 1
                params = " ".join(["any"] * count)
            return self.eval_call(dot, Func(name, method, params), False, node, args, final)
        has_args = (args is not None and len(args) > 1) or final is not NO_FINAL
        if isinstance(receiver, dict):
            if all(isinstance(k, str) for k in receiver):
                if has_args:
                    raise self.error(f"{name} is not a method but has arguments")
                if name in receiver:
                    return receiver[name]
                if self.missing_error:
                    raise self.error(f"map has no entry for key {quote(name)}")
                return MISSING
        else:
            found, value = field_of(receiver, name)
            if found:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return value
        raise self.error(f"can't evaluate field {name} in type {type_name(receiver)}")

    def eval_function(
        self,
        dot: Any,
        node: N.IdentifierNode,
        cmd: N.Node,
        args: list[N.Node] | None,
        final: Any,
    ) -> Any:
        self.node = node
        fn = self.funcs.get(node.ident)
        if fn is None:
            raise self.error(f"{quote(node.ident)} is not a defined function")
        return self.eval_call(dot, fn, True, cmd, args, final)

    def eval_call(
        self,
        dot: Any,
        fn: Func,
        builtin: bool,
        node: N.Node,
        args: list[N.Node] | None,
        final: Any,
    ) -> Any:
        name = fn.name
        args = args[1:] if args is not None else []
        count = len(args) + (final is not NO_FINAL)
        fixed = len(fn.params)
        if fn.variadic:
            if count < fixed:
                raise self.error(
                    f"wrong number of args for {name}: want at least {fixed} got {len(args)}"
                )
        elif count != fixed:
            raise self.error(f"wrong number of args for {name}: want {fixed} got {count}")
        if builtin and name in ("and", "or"):
            value: Any = MISSING
            for arg in args:
                value = self.eval_arg(dot, "value", arg)
                if truth(value) == (name == "or"):
                    return value
            return final if final is not NO_FINAL else value
        argv = []
        for i, arg in enumerate(args):
            kind = fn.params[i] if i < fixed else fn.variadic
            argv.append(self.eval_arg(dot, kind, arg))
        if final is not NO_FINAL:
            kind = fn.params[count - 1] if count - 1 < fixed else fn.variadic
            argv.append(self.validate(final, kind))
        try:
            return fn.impl(*argv)
        except FuncError as exc:
            self.node = node
            raise self.error(f"error calling {name}: {exc}") from None

    def validate(self, value: Any, kind: str) -> Any:
        if kind == "value":
            return value
        if value is MISSING:
            if kind == "any":
                return None
            raise self.error(f"invalid value; expected {kind}")
        if kind == "any":
            return value
        ok = {
            "string": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
        }[kind]
        if not ok:
            got = "interface {}" if value is None else type_name(value)
            raise self.error(f"wrong type for value; expected {kind}; got {got}")
        return value

    def eval_arg(self, dot: Any, kind: str, node: N.Node) -> Any:
        self.node = node
        if isinstance(node, N.DotNode):
            return self.validate(dot, kind)
        if isinstance(node, N.NilNode):
            if kind in ("any", "value"):
                return None
            raise self.error(f"cannot assign nil to {kind}")
        if isinstance(node, N.FieldNode):
            return self.validate(
                self.eval_chain(dot, dot, node, node.ident, [node], NO_FINAL), kind
            )
        if isinstance(node, N.VariableNode):
            return self.validate(self.eval_variable(dot, node, None, NO_FINAL), kind)
        if isinstance(node, N.PipeNode):
            return self.validate(self.eval_pipeline(dot, node), kind)
        if isinstance(node, N.IdentifierNode):
            return self.validate(self.eval_function(dot, node, node, None, NO_FINAL), kind)
        if isinstance(node, N.ChainNode):
            return self.validate(self.eval_chain_node(dot, node, None, NO_FINAL), kind)
        if kind == "bool":
            if isinstance(node, N.BoolNode):
                return node.true
            raise self.error(f"expected bool; found {node}")
        if kind == "string":
            if isinstance(node, N.StringNode):
                return node.text
            raise self.error(f"expected string; found {node}")
        if kind == "int":
            if isinstance(node, N.NumberNode) and node.is_int:
                return node.int
            raise self.error(f"expected integer; found {node}")
        if isinstance(node, N.BoolNode):
            return node.true
        if isinstance(node, N.NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, N.StringNode):
            return node.text
        raise self.error(f"can't handle assignment of {node} to empty interface argument")

"""Go's text/template for Python values, with Docker's functions: what ``--format`` takes.

    tmpl = parse("{{range .RepoTags}}{{.}} {{end}}")   # ParseError if malformed
    tmpl.execute(image)                                   # ExecError if it fails

The pieces follow Go's packages: ``lexer`` and ``parser`` (text/template/parse),
``executor`` and ``funcs`` (text/template), ``gofmt`` (fmt's verbs),
``gojson`` (encoding/json's output), ``docker`` (docker/cli's templates
package), ``values`` (how a Python value looks from a template). Errors
are worded as Go words them, so ``docker``'s users recognise them.
"""

from __future__ import annotations

from dockyard.cli.gotemplate.errors import ExecError, ParseError, TemplateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cli.gotemplate.funcs import Func
    from dockyard.cli.gotemplate.nodes import ListNode

__all__ = ["ExecError", "ParseError", "Template", "TemplateError", "parse"]


def _functions() -> dict[str, Func]:
    from dockyard.cli.gotemplate.docker import DOCKER
    from dockyard.cli.gotemplate.funcs import BUILTINS

    return {**BUILTINS, **DOCKER}


class Template:
    """A parsed template: its text and its named trees ("" is the text itself)."""

    def __init__(
        self, text: str, trees: dict[str, ListNode], funcs: dict[str, Func], name: str = ""
    ) -> None:
        self.name = name
        self.text = text
        self.trees = trees
        self.funcs = funcs

    def execute(
        self, data: Any, missing_key_error: bool = False, funcs: dict[str, Func] | None = None
    ) -> str:
        """The output for ``data``. ``missing_key_error``: an absent map key is an error
        (Go's missingkey=error, as ``docker inspect`` runs templates) instead of
        ``<no value>``; ``funcs`` replace functions of the same name."""
        from dockyard.cli.gotemplate.executor import State

        table = {**self.funcs, **funcs} if funcs else self.funcs
        state = State(self.text, self.trees, table, missing_key_error)
        return state.run(self.name, data)


def parse(text: str, name: str = "", funcs: dict[str, Func] | None = None) -> Template:
    """Parse a template named ``name`` (Docker's are "", ``version``'s is "version");
    ``funcs`` are added to Go's builtins and Docker's functions."""
    from dockyard.cli.gotemplate.parser import parse as parse_trees

    table = {**_functions(), **(funcs or {})}
    try:
        trees = parse_trees(text, frozenset(table), name)
    except RecursionError:
        raise ParseError(f"template: {name}:1: max expression depth exceeded") from None
    return Template(text, trees, table, name)

"""``inspect -f`` as docker/cli's inspector runs it.

No format: the documents as an indented JSON array. ``json``: the same,
compact. A template: run over each document with Go's missingkey=error
(Docker runs it over the raw JSON that way, so a misspelt key is an error,
not "<no value>"); a document the template fails on is reported and the
others are still printed; nothing printed at all is one empty line, as in
Docker. A template that does not parse is exit status 64, as Docker's.
"""

from __future__ import annotations

from dockyard.cli.gotemplate.errors import ExecError, ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.errors import DockyardError

PARSE_ERROR_STATUS = 64


def render(items: list[Any], fmt: str) -> tuple[str, list[str]]:
    """(what to print, the errors of the documents that failed)."""
    if not fmt:
        from dockyard.oci import jsonio

        return jsonio.dumps(items, indent=4) + "\n", []
    from dockyard.cli.gotemplate import gojson

    if fmt == "json":
        return "[" + ",".join(gojson.encode(i) for i in items) + "]\n", []
    from dockyard.cli.formatter.format import execute, parse

    tmpl = parse(fmt)
    out, errors = [], []
    for item in items:
        try:
            out.append(execute(tmpl, item, missing_key_error=True) + "\n")
        except ExecError as exc:
            errors.append(str(exc))
    return "".join(out) or "\n", errors


def exit_code_for(exc: DockyardError) -> int:
    return PARSE_ERROR_STATUS if isinstance(exc, ParseError) else 1

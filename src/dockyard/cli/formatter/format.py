"""``--format`` as docker/cli reads it: a Go template per row, or one of its keywords.

- ``table TEMPLATE``: a header row, then the rows, in tabwriter columns.
  The header is the same template run over the column names (``.ID`` is
  "CONTAINER ID"), with json/join/upper... left out so names stay names;
  an error in the header only cuts it short, as in Docker.
- ``json``: each row as one line of JSON (``{{json .}}``).
- anything else: the template, one line per row; ``\\t`` and ``\\n`` typed
  as two characters become a tab and a newline.

Errors read as Docker's: "template parsing error: template: :1:2: ...".
"""

from __future__ import annotations

from dockyard.cli.gotemplate.errors import ExecError, ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from dockyard.cli.gotemplate import Template

TABLE = "table"
JSON = "json"


def is_table(fmt: str) -> bool:
    return fmt.startswith(TABLE)


def template_text(fmt: str) -> str:
    """docker/cli's Format.templateString."""
    if fmt == TABLE:
        return ""
    if fmt == JSON:
        return "{{json .}}"
    if fmt.startswith(TABLE):
        fmt = fmt[len(TABLE) :]
    return fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")


def parse(text: str, what: str = "template parsing error", name: str = "") -> Template:
    from dockyard.cli import gotemplate

    try:
        return gotemplate.parse(text, name)
    except ParseError as exc:
        raise ParseError(f"{what}: {exc}") from exc


def execute(tmpl: Template, data: Any, missing_key_error: bool = False) -> str:
    try:
        return tmpl.execute(data, missing_key_error)
    except ExecError as exc:
        raise ExecError(f"template parsing error: {exc}", exc.output) from exc


class Header(dict[str, str]):
    """The column names a table's header row is rendered from (Docker's SubHeaderContext)."""

    GO_TYPE = "formatter.SubHeaderContext"

    def Label(self, name: str) -> str:
        """``{{.Label "com.example.some-key"}}`` heads its column "some key"."""
        return name.split(".")[-1].replace("-", " ").replace("_", " ")


def render(fmt: str, rows: Iterable[Any], header: dict[str, str] | None = None) -> str:
    """The output of ``--format fmt`` for these rows (each line ends in a newline)."""
    tmpl = parse(template_text(fmt))
    body = "".join(execute(tmpl, row) + "\n" for row in rows)
    if not is_table(fmt):
        return body
    from dockyard.cli.formatter.tabwriter import format_table
    from dockyard.cli.gotemplate.docker import HEADER

    try:
        head = tmpl.execute(Header(header or {}), funcs=HEADER)
    except ExecError as exc:
        head = exc.output
    return format_table(head + "\n" + body)

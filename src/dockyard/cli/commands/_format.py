"""A small subset of Go templates, for ``--format``: ``{{.Field}}``, ``{{.A.B}}``,
``{{json .X}}``, ``{{upper .X}}``/``{{lower .X}}``, ``{{join .X ","}}``, and the
``table`` prefix, which prints a header and aligns columns."""

from __future__ import annotations

import re
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


def _lookup(value: Any, path: str) -> Any:
    if path in (".", ""):
        return value
    for part in path.lstrip(".").split("."):
        if isinstance(value, dict):
            if part not in value:
                raise InvalidArgument(f"template: can't evaluate field {part}")
            value = value[part]
        else:
            raise InvalidArgument(
                f"template: can't evaluate field {part} in {type(value).__name__}"
            )
    return value


def go_string(value: Any) -> str:
    """How Go's text/template prints a value."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _evaluate(expr: str, data: Any) -> str:
    words = re.findall(r'"[^"]*"|\S+', expr)
    if not words:
        return ""
    func, args = (words[0], words[1:]) if not words[0].startswith(".") else ("", words)
    values = [a[1:-1] if a.startswith('"') else _lookup(data, a) for a in args]
    if func == "":
        return go_string(values[0])
    if func == "json":
        return jsonio.dumps(values[0] if values else data)
    if func in ("upper", "lower", "title"):
        text = go_string(values[0])
        return {"upper": text.upper(), "lower": text.lower(), "title": text.title()}[func]
    if func == "join" and len(values) == 2 and isinstance(values[0], list):
        return str(values[1]).join(go_string(v) for v in values[0])
    if func == "println":
        return " ".join(go_string(v) for v in values) + "\n"
    raise InvalidArgument(f"template: function {func!r} is not supported")


def render(template: str, data: Any) -> str:
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    return _ACTION.sub(lambda m: _evaluate(m.group(1), data), template)


def header_for(template: str) -> str:
    """``table {{.Repository}}\\t{{.Tag}}`` → ``REPOSITORY\\tTAG``."""

    def name(m: re.Match[str]) -> str:
        field = m.group(1).split()[-1].lstrip(".").split(".")[-1]
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", field).upper()

    return _ACTION.sub(name, template.replace("\\t", "\t"))


def table(rows: list[list[str]], padding: int = 3) -> str:
    if not rows:
        return ""
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(widths[i] + padding) if i < len(row) - 1 else cell
            for i, cell in enumerate(row)
        ]
        lines.append("".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def format_rows(template: str, items: list[dict[str, Any]]) -> str:
    """Render ``items`` with a user template (``table ...`` aligned with a header)."""
    if template.startswith("table"):
        body = template[len("table") :].strip() or "{{json .}}"
        rows = [header_for(body).split("\t")]
        rows += [render(body, item).split("\t") for item in items]
        return table(rows)
    return "".join(render(template, item) + "\n" for item in items)

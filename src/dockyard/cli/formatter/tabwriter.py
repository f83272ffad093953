"""Go's text/tabwriter (elastic tabstops), as docker/cli configures it for tables.

Text is cut into cells at tabs; cells ended by a tab in consecutive lines
form a column, as wide as its widest cell plus the padding, never less
than the minimum width. A line's last cell (not ended by a tab) is not in
a column and is not padded. Docker passes minwidth 10, tabwidth 1, padding
3, padchar ' ', no flags (cli/command/formatter/formatter.go), and counts
East Asian wide characters as two columns.
"""

from __future__ import annotations

MINWIDTH, PADDING = 10, 3


def display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Cell:
    __slots__ = ("htab", "text", "width")

    def __init__(self, text: str, htab: bool) -> None:
        self.text = text
        self.width = display_width(text)
        self.htab = htab


def _lines(text: str, final: bool) -> list[list[_Cell]]:
    lines = []
    for raw in text.split("\n"):
        parts = raw.replace("\v", "\t").split("\t")
        lines.append([_Cell(p, i < len(parts) - 1) for i, p in enumerate(parts)])
    if final and lines[-1] and not lines[-1][-1].text:
        lines[-1].pop()  # text after the last newline: an empty last cell is no cell
    return lines


def format_table(
    text: str, minwidth: int = MINWIDTH, padding: int = PADDING, padchar: str = " "
) -> str:
    """``text`` as a tabwriter with these settings prints it (it ends where text ends).
    A formfeed ends a line and every column, as a flush does."""
    out: list[str] = []
    parts = text.split("\f")
    for i, part in enumerate(parts):
        if i:
            out.append("\n")
        lines = _lines(part, final=i == len(parts) - 1)
        _format(lines, 0, len(lines), [], minwidth, padding, padchar, out)
    return "".join(out)


def _format(
    lines: list[list[_Cell]],
    line0: int,
    line1: int,
    widths: list[int],
    minwidth: int,
    padding: int,
    padchar: str,
    out: list[str],
) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        # a column block starts here: print the lines before it, then size it
        _write(lines, line0, this, widths, padchar, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, lines[this][column].width + padding)
            this += 1
        _format(lines, line0, this, [*widths, width], minwidth, padding, padchar, out)
        line0 = this
    _write(lines, line0, line1, widths, padchar, out)


def _write(
    lines: list[list[_Cell]],
    line0: int,
    line1: int,
    widths: list[int],
    padchar: str,
    out: list[str],
) -> None:
    for i in range(line0, line1):
        line = lines[i]
        for j, cell in enumerate(line):
            out.append(cell.text)
            if j < len(widths):
                out.append(padchar * (widths[j] - cell.width))
        if i + 1 < len(lines):
            out.append("\n")

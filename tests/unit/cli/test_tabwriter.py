"""Go's tabwriter, as docker/cli carries it, against its own tests (padchar '.' shows
the padding) and Docker's table settings."""

from __future__ import annotations

import pytest

from dockyard.cli.formatter.tabwriter import format_table


@pytest.mark.parametrize(
    ("minwidth", "padding", "src", "want"),
    [
        (8, 1, "", ""),
        (8, 1, "\n\n\n", "\n\n\n"),
        (8, 1, "a\nb\nc", "a\nb\nc"),
        (8, 1, "\t", ""),  # a tab ends an empty cell on the last line: nothing to print
        (8, 1, "*\t*", "*.......*"),
        (8, 1, "*\t*\n", "*.......*\n"),
        (8, 1, "*\t*\t", "*.......*"),
        (8, 1, "\t\n", "........\n"),
        (8, 1, "a) foo", "a) foo"),
        (8, 1, "c) foo\tbar\t", "c) foo..bar"),
        (8, 1, "d) foo\tbar\n", "d) foo..bar\n"),
        (8, 1, "e) foo\tbar\t\n", "e) foo..bar.....\n"),
        (8, 1, "Hello, world!\n", "Hello, world!\n"),
        (1, 0, "1\t2\t3\t4\n11\t222\t3333\t44444\n", "1.2..3...4\n11222333344444\n"),
        (1, 0, "1\t2\t3\t4\f11\t222\t3333\t44444\n", "1234\n11222333344444\n"),
        (5, 0, "1\t2\t3\t4\n", "1....2....3....4\n"),
        (5, 0, "1\t2\t3\t4\t\n", "1....2....3....4....\n"),
        (
            8,
            1,
            "本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n",
            "本......b.......c\naa......本本本..cccc....ddddd\naaa.....bbbb\n",
        ),
        (
            4,
            3,
            "4444\t333\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n"
            "666666\t666666\t666666\t4444\n1\t1\t999999999\t0000000000\n",
            "4444........333...22...1...333\n999999999...22\n7...........22\n"
            "....................88888888\n\n666666...666666...666666......4444\n"
            "1........1........999999999...0000000000\n",
        ),
        (4, 0, "a\t\tb", "a.......b"),
    ],
)
def test_go_tabwriter_cases(minwidth: int, padding: int, src: str, want: str) -> None:
    assert format_table(src, minwidth, padding, ".") == want


def test_docker_table_settings() -> None:
    # minwidth 10, padding 3: short columns are 10 wide, long ones widest + 3
    text = "CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tx\n"
    assert format_table(text) == ("CONTAINER ID   IMAGE     NAMES\nabc            busybox   x\n")


def test_an_empty_column_keeps_its_width() -> None:
    text = "PORTS\tNAMES\n\tweb\n"
    assert format_table(text) == "PORTS     NAMES\n          web\n"

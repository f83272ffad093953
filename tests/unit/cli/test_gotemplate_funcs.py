"""printf's verbs, Go's JSON and Docker's template functions (docker/cli's templates
package tests among the expectations)."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.cli.gotemplate import ExecError, parse
from dockyard.cli.gotemplate.gofmt import sprintf
from dockyard.cli.gotemplate.gojson import encode


def run(text: str, data: Any = None) -> str:
    return parse(text).execute(data)


@pytest.mark.parametrize(
    ("fmt", "args", "want"),
    [
        ("%s|%v|%d", ["a", "b", 3], "a|b|3"),
        ("%-8s|", ["ab"], "ab      |"),
        ("%8s|", ["ab"], "      ab|"),
        ("%.2s", ["abcdef"], "ab"),
        ("%05d", [-42], "-0042"),
        ("%+d %+d", [5, -5], "+5 -5"),
        ("%x %X %#x %o %b", [255, 255, 255, 8, 5], "ff FF 0xff 10 101"),
        ("%x", ["hi"], "6869"),
        ("% x", ["hi"], "68 69"),
        ("%q", ['a"b\n'], '"a\\"b\\n"'),
        ("%q", [65], "'A'"),
        ("%c|%U", [0x4E16, 0x4E16], "世|U+4E16"),
        ("%t", [True], "true"),
        (
            "%f %.2f %e %g",
            [3.5, 3.14159, 1234.5678, 0.00001234],
            "3.500000 3.14 1.234568e+03 1.234e-05",
        ),
        ("%6.2f|%-6.1f|", [3.14159, 2.0], "  3.14|2.0   |"),
        ("%v %v", [[1, 2], {"b": 2, "a": 1}], "[1 2] map[a:1 b:2]"),
        ("%s", [["a", "b"]], "[a b]"),
        ("%q", [["a", "b"]], '["a" "b"]'),
        ("%T %T %T %T", [1, "s", 1.5, [1]], "int string float64 []interface {}"),
        ("%d", ["hi"], "%!d(string=hi)"),
        ("%s", [5], "%!s(int=5)"),
        ("%s %s", ["a"], "a %!s(MISSING)"),
        ("%s", ["a", "b", 3], "a%!(EXTRA string=b, int=3)"),
        ("%", [], "%!(NOVERB)"),
        ("%z", [1], "%!z(int=1)"),
        ("100%%", [], "100%"),
        ("%*d|%-*d|", [5, 1, 3, 2], "    1|2  |"),
        ("%v %s", [None, None], "<nil> %!s(<nil>)"),
        ("%5t|", [False], "false|"),
        ("%*d", [10**9, 1], "%!(BADWIDTH)1"),
        ("%99999999d|", [1], "%!(NOVERB)%!(EXTRA int=1)"),
    ],
)
def test_printf_verbs(fmt: str, args: list[Any], want: str) -> None:
    assert sprintf(fmt, args) == want


def test_printf_in_a_template() -> None:
    data = {"Names": "web", "State": "running", "Size": 1.5}
    assert run('{{printf "%-10s%s" .Names .State}}', data) == "web       running"
    assert run('{{printf "%.1f" .Size}} {{printf "%d" .Missing}}', data) == "1.5 %!d(<nil>)"


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (None, "null"),
        (True, "true"),
        (1.0, "1"),
        (1.5, "1.5"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (123456789.0, "123456789"),
        ("<a&b>", '"<a&b>"'),  # Docker turns HTML escaping off
        ("tab\tnl\nctl\x01", '"tab\\tnl\\nctl\\u0001"'),
        ("\u2028é", '"\\u2028é"'),
        ([1, "a", None], '[1,"a",null]'),
        ({"b": 1, "a": [True]}, '{"b":1,"a":[true]}'),  # documents keep their order
    ],
)
def test_json_as_go_encodes(value: Any, want: str) -> None:
    assert encode(value) == want


def test_json_of_objects() -> None:
    class Row:
        def __init__(self) -> None:
            self.B, self.A, self._hidden = 1, "x", "no"

    class Custom:
        def __json__(self) -> dict[str, Any]:
            return {"Z": 1}

    assert encode(Row()) == '{"B":1,"A":"x"}'
    assert encode(Custom()) == '{"Z":1}'
    assert run("{{json .}}", {"Ports": "0.0.0.0:2->8/udp"}) == '{"Ports":"0.0.0.0:2->8/udp"}'
    assert run("{{json .Ports}}", {"Ports": "0.0.0.0:2->8/udp"}) == '"0.0.0.0:2->8/udp"'
    assert run("{{json .Missing}}", {}) == "null"


def test_docker_string_functions() -> None:
    assert run('{{join (split . ":") "/"}}', "text:with:colon") == "text/with/colon"
    assert run("this is a {{ . }}", "string") == "this is a string"
    source = "tupx5xzf6hvsrhnruz5cr8gwp"
    assert run("{{truncate . 5}}", source) == "tupx5"
    assert run("{{truncate . 25}}", source) == source
    assert run("{{truncate . 30}}", source) == source
    assert run("{{pad . 3 3}}", source) == "   " + source + "   "
    for text in ("{{truncate . 5}}", "{{pad . 3 3}}"):
        assert run(text, "") == ""
        with pytest.raises(ExecError):
            run(text, None)  # nil is not a string
    assert run("{{title .}}", "hello wORLD-foo_bar x.y") == "Hello WORLD-Foo_bar X.Y"
    assert run("{{upper .}} {{lower .}}", "MiXed") == "MIXED mixed"
    assert run('{{split . ""}}', "abc") == "[a b c]"
    assert run('{{range split . ","}}<{{.}}>{{end}}', "a,b") == "<a><b>"


@pytest.mark.parametrize(
    ("data", "want"),
    [
        (None, 'output: ""'),
        ([{"A": "1", "B": "2"}, {"A": "3", "B": "4"}], 'output: "map[A:1 B:2], map[A:3 B:4]"'),
        ({"A": "1", "B": "2", "C": "3"}, 'output: "1, 2, 3"'),
        ([True, False, True], 'output: "true, false, true"'),
        (["x", 2, 1.5], 'output: "x, 2, 1.5"'),
    ],
)
def test_join(data: Any, want: str) -> None:
    assert run('output: "{{- join . ", " -}}"', data) == want


def test_join_of_a_string_is_an_error() -> None:
    with pytest.raises(ExecError) as caught:
        run('output: "{{- join . ", " -}}"', "hello")
    assert "error calling join: expected slice, got string" in str(caught.value)
    assert caught.value.output == 'output: "'


def test_header_functions_leave_names_alone() -> None:
    from dockyard.cli.gotemplate.docker import HEADER

    for text in (
        "{{ json .}}",
        '{{ split . ","}}',
        '{{ join . ","}}',
        "{{ title .}}",
        "{{ lower .}}",
        "{{ upper .}}",
        "{{ truncate . 2}}",
    ):
        assert parse(text).execute("hello world", funcs=HEADER) == "hello world"


def test_escapers() -> None:
    assert run("{{js .}}", 'Go "jump" \\') == 'Go \\"jump\\" \\\\'
    assert run("{{js .}}", "<html>") == "\\u003Chtml\\u003E"
    assert run("{{js .}}", "no = in attributes") == "no \\u003D in attributes"
    assert run("{{urlquery .}}", "a b&c=d/é") == "a+b%26c%3Dd%2F%C3%A9"
    assert run("{{html . 1}}", "<x>") == "&lt;x&gt;1"

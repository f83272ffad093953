"""The lexer and parser against Go's own text/template/parse tests: the trees they print
back and the errors they report (parse_test.go)."""

from __future__ import annotations

import pytest

from dockyard.cli.gotemplate import ParseError, parse
from dockyard.cli.gotemplate import lexer as L
from dockyard.cli.gotemplate import nodes as N
from dockyard.cli.gotemplate.parser import parse as parse_trees
from dockyard.cli.gotemplate.parser import parse_number
from dockyard.cli.gotemplate.strconv import quote

FUNCS = frozenset({"printf", "contains"})


def tree(text: str) -> str:
    """The parsed text as Go's tests print it: text nodes quoted."""

    def show(node: N.Node) -> str:
        if isinstance(node, N.TextNode):
            return quote(node.text)
        if isinstance(node, N.ListNode):
            return "".join(show(n) for n in node.nodes)
        if isinstance(node, N.BranchNode):
            out = "{{" + node.keyword + " " + str(node.pipe) + "}}" + show(node.list)
            if node.else_list is not None:
                out += "{{else}}" + show(node.else_list)
            return out + "{{end}}"
        return str(node)

    return show(parse_trees(text, FUNCS)[""])


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("", ""),
        ("{{/*\n\n\n*/}}", ""),
        (" \t\n", '" \\t\\n"'),
        ("some text", '"some text"'),
        ("{{.X}}", "{{.X}}"),
        ("{{printf}}", "{{printf}}"),
        ("{{$}}", "{{$}}"),
        ("{{with $x := 3}}{{$x 23}}{{end}}", "{{with $x := 3}}{{$x 23}}{{end}}"),
        ("{{$.I}}", "{{$.I}}"),
        ("{{printf `%d` 23}}", "{{printf `%d` 23}}"),
        ("{{.X|.Y}}", "{{.X | .Y}}"),
        ("{{$x := .X|.Y}}", "{{$x := .X | .Y}}"),
        ("{{.X (.Y .Z) (.A | .B .C) (.E)}}", "{{.X (.Y .Z) (.A | .B .C) (.E)}}"),
        ("{{(.Y .Z).Field}}", "{{(.Y .Z).Field}}"),
        ("{{if .X}}hello{{end}}", '{{if .X}}"hello"{{end}}'),
        ("{{if .X}}true{{else}}false{{end}}", '{{if .X}}"true"{{else}}"false"{{end}}'),
        (
            "{{if .X}}true{{else if .Y}}false{{end}}",
            '{{if .X}}"true"{{else}}{{if .Y}}"false"{{end}}{{end}}',
        ),
        (
            "+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+",
            '"+"{{if .X}}"X"{{else}}{{if .Y}}"Y"{{else}}{{if .Z}}"Z"{{end}}{{end}}{{end}}"+"',
        ),
        ("{{range .X.Y.Z}}hello{{end}}", '{{range .X.Y.Z}}"hello"{{end}}'),
        (
            "{{range .X|.M}}true{{else}}false{{end}}",
            '{{range .X | .M}}"true"{{else}}"false"{{end}}',
        ),
        ("{{range $x, $y := .SI}}{{.}}{{end}}", "{{range $x, $y := .SI}}{{.}}{{end}}"),
        ("{{range .SI}}{{.}}{{break}}{{end}}", "{{range .SI}}{{.}}{{break}}{{end}}"),
        ("{{range .SI}}{{.}}{{ continue }}{{end}}", "{{range .SI}}{{.}}{{continue}}{{end}}"),
        (
            "{{range .SI 1 -3.2i true false 'a' nil}}{{end}}",
            "{{range .SI 1 -3.2i true false 'a' nil}}{{end}}",
        ),
        ("{{template `x`}}", '{{template "x"}}'),
        ("{{template `x` .Y}}", '{{template "x" .Y}}'),
        (
            "{{with .X}}hello{{else with .Y}}goodbye{{end}}",
            '{{with .X}}"hello"{{else}}{{with .Y}}"goodbye"{{end}}{{end}}',
        ),
        ("x \r\n\t{{- 3}}", '"x"{{3}}'),
        ("{{3 -}}\n\n\ty", '{{3}}"y"'),
        ("x \r\n\t{{- 3 -}}\n\n\ty", '"x"{{3}}"y"'),
        ("x\n{{-  3   -}}\ny", '"x"{{3}}"y"'),
        ("x \r\n\t{{- /* hi */}}", '"x"'),
        ("{{/* hi */ -}}\n\n\ty", '"y"'),
        ("x \r\n\t{{- /* */ -}}\n\n\ty", '"x""y"'),
        ('{{block "foo" .}}hello{{end}}', '{{template "foo" .}}'),
        ("{{ $x \n := \n 1 \n }}", "{{$x := 1}}"),
        ('{{\n"x"\n|\nprintf\n}}', '{{"x" | printf}}'),
        ("{{-\n/*\nhello\n*/\n-}}", ""),
        ("{{$x:=.}}{{$x +2}}", "{{$x := .}}{{$x +2}}"),
        ("{{range $x = 0}}{{$x}}{{end}}", "{{range $x = 0}}{{$x}}{{end}}"),
        ("{{-3}}", "{{-3}}"),  # a number: the trim marker needs a space after it
    ],
)
def test_trees_print_back_as_go_prints_them(text: str, want: str) -> None:
    assert tree(text) == want


@pytest.mark.parametrize(
    "text",
    [
        "{{}}",
        "{{\n}}",
        "hello{{range",
        "{{end}}",
        "{{else}}",
        "{{if .X}}hello{{end}}{{else}}",
        "{{if .X}}1{{else}}2{{else}}3{{end}}",
        "hello{{range .x}}",
        "hello{{range .x}}{{else}}",
        "hello{{undefined}}",
        "{{$x}}",
        "{{with $x := 4}}{{end}}{{$x}}",
        "{{template $v}}",
        "{{with $x.Y := 4}}{{end}}",
        "{{template .X}}",
        "{{printf 3, 4}}",
        "{{with $v, $u := 3}}{{end}}",
        "{{range $u, $v, $w := 3}}{{end}}",
        "{{printf (printf .).}}",
        "{{printf 3`x`}}",
        "{{printf `x`.}}",
        "{{if .X}}a{{else if .Y}}b{{end}}{{end}}",
        "{{range .}}{{end}} {{break}}",
        "{{range .}}{{end}} {{continue}}",
        "{{range .}}{{else}}{{break}}{{end}}",
        "{{range .}}{{else}}{{continue}}{{end}}",
        "{{$x += 1}}{{$x}}",
        "{{$x ! 2}}{{$x}}",
        "{{$x % 3}}{{$x}}",
        "{{range $x := $y := 3}}{{end}}",
        "{{$x:=.}}{{$x!2}}",
        "{{$x:=.}}{{$x+2}}",
        "{{1.E}}",
        "{{0.1.E}}",
        "{{true.E}}",
        "{{'a'.any}}",
        '{{"hello".guys}}',
        "{{..E}}",
        "{{nil.E}}",
        "{{12|.}}",
        "{{.|12|printf}}",
        '{{.|printf|"error"}}',
        "{{12|printf|'e'}}",
        "{{.|true}}",
        "{{'c'|nil}}",
        '{{printf "%d" ( ) }}',
        '{{block "foo"}}hello{{end}}',
    ],
)
def test_go_rejects_these_and_so_do_we(text: str) -> None:
    with pytest.raises(ParseError):
        parse_trees(text, FUNCS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("line1\n{{", "template: :2: unclosed action"),
        ("line1\n{{define `x`}}line2\n{{", "template: :3: unclosed action"),
        ('line1\n{{"x"\n"y"\n', "template: :4: unclosed action started at :2"),
        ("{{\n\n\n\n\n", "template: :6: unclosed action started at :1"),
        ("line1\n{{\nx\n}}", 'template: :3: function "x" not defined'),
        ("{{foo}}", 'template: :1: function "foo" not defined'),
        ("{{/*}}", "template: :1: unclosed comment"),
        ("{{/*\nhello\n}}", "template: :1: unclosed comment"),
        ("{{/* c */x}}", "template: :1: comment ends before closing delimiter"),
        ("{{.X (1 2 3}}", "template: :1: unclosed left paren"),
        ("{{.X 1 2 3 ) }}", "template: :1: unexpected right paren"),
        ("{{(.X 1 2 3", "template: :1: unclosed action"),
        ("{{`x`3}}", 'template: :1: unexpected "3" in operand'),
        ("{{a#}}", "template: :1: bad character U+0023 '#'"),
        ("{{'a}}", "template: :1: unterminated character constant"),
        ('{{"a}}', "template: :1: unterminated quoted string"),
        ("{{`a}}", "template: :1: unterminated raw quoted string"),
        ("{{0xi}}", 'template: :1: illegal number syntax: "0xi"'),
        ("{{0x1z}}", 'template: :1: bad number syntax: "0x1z"'),
        (
            "{{define `a`}}a{{end}}{{define `a`}}b{{end}}",
            'template: :1: template: multiple definition of template "a"',
        ),
        ("{{range .X}}", "template: :1: unexpected EOF"),
        ("{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}", 'unexpected ":=" in operand'),
        ("{{$a,$b,$c := 23}}", "template: :1: too many declarations in command"),
        ("{{$a}}", 'template: :1: undefined variable "$a"'),
        ("{{true.any}}", 'template: :1: unexpected . after term "true"'),
        ("{{12|false}}", "template: :1: non executable command in pipeline stage 2"),
        ("{{ ( ) }}", "template: :1: missing value for parenthesized pipeline"),
        ("{{ $v := `\n` }} {{", "template: :2: unclosed action"),
        ("{{range $k}}{{end}}", 'undefined variable "$k"'),
        ("{{range $k,}}{{end}}", "missing value for range"),
        ("{{range $k, $v := }}{{end}}", "missing value for range"),
        ("{{range $k, .}}{{end}}", "range can only initialize variables"),
        ("{{range $k, 123 := .}}{{end}}", "range can only initialize variables"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{.Foo}", "template: :1: bad character U+007D '}'"),
        ("{{.A | 3}}", "template: :1: non executable command in pipeline stage 2"),
        ("{{'ab'}}", "template: :1: malformed character constant: 'ab'"),
        ('{{"\\q"}}', "template: :1: invalid syntax"),
        ("{{printf \x01}}", "template: :1: unrecognized character in action: U+0001"),
        ("{{json .", 'template: :1: illegal number syntax: "."'),  # "." at the end: a number
        ("{{.A.}}", "template: :1: unexpected <.> in operand"),
        ("{{ 99999999999999999999 }}", "template: :1: integer overflow"),
    ],
)
def test_parse_errors_read_as_go_writes_them(text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert message in str(caught.value)


def test_a_parse_error_is_one_line_of_bad_input() -> None:
    from dockyard.errors import InvalidArgument

    with pytest.raises(InvalidArgument) as caught:
        parse("{{json .X")
    assert str(caught.value) == "template: :1: unclosed action"


def test_nesting_too_deep_is_an_error_not_a_crash() -> None:
    with pytest.raises(ParseError):
        parse("{{" + "(" * 5000 + "1" + ")" * 5000 + "}}")


@pytest.mark.parametrize(
    ("text", "is_int", "is_uint", "is_float", "value"),
    [
        ("0", True, True, True, 0),
        ("-0", True, True, True, 0),
        ("73", True, True, True, 73),
        ("7_3", True, True, True, 73),
        ("0b10_010_01", True, True, True, 73),
        ("073", True, True, True, 0o73),
        ("0o73", True, True, True, 0o73),
        ("0x73", True, True, True, 0x73),
        ("0x7_3", True, True, True, 0x73),
        ("-73", True, False, True, -73),
        ("+73", True, False, True, 73),
        ("1e9", True, True, True, 10**9),
        ("-1.2", False, False, True, -1.2),
        ("1e19", False, True, True, 1e19),
        ("0x_1p4", True, True, True, 16),
        ("0x_1p-4", False, False, True, 1 / 16),
        ("0123", True, True, True, 0o123),
        ("0xdeadbeef", True, True, True, 0xDEADBEEF),
        ("'a'", True, True, True, ord("a")),
        ("'\\n'", True, True, True, 10),
        ("'\\xFF'", True, True, True, 0xFF),
        ("'パ'", True, True, True, 0x30D1),
        ("'\\u30d1'", True, True, True, 0x30D1),
        ("0xef", True, True, True, 0xEF),
    ],
)
def test_numbers_as_go_reads_them(
    text: str, is_int: bool, is_uint: bool, is_float: bool, value: float
) -> None:
    typ = L.CHAR_CONSTANT if text.startswith("'") else L.NUMBER
    node = parse_number(L.Item(typ, 0, text, 1))
    assert (node.is_int, node.is_float) == (is_int, is_float)
    assert node.is_uint == is_uint
    assert (node.int if is_int else node.float) == value


@pytest.mark.parametrize("text", ["+-2", "0x123.", "1e.", "1+2.", "'xx'"])
def test_broken_numbers(text: str) -> None:
    with pytest.raises(ParseError):
        parse("{{" + text + "}}")


def test_positions_and_lines_of_tokens() -> None:
    items = L.lex("a\n{{ .X }}\nb")
    kinds = [(i.typ, i.val, i.pos, i.line) for i in items]
    assert kinds == [
        (L.TEXT, "a\n", 0, 1),
        (L.LEFT_DELIM, "{{", 2, 2),
        (L.SPACE, " ", 4, 2),
        (L.FIELD, ".X", 5, 2),
        (L.SPACE, " ", 7, 2),
        (L.RIGHT_DELIM, "}}", 8, 2),
        (L.TEXT, "\nb", 10, 2),
        (L.EOF, "", 12, 3),
    ]


def test_block_defines_a_template() -> None:
    trees = parse_trees('a{{block "inner" .}}bar{{.}}baz{{end}}b', FUNCS)
    assert str(trees[""]) == 'a{{template "inner" .}}b'
    assert str(trees["inner"]) == "bar{{.}}baz"


def test_redefining_an_empty_template_is_allowed() -> None:
    trees = parse_trees("{{define `x`}} {{end}}{{define `x`}}full{{end}}", FUNCS)
    assert str(trees["x"]) == "full"

"""Execution against Go's own expectations (text/template's exec_test.go), over Python
values standing for Go's: objects for structs, dicts for maps, lists for slices."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.cli.gotemplate import ExecError, parse
from dockyard.cli.gotemplate.errors import FuncError


class U:
    GO_TYPE = "*template.U"

    def __init__(self) -> None:
        self.V = "v"

    def TrueFalse(self, b: bool) -> str:
        return "true" if b else ""


class T:
    """A small cousin of Go's test value tVal."""

    GO_TYPE = "template.T"

    def __init__(self) -> None:
        self.True_ = True
        self.I = 17
        self.U16 = 16
        self.X = "x"
        self.S = "xyz"
        self.U = U()
        self.FloatZero = 0.0
        self.ComplexZero = 0j
        self.SI = [3, 4, 5]
        self.SIEmpty: list[int] = []
        self.SB = [True, False]
        self.AI = [3, 4, 5]
        self.MSI = {"one": 1, "two": 2, "three": 3}
        self.MSIone = {"one": 1}
        self.MSIEmpty: dict[str, int] = {}
        self.SMSI = [{"one": 1, "two": 2}, {"eleven": 11, "twelve": 12}]
        self.Empty3 = [7, 8]
        self.NIL = None
        self.BinaryFunc = lambda a, b: f"[{a}={b}]"
        self.ErrFunc = lambda: "bla"

    def Method0(self) -> str:
        return "M0"

    def Method1(self, a: int) -> int:
        return a

    def Method2(self, a: int, b: str) -> str:
        return f"Method2: {a} {b}"

    def Method3(self, v: Any) -> str:
        return f"Method3: {'<nil>' if v is None else v}"

    def MyError(self, error: bool) -> bool:
        if error:
            raise FuncError("my error")
        return False

    def GetU(self) -> U:
        return self.U


T_VAL = T()


def run(text: str, data: Any = T_VAL, **kw: Any) -> str:
    return parse(text).execute(data, **kw)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("", ""),
        ("-{{.I}}-", "-17-"),
        ("-{{.U16}}-", "-16-"),
        ("-{{.X}}-", "-x-"),
        ("-{{.U.V}}-", "-v-"),
        ("{{.NIL}}", "<nil>"),
        ("{{.Empty3}}", "[7 8]"),
        ("{{(1)}}", "1"),
        ("-{{.Method0}}-", "-M0-"),
        ("-{{.Method1 1234}}-", "-1234-"),
        ("-{{.Method1 .I}}-", "-17-"),
        ("-{{.Method2 3 .X}}-", "-Method2: 3 x-"),
        ("-{{.Method2 .U16 `str`}}-", "-Method2: 16 str-"),
        ("{{if $x := .X}}-{{.Method2 .U16 $x}}{{end}}-", "-Method2: 16 x-"),
        ("-{{.Method3 nil}}-", "-Method3: <nil>-"),
        ("-{{.Method3 .MSI.unset}}-", "-Method3: <nil>-"),
        ("{{if $x := .}}-{{$x.Method2 .U16 $x.X}}{{end}}-", "-Method2: 16 x-"),
        (
            "{{range .MSIone}}{{if $.U.TrueFalse $.True_}}{{$.U.TrueFalse $.True_}}{{end}}{{end}}",
            "true",
        ),
        ("{{with $x := .}}{{with .SI}}{{$.GetU.TrueFalse $.True_}}{{end}}{{end}}", "true"),
        ("{{call .BinaryFunc `1` `2`}}", "[1=2]"),
        ("{{.ErrFunc | call}}", "bla"),
        ("-{{.Method0 | .Method2 .U16}}-", "-Method2: 16 M0-"),
        ("{{($).X}}", "x"),
        ("{{($.GetU).V}}", "v"),
        ("{{if true}}TRUE{{end}}", "TRUE"),
        ("{{if false}}TRUE{{else}}FALSE{{end}}", "FALSE"),
        ("{{if 1}}NON-ZERO{{else}}ZERO{{end}}", "NON-ZERO"),
        ("{{if 0}}NON-ZERO{{else}}ZERO{{end}}", "ZERO"),
        ("{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}", "NON-ZERO"),
        ("{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", "ZERO"),
        ("{{if 1.5i}}NON-ZERO{{else}}ZERO{{end}}", "NON-ZERO"),
        ("{{if .ComplexZero}}NON-ZERO{{else}}ZERO{{end}}", "ZERO"),
        ("{{if .NIL}}NON-ZERO{{else}}ZERO{{end}}", "ZERO"),
        ("{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", "EMPTY"),
        ("{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "EMPTY"),
        ("{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}", "NON-EMPTY"),
        ("{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "EMPTY"),
        ("{{if .MSI.none}}NON-ZERO{{else}}ZERO{{end}}", "ZERO"),
        ("{{if not .MSI.none}}ZERO{{else}}NON-ZERO{{end}}", "ZERO"),
        ("{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}", "true,17"),
        ("{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}", "17,true"),
        ("{{if false}}FALSE{{else if true}}TRUE{{end}}", "TRUE"),
        ("{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", "3"),
        ('{{print "hello, print"}}', "hello, print"),
        ("{{print 1 2 3}}", "1 2 3"),
        ("{{print nil}}", "<nil>"),
        ("{{println 1 2 3}}", "1 2 3\n"),
        ('{{printf "%04x" 127}}', "007f"),
        ('{{printf "%g" 3.5}}', "3.5"),
        ('{{printf "%g" 1+7i}}', "(1+7i)"),
        ('{{printf "%s" "hello"}}', "hello"),
        ('{{printf "%s" .U.V}}', "v"),
        ('{{printf "%s" .Method0}}', "M0"),
        ('{{with .I}}{{printf "%d" .}}{{end}}', "17"),
        ('{{printf "%d %s %g %s" 127 "hello" 7-3i .Method0}}', "127 hello (7-3i) M0"),
        (
            '{{html "<script>alert(\\"XSS\\");</script>"}}',
            "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
        ),
        ("{{html .NIL}}", "&lt;no value&gt;"),
        ("{{js `It'd be nice.`}}", "It\\'d be nice."),
        ('{{"http://www.example.org/"|urlquery}}', "http%3A%2F%2Fwww.example.org%2F"),
        ("{{not true}} {{not false}}", "false true"),
        ("{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "false 0 0 1"),
        ("{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "0 1 true 1"),
        ("{{or 0 1 (index nil 0)}}", "1"),  # short-circuit: the third is never evaluated
        ("{{and 1 0 (index nil 0)}}", "0"),
        ("{{1 | and 1}}", "1"),
        ("{{0 | or 0}}", "0"),
        ("{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", "TRUE"),
        ("{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", "FALSE"),
        ("{{index .SI 0}}", "3"),
        ("{{index .MSI `one`}}", "1"),
        ("{{index .SMSI 1 `eleven`}}", "11"),
        ("{{index .Empty3 0}}", "7"),
        ("{{slice .SI}}", "[3 4 5]"),
        ("{{slice .SI 1}}", "[4 5]"),
        ("{{slice .SI 1 2}}", "[4]"),
        ("{{slice .S}}", "xyz"),
        ("{{slice .S 1 2}}", "y"),
        ("{{len .SI}}", "3"),
        ("{{len .MSI }}", "3"),
        ("{{with true}}{{.}}{{end}}", "true"),
        ("{{with 0}}{{.}}{{else}}ZERO{{end}}", "ZERO"),
        ("{{with 1.5}}{{.}}{{else}}ZERO{{end}}", "1.5"),
        ("{{with 1.5i}}{{.}}{{else}}ZERO{{end}}", "(0+1.5i)"),
        ("{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", "map[one:1]"),
        ("{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}", "v"),
        ("{{with 0}}{{.}}{{else with true}}{{.}}{{end}}", "true"),
        ("{{range .SI}}-{{.}}-{{end}}", "-3--4--5-"),
        ("{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "EMPTY"),
        ("{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}", "-3-"),
        ("{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}", "-3--4--5-"),
        ("{{range .SB}}-{{.}}-{{end}}", "-true--false-"),
        ("{{range .MSI}}-{{.}}-{{end}}", "-1--3--2-"),
        ("{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "EMPTY"),
        ("{{range .NIL}}-{{.}}-{{else}}EMPTY{{end}}", "EMPTY"),
        ("{{range $x := .SI}}<{{$x}}>{{end}}", "<3><4><5>"),
        ("{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}", "<0=3><1=4><2=5>"),
        ("{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}", "<one=1>"),
        ("{{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}}", "<3><4><5>"),
        ('{{range $v := 5}}{{printf "%T%d" $v $v}}{{end}}', "int0int1int2int3int4"),
        ('{{or .SI "slice is empty"}}', "[3 4 5]"),
        ('{{or .SIEmpty "slice is empty"}}', "slice is empty"),
        ("{{.MyError false}}", "false"),
        ("{{print 12_34}} {{print 0b101}} {{print 0377}} {{print 0o377}}", "1234 5 255 255"),
        ("{{print 0x123}} {{print 123.4}} {{print +0x1.ep+2}}", "291 123.4 7.5"),
        ("{{print 1234 0x0_1.e_0p+02}}", "1234 7.5"),
        ("{{range .MSIone}}{{if $.Method1 .}}X{{end}}{{end}}", "X"),
        ("{{printf `%T` 0xef}}", "int"),
        ("{{print (.GetU).V}}", "v"),
        ('{{"aaa"|printf }}', "aaa"),
        ('{{1+2i|printf "%v"}}', "(1+2i)"),
        ("{{$i := 0}}{{$x := 0}}{{range $i = .AI}}{{end}}{{$i}}", "5"),
        ("{{$k := 0}}{{$v := 0}}{{range $k, $v = .AI}}{{$k}}={{$v}} {{end}}", "0=3 1=4 2=5 "),
        ('{{define "x"}}[{{.}}]{{end}}{{template "x" .X}}', "[x]"),
        ('{{block "b" .I}}<{{.}}>{{end}}', "<17>"),
        ('{{define "v"}}{{$}}{{end}}{{$z := 1}}{{template "v" 2}}', "2"),
        ("{{/* nothing */}}", ""),
        ("{{1e6}} {{123456.0}} {{1234567.0}} {{0.00001}}", "1e+06 123456 1.234567e+06 1e-05"),
    ],
)
def test_execution(text: str, want: str) -> None:
    assert run(text) == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{1 2}}", "can't give argument to non-function 1"),
        ("{{(1) 2}}", "at <(1) 2>: can't give argument to non-function 1"),
        ("{{call nil}}", "error calling call: call of nil"),
        ("{{call}}", "wrong number of args for call: want at least 1 got 0"),
        ("{{1 | call}}", "error calling call: non-function of type int"),
        ("{{if nil}}TRUE{{end}}", "nil is not a command"),
        ("{{index .SI 10}}", "error calling index: index out of range: 10"),
        ("{{index .SI 3}}", "error calling index: reflect: slice index out of range"),
        ("{{index .SI `hello`}}", "error calling index: cannot index slice/array with type string"),
        ("{{index .SI nil}}", "error calling index: cannot index slice/array with nil"),
        ("{{index .MSI 10}}", "error calling index: value has type int; should be string"),
        ("{{index .I 0}}", "error calling index: can't index item of type int"),
        ("{{slice .SI -1}}", "error calling slice: index out of range: -1"),
        ("{{slice .SI 2 1}}", "error calling slice: invalid slice index: 2 > 1"),
        ("{{slice .SI 4 5}}", "error calling slice: index out of range: 4"),
        ("{{slice .S 1 2 2}}", "error calling slice: cannot 3-index slice a string"),
        ("{{len 3}}", "error calling len: len of type int"),
        ("{{.MyError true}}", "error calling MyError: my error"),
        ("{{3 2}}", "can't give argument to non-function 3"),
        ("{{$x := 1}}{{$x 2}}", "can't give argument to non-function $x"),
        ("{{3|printf}}", "wrong type for value; expected string; got int"),
        ("{{true|printf}}", "wrong type for value; expected string; got bool"),
        ("{{(nil).True}}", "nil is not a command"),
        ("{{$x := nil}}{{$x.anything}}", "nil is not a command"),
        ("{{$x := .NIL}}{{$x.anything}}", "nil pointer evaluating interface {}.anything"),
        ("{{.Nope}}", "can't evaluate field Nope in type template.T"),
        ("{{.X.Y}}", "can't evaluate field Y in type string"),
        ("{{.I 3}}", "I has arguments but cannot be invoked as function"),
        ("{{.MSI.one 3}}", "one is not a method but has arguments"),
        ("{{.Method1}}", "wrong number of args for Method1: want 1 got 0"),
        ("{{template `nope`}}", 'template "nope" not defined'),
        ("{{eq 1 `a`}}", "error calling eq: incompatible types for comparison: int and string"),
        ("{{lt true false}}", "error calling lt: invalid type for comparison"),
        ("{{lt .SI 1}}", "error calling lt: invalid type for comparison"),
        ("{{eq}}", "wrong number of args for eq: want at least 1 got 0"),
        ("{{eq 1}}", "error calling eq: missing argument for comparison"),
        ("{{range .I 3}}{{end}}", "I has arguments but cannot be invoked as function"),
        ("{{range .X}}{{end}}", "range can't iterate over x"),
        ("{{range $a, $b := 3}}{{end}}", "can't use 3 to iterate over more than one variable"),
        ("{{.BinaryFunc}}", "can't print {{.BinaryFunc}} of type func"),
        ("{{99999999999999999999.0 | printf `%d`}}", ""),
        ("{{18446744073709551615}}", "18446744073709551615 overflows int"),
    ],
)
def test_execution_errors(text: str, message: str) -> None:
    if not message:
        run(text)
        return
    with pytest.raises(ExecError) as caught:
        run(text)
    assert message in str(caught.value)


def test_error_location_names_the_template_line_column_and_node() -> None:
    # Go's TestExecError: the location is in the top template's text
    text = (
        'line 1\nline 2\nline 3\n{{template "one" .}}\n'
        '{{define "one"}}{{template "two" .}}{{end}}\n'
        '{{define "two"}}{{template "three" .}}{{end}}\n'
        '{{define "three"}}{{index "hi" $}}{{end}}'
    )
    with pytest.raises(ExecError) as caught:
        parse(text, "top").execute(5)
    assert str(caught.value) == (
        'template: top:7:20: executing "three" at <index "hi" $>: '
        "error calling index: index out of range: 5"
    )


def test_docker_style_messages() -> None:
    with pytest.raises(ExecError) as caught:
        run("{{.Foo}}")
    assert str(caught.value) == (
        'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type template.T'
    )
    with pytest.raises(ExecError) as caught:
        run("x\n  {{json}}")
    assert str(caught.value) == (
        'template: :2:4: executing "" at <json>: wrong number of args for json: want 1 got 0'
    )


def test_output_before_an_error_is_kept() -> None:
    with pytest.raises(ExecError) as caught:
        run("a{{.X}}b{{.Nope}}c")
    assert caught.value.output == "axb"


def test_maps_absent_keys_and_nil() -> None:
    data = {"A": {"B": None}, "L": [], "E": {}}
    assert run("{{.Missing}}", data) == "<no value>"
    assert run("{{.Missing.Deeper}}", data) == "<no value>"
    assert run("{{.A.B}}", data) == "<nil>"
    assert run("{{.A}}", data) == "map[B:<nil>]"
    assert run("{{len .L}} {{len .E}} {{len .A.B}}", data) == "0 0 0"
    assert run("{{index .A.B `key`}}|{{index .E `key`}}", data) == "|"  # label maps: ""
    assert run("{{.}}", None) == "<no value>"
    assert run("{{.foo}}", None) == "<no value>"
    with pytest.raises(ExecError, match=r"nil pointer evaluating interface \{\}\.C"):
        run("{{.A.B.C}}", data)


def test_missing_keys_are_errors_when_asked() -> None:
    with pytest.raises(ExecError) as caught:
        run("{{.State.Foo}}", {"State": {"Running": True}}, missing_key_error=True)
    assert str(caught.value) == (
        'template: :1:8: executing "" at <.State.Foo>: map has no entry for key "Foo"'
    )
    assert run("{{.State.Running}}", {"State": {"Running": True}}, missing_key_error=True) == (
        "true"
    )


def test_variables_scope_to_their_block() -> None:
    assert run("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}") == "2"
    assert run("{{range $i, $e := .}}{{end}}{{$}}", [7]) == "[7]"
    assert run("{{and 1 .Unknown}}", None) == "<no value>"  # Go's "and undef"


def test_templates_see_no_outer_variables() -> None:
    with pytest.raises(Exception, match="undefined variable"):
        parse('{{define "x"}}{{$y}}{{end}}{{$y := 1}}{{template "x"}}')


def test_runaway_recursion_stops_with_an_error() -> None:
    with pytest.raises(ExecError, match="exceeded maximum template depth"):
        run('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}')

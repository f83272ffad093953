"""``--format`` as docker/cli applies it: table headers, the json keyword, escapes, rows."""

from __future__ import annotations

import time

import pytest

from dockyard.cli.formatter import inspect
from dockyard.cli.formatter.format import render, template_text
from dockyard.cli.formatter.rows import (
    ContainerRow,
    HistoryRow,
    ImageRow,
    VolumeRow,
    ellipsis,
    truncate_id,
)
from dockyard.cli.gotemplate import ExecError, ParseError

IMAGE_ID = "sha256:" + "ab" * 32


def images() -> list[ImageRow]:
    return [
        ImageRow(IMAGE_ID, "busybox", "latest", "<none>", time.time() - 90, 4_261_000),
        ImageRow("sha256:" + "cd" * 32, "localhost:5000/a/b", "1.0", "<none>", None, 123_456_789),
    ]


def container(**fields: str) -> ContainerRow:
    base = {
        "ID": "0123456789ab",
        "Image": "busybox",
        "Command": '"sleep 100"',
        "RunningFor": "2 minutes ago",
        "Status": "Up 2 minutes",
        "State": "running",
        "Names": "web",
        "Labels": "a=1,b=2",
    }
    base.update(fields)
    return ContainerRow(base, {"a": "1", "b": "2"}, lambda: "0B (virtual 4.26MB)")


@pytest.mark.parametrize(
    ("fmt", "want"),
    [
        ("table", ""),
        ("json", "{{json .}}"),
        ("table {{.ID}}\\t{{.Names}}", "{{.ID}}\t{{.Names}}"),
        ("  {{.ID}}\\n ", "{{.ID}}\n"),
        ("table\t{{.ID}}", "\t{{.ID}}"),  # only spaces are trimmed
    ],
)
def test_template_text(fmt: str, want: str) -> None:
    assert template_text(fmt) == want


def test_images_default_table() -> None:
    out = render(ImageRow.TABLE, images(), ImageRow.HEADERS)
    assert out.splitlines() == [
        "REPOSITORY           TAG       IMAGE ID       CREATED              SIZE",
        "busybox              latest    abababababab   About a minute ago   4.26MB",
        "localhost:5000/a/b   1.0       cdcdcdcdcdcd   N/A                  123MB",
    ]


def test_custom_table_and_plain_formats() -> None:
    rows = images()
    assert render("table {{.Repository}}\\t{{.Tag}}", rows, ImageRow.HEADERS) == (
        "REPOSITORY           TAG\nbusybox              latest\nlocalhost:5000/a/b   1.0\n"
    )
    assert render("{{.Repository}}:{{.Tag}}", rows) == "busybox:latest\nlocalhost:5000/a/b:1.0\n"
    assert render("table {{.Repository}}", [], ImageRow.HEADERS) == "REPOSITORY\n"


def test_json_keyword_is_one_object_per_line() -> None:
    lines = render("json", images(), ImageRow.HEADERS).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('{"Containers":"N/A","CreatedAt":"')
    assert (
        '"ID":"abababababab","Repository":"busybox","SharedSize":"N/A","Size":"4.26MB"'
        in (lines[0])
    )


def test_header_of_functions_and_labels() -> None:
    out = render(
        'table {{upper .Names}}\\t{{.Label "com.example.some-key"}}\\t{{json .Labels}}',
        [container()],
        ContainerRow.HEADERS,
    )
    assert out.splitlines() == [
        "NAMES     some key   LABELS",
        'WEB                  "a=1,b=2"',  # .Label "some-key" is empty on this row
    ]


def test_a_header_that_fails_is_cut_short_as_docker_does() -> None:
    out = render("table {{json .}}", [container()], ContainerRow.HEADERS)
    assert out.startswith('\n{"Command":"\\"sleep 100\\"",')


def test_ps_default_columns_and_size() -> None:
    out = render(ContainerRow.TABLE + "\\t{{.Size}}", [container()], ContainerRow.HEADERS)
    assert out.splitlines() == [
        "CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS     "
        "NAMES     SIZE",
        '0123456789ab   busybox   "sleep 100"   2 minutes ago   Up 2 minutes'
        "             web       0B (virtual 4.26MB)",
    ]


def test_size_is_measured_only_when_used() -> None:
    calls = []
    row = ContainerRow({"ID": "x"}, {}, lambda: calls.append(1) or "1B")
    render("{{.ID}}", [row])
    assert calls == []
    assert render("{{.Size}}", [row]) == "1B\n"
    assert render("{{.Size}}", [row]) == "1B\n"
    assert calls == [1]


def test_errors_read_as_docker_s() -> None:
    with pytest.raises(ExecError) as caught:
        render("{{.Foo}}", [container()])
    assert str(caught.value) == (
        'template parsing error: template: :1:2: executing "" at <.Foo>: '
        "can't evaluate field Foo in type *formatter.ContainerContext"
    )
    with pytest.raises(ParseError) as parsed:
        render("{{.ID", [])
    assert str(parsed.value) == "template parsing error: template: :1: unclosed action"


def test_label_method_and_missing_label() -> None:
    assert render('{{.Label "a"}}|{{.Label "zz"}}', [container()]) == "1|\n"


def test_volume_rows() -> None:
    rows = [VolumeRow("data", "local", "/var/lib/x/data/_data", {"k": "v"})]
    assert render(VolumeRow.TABLE, rows, VolumeRow.HEADERS) == (
        "DRIVER    VOLUME NAME\nlocal     data\n"
    )
    assert render('{{.Name}} {{.Labels}} {{.Label "k"}} {{.Size}}', rows) == "data k=v v N/A\n"


def test_history_rows() -> None:
    old = HistoryRow("<missing>", 0, '/bin/sh -c #(nop)\tCMD ["sh"]', 0, "")
    new = HistoryRow(IMAGE_ID, time.time() - 7200, "x" * 60, 4_261_000, "c")
    out = render(HistoryRow.TABLE, [new, old], HistoryRow.HEADERS).splitlines()
    assert out[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert out[1].startswith("abababababab   2 hours ago   " + "x" * 44 + "…   4.26MB    c")
    assert out[2].startswith('<missing>      N/A           /bin/sh -c #(nop) CMD ["sh"]')


def test_helpers() -> None:
    assert truncate_id(IMAGE_ID) == "ab" * 6
    assert truncate_id("0123456789abcdef") == "0123456789ab"
    assert ellipsis("abcdef", 4) == "abc…"
    assert ellipsis("abc", 4) == "abc"
    assert ellipsis("日本語日本語", 5) == "日本…"


def test_inspect_forms() -> None:
    docs = [{"Id": "a", "RepoTags": ["x:1"], "Config": {"Labels": {"k": "v"}}}]
    text, errors = inspect.render(docs, "")
    assert text.startswith("[\n    {\n") and not errors
    assert inspect.render(docs, "json") == (
        '[{"Id":"a","RepoTags":["x:1"],"Config":{"Labels":{"k":"v"}}}]\n',
        [],
    )
    assert inspect.render(docs, "{{index .RepoTags 0}}") == ("x:1\n", [])
    assert inspect.render(docs, '{{index .Config.Labels "none"}}') == ("\n", [])
    text, errors = inspect.render(docs + docs, "{{.Nope}}")
    assert text == "\n"
    assert (
        errors
        == [
            'template parsing error: template: :1:2: executing "" at <.Nope>: '
            'map has no entry for key "Nope"'
        ]
        * 2
    )
    assert inspect.render([], "json") == ("[]\n", [])


def test_inspect_exit_codes() -> None:
    with pytest.raises(ParseError) as caught:
        inspect.render([{}], "{{.Id")
    assert inspect.exit_code_for(caught.value) == 64
    assert inspect.exit_code_for(ExecError("x")) == 1


def test_ps_chooses_formats_as_docker_does() -> None:
    from dockyard.cli.commands.ps import _format

    assert _format("", quiet=False, size=False) == ContainerRow.TABLE
    assert _format("table", quiet=False, size=True) == ContainerRow.TABLE + "\\t{{.Size}}"
    assert _format("", quiet=True, size=True) == "{{.ID}}"
    assert _format("{{.Names}}", quiet=True, size=False) == "{{.ID}}"
    assert _format("{{.Names}}", quiet=False, size=True) == "{{.Names}}"
    raw = render(_format("raw", quiet=False, size=False), [container()])
    assert raw.splitlines()[:3] == [
        "container_id: 0123456789ab",
        "image: busybox",
        'command: "sleep 100"',
    ]
    assert "state: running" in raw and "ports:\n" in raw  # pad leaves an empty value alone


def test_ps_checks_a_template_before_listing() -> None:
    from dockyard.cli.commands.ps import _check

    _check("table {{.ID}}\\t{{.Label `x`}}\\t{{.Size}}")
    with pytest.raises(ExecError) as caught:
        _check("{{.Foo}}")
    assert str(caught.value).startswith("failed to execute template: template: :1:2:")
    with pytest.raises(ParseError) as parsed:
        _check("{{.ID")
    assert str(parsed.value) == "failed to parse template: template: :1: unclosed action"

from __future__ import annotations

from dockyard.cli.commands._format import format_rows, render


def test_go_template_subset() -> None:
    data = {
        "Repository": "busybox",
        "Tag": "latest",
        "Config": {"Cmd": ["sh", "-c"]},
        "Labels": {"b": "2", "a": "1"},
    }
    assert render("{{.Repository}}:{{.Tag}}", data) == "busybox:latest"
    assert render("{{ .Config.Cmd }}", data) == "[sh -c]"
    assert render("{{json .Config}}", data) == '{"Cmd": ["sh", "-c"]}'
    assert render("{{.Labels}}", data) == "map[a:1 b:2]"
    assert render('{{join .Config.Cmd ","}}|{{upper .Tag}}', data) == "sh,-c|LATEST"


def test_table_format() -> None:
    rows = [{"Repository": "a", "Tag": "1"}, {"Repository": "longer", "Tag": "2"}]
    out = format_rows("table {{.Repository}}\t{{.Tag}}", rows)
    assert out.splitlines() == ["REPOSITORY   TAG", "a            1", "longer       2"]

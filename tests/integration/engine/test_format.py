"""``--format`` through the real CLI, on images pulled from the registry fixture and on
the engine's containers and volumes: Go templates, Docker's tables, its json form, and
its errors (one line, Docker's exit status, no traceback)."""

from __future__ import annotations

import json
import re

from tests.integration.engine.conftest import Dockyard, EngineImages

HEX12 = re.compile(r"^[0-9a-f]{12}$")


def one_line_error(result: object, status: int, *parts: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == status, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    for part in parts:
        assert part in stderr


def test_images_formats(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("pull", engine_images.busybox)
    dockyard.run("pull", engine_images.configured)
    dockyard.run("tag", engine_images.busybox, "second:v1")

    # the crash this engine replaces: {{json .}} is one JSON object per row
    rows = [
        json.loads(line)
        for line in dockyard.run("images", "--format", "{{json .}}").stdout.splitlines()
    ]
    assert sorted(r["Repository"] for r in rows) == sorted(
        [engine_images.busybox, engine_images.configured, "second"]
    )
    first = rows[0]
    assert sorted(first) == [
        "Containers", "CreatedAt", "CreatedSince", "Digest", "ID",
        "Repository", "SharedSize", "Size", "Tag", "UniqueSize",
    ]  # fmt: skip
    assert HEX12.match(first["ID"]) and first["Size"].endswith(("kB", "MB"))
    assert first["CreatedSince"].endswith(" ago")
    assert dockyard.run("images", "--format", "json").stdout.splitlines() == [
        json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in rows
    ]

    table = dockyard.run("images", "--format", "table {{.Repository}}\\t{{.Tag}}").stdout
    lines = table.splitlines()
    assert re.fullmatch(r"REPOSITORY {3,}TAG", lines[0])
    assert lines[0].index("TAG") == lines[1].index("latest") or "second" in lines[1]
    assert "second" in table and "v1" in table

    default = dockyard.run("images").stdout.splitlines()
    assert re.fullmatch(r"REPOSITORY +TAG +IMAGE ID +CREATED +SIZE", default[0])
    assert all(len(line) > 40 for line in default[1:])

    # the same image under two names: one ID per row, as docker images -q prints it
    ids = dockyard.run("images", "-q").stdout.split()
    assert len(ids) == 3 and len(set(ids)) == 2

    got = dockyard.run(
        "images", "--format", '{{if eq .Tag "v1"}}{{upper .Repository}}{{end}}', "second"
    ).stdout
    assert got == "SECOND\n"


def test_image_inspect_and_history(dockyard: Dockyard, engine_images: EngineImages) -> None:
    image = engine_images.configured
    dockyard.run("pull", image)
    assert dockyard.run("image", "inspect", "-f", "{{index .RepoTags 0}}", image).stdout == (
        f"{image}:latest\n"
    )
    got = dockyard.run("inspect", "--format", "{{json .Config.Labels}} {{.Config.User}}", image)
    assert got.stdout == '{"from":"image"} test\n'
    got = dockyard.run(
        "inspect", "-f", "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{end}}", image
    )
    assert got.stdout == "from=image\n"
    compact = dockyard.run("image", "inspect", "--format", "json", image).stdout
    assert json.loads(compact)[0]["RepoTags"] == [f"{image}:latest"]
    assert "\n" not in compact.rstrip("\n")

    history = dockyard.run("history", "--format", "{{.ID}}|{{.Size}}", image).stdout.splitlines()
    assert HEX12.match(history[0].split("|")[0])
    assert all(re.fullmatch(r".+\|\d+(\.\d+)?[kMG]?B", line) for line in history)

    # a misspelt key: Docker's error, status 1; a template that does not parse: 64
    bad = dockyard.run("image", "inspect", "-f", "{{.Confg.User}}", image, check=False)
    one_line_error(bad, 1, 'map has no entry for key "Confg"', "template parsing error")
    assert bad.stdout == "\n"
    unparsable = dockyard.run("inspect", "-f", "{{.Config.User", image, check=False)
    one_line_error(unparsable, 64, "template parsing error: template: :1: unclosed action")


def test_ps_formats(dockyard: Dockyard, engine_images: EngineImages, token: str) -> None:
    # a template that cannot run fails before anything is listed, as Docker's does
    early = dockyard.run("ps", "--format", "{{.Foo}}", check=False)
    one_line_error(
        early,
        1,
        'failed to execute template: template: :1:2: executing "" at <.Foo>: '
        "can't evaluate field Foo in type *formatter.ContainerContext",
    )
    name = f"fmt-{token}"
    dockyard.run(
        "run", "-d", "--name", name, "-l", "tier=web", "-l", "com.example.team=core",
        engine_images.busybox, "sleep", "1000",
    )  # fmt: skip

    got = dockyard.run("ps", "--format", '{{.Names}} {{.State}} {{.Label "tier"}}').stdout
    assert got == f"{name} running web\n"
    assert dockyard.run("ps", "--format", "{{.Labels}}").stdout == (
        "com.example.team=core,tier=web\n"
    )
    row = json.loads(dockyard.run("ps", "--format", "{{json .}}").stdout)
    assert row["Names"] == name and row["Status"].startswith("Up ")
    assert row["Command"] == '"sleep 1000"' and HEX12.match(row["ID"])
    assert row["Size"].startswith("0B (virtual ")  # asked for by the template: measured

    table = dockyard.run(
        "ps", "--format", 'table {{.ID}}\\t{{.Names}}\\t{{.Label "com.example.team"}}'
    ).stdout.splitlines()
    assert re.fullmatch(r"CONTAINER ID +NAMES +team", table[0])
    assert table[1].split() == [row["ID"], name, "core"]
    assert table[0].index("NAMES") == table[1].index(name) == 15

    default = dockyard.run("ps").stdout.splitlines()
    assert re.fullmatch(r"CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES", default[0])
    assert default[1].startswith(row["ID"] + "   ")
    assert default[1].endswith(name)
    sized = dockyard.run("ps", "-s").stdout.splitlines()
    assert re.search(r" NAMES +SIZE$", sized[0]) and "(virtual " in sized[1]

    quiet = dockyard.run("ps", "-q", "--format", "{{.Names}}")
    assert quiet.stdout == row["ID"] + "\n"
    assert "Ignoring custom format" in quiet.stderr

    inspected = dockyard.run(
        "container", "inspect", "-f", "{{.State.Status}} {{.Name}} {{.Config.Labels.tier}}", name
    )
    assert inspected.stdout == f"running /{name} web\n"


def test_volume_and_version_formats(dockyard: Dockyard, token: str) -> None:
    name = f"vol-{token}"
    dockyard.run("volume", "create", "--label", "k=v", name)
    try:
        assert dockyard.run("volume", "ls", "--format", '{{.Name}} {{.Label "k"}}').stdout == (
            f"{name} v\n"
        )
        table = dockyard.run("volume", "ls").stdout.splitlines()
        assert table == ["DRIVER    VOLUME NAME", f"local     {name}"]
        got = dockyard.run("volume", "inspect", "-f", "{{.Driver}} {{.Labels}}", name).stdout
        assert got == "local map[k:v]\n"
    finally:
        dockyard.run("volume", "rm", name)

    version = dockyard.run("version", "--format", "{{.Client.Version}}").stdout.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version)
    assert json.loads(dockyard.run("version", "--format", "json").stdout)["Client"]["Version"]
    bad = dockyard.run("version", "--format", "{{.Client.Version", check=False)
    one_line_error(bad, 64, "template parsing error: template: version:1: unclosed action")

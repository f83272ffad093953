"""jsonio must read and write exactly what the json module does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.oci import jsonio

SAMPLES = [
    {"a": [1, 2.5, {"b": None, "c": True, "d": False}], "é": 'x"y\\z\n', "e": {}, "l": []},
    [1e100, -0.0, 12345678901234567890, "\u2603", "tab\t"],
    "plain",
    42,
    None,
]


@pytest.mark.parametrize("value", SAMPLES)
def test_dumps_matches_json(value: object) -> None:
    assert jsonio.dumps(value) == json.dumps(value)
    assert jsonio.dumps(value, indent=2) == json.dumps(value, indent=2)
    assert jsonio.dumps_compact(value) == json.dumps(value, separators=(",", ":"))
    assert jsonio.dumps(value, sort_keys=True) == json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("value", SAMPLES)
def test_round_trip(value: object) -> None:
    assert jsonio.loads(json.dumps(value)) == value
    assert jsonio.loads(json.dumps(value, indent=4).encode()) == value


def test_loads_accepts_bom_and_whitespace() -> None:
    assert jsonio.loads(b'\xef\xbb\xbf  {"a": 1}\n ') == {"a": 1}


@pytest.mark.parametrize(
    ("text", "pos"),
    [("", 0), ("{", 1), ('{"a": 1} x', 9), ("[1,]", 3), ('{"a" 1}', 5)],
)
def test_loads_rejects_with_position(text: str, pos: int) -> None:
    with pytest.raises(jsonio.JSONError) as info:
        jsonio.loads(text)
    assert info.value.pos == pos


def test_unencodable_object_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="set"):
        jsonio.dumps({"a": {1, 2}})


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_hostile_nesting_is_a_json_error_not_a_recursion_error(opener: str) -> None:
    with pytest.raises(jsonio.JSONError, match="nested too deeply"):
        jsonio.loads(opener * 100_000)


@pytest.mark.parametrize("text", ['{"a": 1,}', '{"a": [1, 2', '{"a" 1}', "[1,]", "nope"])
def test_errors_without_the_json_module_loaded(text: str) -> None:
    # _json reports errors only through json.decoder, which the runtime never
    # loads: run where it is not loaded (pytest loads it here).
    source = str(Path(jsonio.__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path.insert(0, {source!r}); from dockyard.oci import jsonio\n"
        "try:\n"
        f"    jsonio.loads({text!r})\n"
        "except jsonio.JSONError as exc:\n"
        "    print(exc)\n"
    )

    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert " at character " in result.stdout


@pytest.mark.parametrize(
    ("text", "members"),
    [
        ('{"a": 1, "b": [2, 3], "c": {"d": 4}}', {"a": 1, "b": [2, 3], "c": {"d": 4}}),
        ('{"a": 1, "b": [2, 3], "c": {"d": ', {"a": 1, "b": [2, 3]}),
        ('{"a": 1, "b": 2,}', {"a": 1, "b": 2}),
        ('{"a": 1 "b": 2}', {"a": 1}),
        ('{"a"', {}),
        ("[1, 2]", {}),
        ("", {}),
    ],
)
def test_object_members_reads_what_parses(text: str, members: dict[str, object]) -> None:
    assert jsonio.object_members(text) == members

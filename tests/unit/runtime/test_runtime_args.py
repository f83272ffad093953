from __future__ import annotations

import pytest

from dockyard.cli.runtime_args import flag, parse
from dockyard.errors import InvalidArgument

FLAGS = [
    flag("--bundle", "-b", value=True, default="."),
    flag("--detach", "-d"),
    flag("--env", value=True, default=[]),
]


def test_values_in_every_form() -> None:
    parsed = parse(["--bundle", "x", "id"], FLAGS)
    assert (parsed.bundle, parsed.args) == ("x", ["id"])
    assert parse(["--bundle=y", "id"], FLAGS).bundle == "y"
    assert parse(["-b", "z", "id"], FLAGS).bundle == "z"
    assert parse(["-bundle", "w", "id"], FLAGS).bundle == "w"  # urfave/cli's single dash


def test_booleans_and_defaults() -> None:
    parsed = parse(["id"], FLAGS)
    assert (parsed.bundle, parsed.detach) == (".", False)
    assert parse(["-d", "id"], FLAGS).detach is True
    assert parse(["--detach=false", "id"], FLAGS).detach is False


def test_repeated_list_flags_do_not_share_state() -> None:
    assert parse(["--env", "A=1", "--env", "B=2", "id"], FLAGS).env == ["A=1", "B=2"]
    assert parse(["id"], FLAGS).env == []


def test_stop_at_positional_keeps_command_flags() -> None:
    parsed = parse(["--bundle", "g", "run", "--detach", "x"], FLAGS, stop_at_positional=True)
    assert parsed.args == ["run", "--detach", "x"]


@pytest.mark.parametrize("argv", [["--nope", "id"], ["--bundle"], ["--detach=maybe", "id"]])
def test_bad_flags_are_refused(argv: list[str]) -> None:
    with pytest.raises(InvalidArgument):
        parse(argv, FLAGS, command="run")

"""dockyard-runtime COMMAND --help and help COMMAND: each command's own help,
listing the options its parser really takes, and nothing run."""

from __future__ import annotations

import pytest

from dockyard.cli.runtime_args import HelpRequested, flag, parse
from dockyard.cli.runtime_main import COMMANDS, run_cli


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--root", "/nonexistent", command, "--help"]) == 0
    out, err = capsys.readouterr()

    assert out.startswith(f"usage: dockyard-runtime {command}"), out
    assert err == ""
    assert run_cli(["--root", "/nonexistent", "help", command]) == 0
    assert capsys.readouterr().out == out


def test_help_lists_the_options_the_parser_takes(capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(["run", "-h"])
    out = capsys.readouterr().out

    for option in ("-b, --bundle DIR", "-d, --detach", "--keep", "--preserve-fds N"):
        assert option in out
    assert "--process" not in out  # exec's, not run's


def test_help_after_a_command_argument_belongs_to_the_command() -> None:
    # exec ID sh --help: --help is the container's command's.
    parsed = parse(["c1", "sh", "--help"], [], stop_at_positional=True, command="exec")

    assert parsed.args == ["c1", "sh", "--help"]


def test_help_is_asked_before_anything_runs() -> None:
    with pytest.raises(HelpRequested) as request:
        parse(["--bundle", "/b", "--help", "c1"], [flag("--bundle", value=True)], command="run")

    assert request.value.command == "run"


def test_help_on_an_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["help", "nope"]) == 1
    assert "no help for 'nope'" in capsys.readouterr().err

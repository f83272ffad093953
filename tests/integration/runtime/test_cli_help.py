"""Per-command help, as runc has it: COMMAND --help and help COMMAND print
that command's options, and run nothing."""

from __future__ import annotations

import pytest

from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


def test_run_help_shows_runs_options_and_runs_nothing(runtime: Runtime, bundle: Bundle) -> None:
    result = runtime("run", "--bundle", bundle.path, "--help", runtime.new_id())

    assert result.returncode == 0
    for option in ("--bundle", "--detach", "--keep", "--pid-file", "--console-socket"):
        assert option in result.stdout, option
    assert "--process" not in result.stdout  # exec's
    assert runtime.list() == []


@pytest.mark.parametrize(("command", "option"), [("run", "--detach"), ("kill", "--all")])
def test_help_command_is_command_help(runtime: Runtime, command: str, option: str) -> None:
    asked = runtime("help", command)

    assert asked.stdout == runtime(command, "--help").stdout
    assert option in asked.stdout

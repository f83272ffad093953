"""`engine.top.parse_ps`: Docker's reading of ps output, without a container."""

from __future__ import annotations

import pytest

from dockyard.engine.top import parse_ps
from dockyard.errors import InvalidArgument

PS_EF = """\
UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root        4242    4200  0 10:01 ?        00:00:00 sleep 1000 --with  spaces
root        4243    4242  0 10:01 pts/0    00:00:00 sh -c echo hi
"""


def test_rows_of_the_containers_pids_with_the_command_kept_whole() -> None:
    found = parse_ps(PS_EF, [4242, 4243])

    assert found.titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert found.processes == [
        ["root", "4242", "4200", "0", "10:01", "?", "00:00:00", "sleep 1000 --with spaces"],
        ["root", "4243", "4242", "0", "10:01", "pts/0", "00:00:00", "sh -c echo hi"],
    ]


def test_output_without_a_pid_column_or_with_a_bad_pid_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="Couldn't find PID field"):
        parse_ps("COMMAND\nsleep\n", [1])
    with pytest.raises(InvalidArgument, match="Unexpected pid"):
        parse_ps("PID COMMAND\nx sleep\n", [1])

"""Docker's checks of a verb's positional arguments (cli/required.go): message and status 1."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def _refuse(verb: str, wanted: str) -> NoReturn:
    sys.stderr.write(f"\"dockyard {verb}\" requires {wanted}.\nSee 'dockyard {verb} --help'.\n")
    raise SystemExit(1)


def _plural(n: int) -> str:
    return f"{n} argument{'s' if n != 1 else ''}"


def exactly(verb: str, args: list[str], n: int) -> list[str]:
    if len(args) != n:
        _refuse(verb, f"exactly {_plural(n)}")
    return args


def at_least(verb: str, args: list[str], n: int) -> list[str]:
    if len(args) < n:
        _refuse(verb, f"at least {_plural(n)}")
    return args


def at_most(verb: str, args: list[str], n: int) -> list[str]:
    if len(args) > n:
        _refuse(verb, f"at most {_plural(n)}")
    return args


def none(verb: str, args: list[str]) -> None:
    if args:
        sys.stderr.write(
            f"\"dockyard {verb}\" accepts no arguments.\nSee 'dockyard {verb} --help'.\n"
        )
        raise SystemExit(1)

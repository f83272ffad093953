"""Docker's flag syntax (spf13/pflag), for the container verbs, without argparse.

``-e K=V``, ``-eK=V``, ``--env K=V``, ``--env=K=V``; short booleans combine
(``-dit``); ``--rm=false``; repeated flags append; ``--`` ends the flags.
``run`` and ``create`` stop at the first positional argument (the image):
what follows is the container's command, flags and all. argparse costs
about as much to import as a container start, and gets these rules wrong
in places (``-e`` taking a value that starts with a dash).
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BOOL, VALUE, LIST = 0, 1, 2


class Flag:
    __slots__ = ("default", "dest", "help", "kind", "long", "metavar", "short")

    def __init__(
        self,
        long: str,
        short: str = "",
        kind: int = BOOL,
        default: object = None,
        help: str = "",
        metavar: str = "",
        dest: str = "",
    ) -> None:
        self.long = long
        self.short = short
        self.kind = kind
        self.help = help
        self.metavar = metavar or ("list" if kind == LIST else "string")
        self.dest = dest or long.replace("-", "_")
        if default is None:
            default = False if kind == BOOL else ([] if kind == LIST else "")
        self.default = default


class UsageError(InvalidArgument):
    """A command line that does not parse: Docker prints it with a hint and exits 125."""


class Parsed:
    def __init__(self) -> None:
        self.args: list[str] = []
        self.given: set[str] = set()

    def __getattr__(self, name: str) -> Any:  # flag values are set as attributes
        raise AttributeError(name)


def parse(argv: list[str], flags: list[Flag], interspersed: bool = True) -> Parsed:
    longs = {f.long: f for f in flags}
    shorts = {f.short: f for f in flags if f.short}
    out = Parsed()
    for f in flags:
        setattr(out, f.dest, list(f.default) if isinstance(f.default, list) else f.default)
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            out.args += argv[i:]
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            flag = longs.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
            if flag.kind == BOOL:
                _set_bool(out, flag, value if eq else "true", f"--{name}")
                continue
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
            _set(out, flag, value)
            continue
        if arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                letter = arg[j]
                flag = shorts.get(letter)
                if flag is None:
                    raise UsageError(f"unknown shorthand flag: '{letter}' in {arg}")
                j += 1
                if flag.kind == BOOL:
                    if j < len(arg) and arg[j] == "=":
                        _set_bool(out, flag, arg[j + 1 :], f"-{letter}")
                        break
                    _set_bool(out, flag, "true", f"-{letter}")
                    continue
                value = arg[j:]
                if value.startswith("="):
                    value = value[1:]
                elif not value:
                    if i >= len(argv):
                        raise UsageError(f"flag needs an argument: '{letter}' in -{letter}")
                    value = argv[i]
                    i += 1
                _set(out, flag, value)
                break
            continue
        out.args.append(arg)
        if not interspersed:
            out.args += argv[i:]
            break
    return out


def _set_bool(out: Parsed, flag: Flag, value: str, name: str) -> None:
    lowered = value.lower()
    if lowered in ("true", "1", "t"):
        setattr(out, flag.dest, True)
    elif lowered in ("false", "0", "f"):
        setattr(out, flag.dest, False)
    else:
        raise UsageError(f'invalid argument "{value}" for "{name}" flag: not a boolean')
    out.given.add(flag.dest)


def _set(out: Parsed, flag: Flag, value: str) -> None:
    if flag.kind == LIST:
        getattr(out, flag.dest).append(value)
    else:
        setattr(out, flag.dest, value)
    out.given.add(flag.dest)


def usage(command: str, synopsis: str, description: str, flags: list[Flag]) -> str:
    lines = [f"\nUsage:  {command} {synopsis}\n", f"{description}\n"]
    if flags:
        lines.append("Options:")
        for f in flags:
            names = f"-{f.short}, --{f.long}" if f.short else f"    --{f.long}"
            if f.kind != BOOL:
                names += f" {f.metavar}"
            lines.append(f"  {names:<30} {f.help}")
    return "\n".join(lines) + "\n"

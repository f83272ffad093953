"""A small runc-compatible command-line parser.

runc's flags (urfave/cli) take ``--flag value``, ``--flag=value`` and single
dash long forms (``-bundle``); booleans take no value. ``argparse`` costs
more to import than a whole container start here, so this is hand-made.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument


class Flag:
    __slots__ = ("default", "dest", "names", "takes_value")

    def __init__(
        self, names: tuple[str, ...], takes_value: bool, dest: str, default: object = None
    ) -> None:
        self.names = names
        self.takes_value = takes_value
        self.dest = dest
        self.default = default if default is not None else ("" if takes_value else False)


def flag(*names: str, value: bool = False, dest: str = "", default: object = None) -> Flag:
    return Flag(names, value, dest or names[0].lstrip("-").replace("-", "_"), default)


class HelpRequested(Exception):
    """``--help`` or ``-h`` among a command's options: print its help instead."""

    def __init__(self, command: str, flags: list[Flag]) -> None:
        super().__init__(command)
        self.command = command
        self.flags = flags


class Parsed:
    """Flag values as attributes, positional arguments in ``args``."""

    def __init__(self) -> None:
        self.args: list[str] = []

    def __getattr__(self, name: str) -> object:  # only for names not set
        raise AttributeError(name)


def parse(
    argv: list[str], flags: list[Flag], stop_at_positional: bool = False, command: str = ""
) -> Parsed:
    by_name: dict[str, Flag] = {}
    for f in flags:
        for name in f.names:
            by_name[name] = f
    result = Parsed()
    for f in flags:
        setattr(result, f.dest, list(f.default) if isinstance(f.default, list) else f.default)
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            result.args.extend(argv[i:])
            break
        if arg.startswith("-") and len(arg) > 1 and not (stop_at_positional and result.args):
            name, eq, value = arg.partition("=")
            # urfave/cli also takes long flags with a single dash (-bundle).
            found = by_name.get(name) or by_name.get("-" + name)
            if found is None and command and name in ("--help", "-h", "-help"):
                raise HelpRequested(command, flags)
            if found is None:
                where = f" for {command}" if command else ""
                raise InvalidArgument(f"flag provided but not defined{where}: {name}")
            f = found
            if f.takes_value:
                if not eq:
                    if i >= len(argv):
                        raise InvalidArgument(f"flag needs an argument: {name}")
                    value = argv[i]
                    i += 1
                if isinstance(f.default, list):
                    getattr(result, f.dest).append(value)
                else:
                    setattr(result, f.dest, value)
            else:
                if eq and value not in ("true", "false"):
                    raise InvalidArgument(f"invalid boolean value {value!r} for {name}")
                setattr(result, f.dest, value != "false")
            continue
        result.args.append(arg)
        if stop_at_positional:
            result.args.extend(argv[i:])
            break
    return result

"""``dockyard``: Docker's command line over Dockyard's library.

Global flags come before the verb; each verb lives in ``cli/commands/<verb>.py``
(``add_arguments`` and ``run``) and is imported only when used. Management
forms (``dockyard image ls``, ``dockyard system check``) map to the same
modules as the short ones (``dockyard images``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Any

from dockyard.errors import DockyardError

VERBS = {
    "version": "version",
    "pull": "pull",
    "push": "push",
    "images": "images",
    "inspect": "image_inspect",
    "history": "history",
    "tag": "tag",
    "rmi": "rmi",
    "save": "save",
    "load": "load",
    "import": "import_",
    "export": "export",
    "login": "login",
    "logout": "logout",
}
GROUPS = {
    "image": {
        "ls": "images",
        "list": "images",
        "pull": "pull",
        "push": "push",
        "inspect": "image_inspect",
        "history": "history",
        "tag": "tag",
        "rm": "rmi",
        "remove": "rmi",
        "prune": "image_prune",
        "save": "save",
        "load": "load",
        "import": "import_",
    },
    "system": {"check": "system_check"},
}

USAGE = """Usage:  dockyard [OPTIONS] COMMAND

A container engine with Docker's command line.

Options:
      --root DIR                 store root (default $DOCKYARD_ROOT or /var/lib/dockyard)
      --insecure-registry HOST   allow plain HTTP to HOST (repeatable)
      --config DIR               client config directory (credentials)
  -v, --version                  print version information and quit

Management Commands:
  image       Manage images
  system      Manage Dockyard (check)

Commands:
  export      Export an image's filesystem as a tar archive
  history     Show the history of an image
  images      List images
  import      Import the contents from a tarball to create a filesystem image
  inspect     Return low-level information on images
  load        Load an image from a tar archive or STDIN
  login       Log in to a registry
  logout      Log out from a registry
  pull        Download an image from a registry
  push        Upload an image to a registry
  rmi         Remove one or more images
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  version     Show the Dockyard version information
"""

EXIT_USAGE = 125


class Terminated(BaseException):
    """SIGTERM, raised wherever the verb is, so that every ``finally`` runs: the
    store's operation dir, a half-written output file and spooled input are
    removed, as after ctrl-c. (SIGKILL leaves them to the next command.)"""


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the clean-up must not be cut short
    raise Terminated()


def _handle_sigterm(handler: Any) -> Any:
    """Install ``handler``; returns the one it replaced (None: unknown, left alone).
    Only the main thread may: from another (an embedding program), nothing changes."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


class Context:
    """What every verb gets: where the store is, which registries are insecure."""

    def __init__(self, root: str, insecure: list[str]) -> None:
        self.root = root
        self.insecure = insecure


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\nSee '{self.prog} --help'.\n")
        sys.exit(EXIT_USAGE)


def _global_options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = _Parser(prog="dockyard", add_help=False)
    parser.add_argument("--root", default=os.environ.get("DOCKYARD_ROOT", "/var/lib/dockyard"))
    parser.add_argument("--insecure-registry", action="append", default=[])
    parser.add_argument("--config")
    parser.add_argument("-D", "--debug", action="store_true")
    parser.add_argument("-v", "--version", action="store_true")
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    return opts, opts.rest


def _module_for(rest: list[str]) -> tuple[str, str, list[str]] | None:
    if not rest:
        return None
    verb = rest[0]
    if verb in GROUPS:
        sub = rest[1] if len(rest) > 1 else ""
        if sub not in GROUPS[verb]:
            names = ", ".join(GROUPS[verb])
            sys.stderr.write(f"dockyard {verb}: unknown command {sub!r}; commands: {names}\n")
            sys.exit(EXIT_USAGE)
        return f"dockyard {verb} {sub}", GROUPS[verb][sub], rest[2:]
    if verb in VERBS:
        return f"dockyard {verb}", VERBS[verb], rest[1:]
    sys.stderr.write(f"dockyard: '{verb}' is not a dockyard command.\nSee 'dockyard --help'\n")
    sys.exit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    opts, rest = _global_options(sys.argv[1:] if argv is None else argv)
    if opts.version and not rest:
        from dockyard import __version__

        print(f"Dockyard version {__version__}")
        return 0
    found = _module_for(rest)
    if found is None or opts.help:
        sys.stdout.write(USAGE)
        return 0
    prog, module_name, args = found
    if opts.config:
        os.environ["DOCKYARD_CONFIG"] = opts.config
    insecure = list(opts.insecure_registry)
    insecure += [h for h in os.environ.get("DOCKYARD_INSECURE_REGISTRIES", "").split(",") if h]
    module = importlib.import_module(f"dockyard.cli.commands.{module_name}")
    parser = _Parser(prog=prog, description=(module.__doc__ or "").strip().splitlines()[0])
    module.add_arguments(parser)
    parsed = parser.parse_args(args)
    previous = _handle_sigterm(_terminate)
    try:
        status: int = module.run(parsed, Context(opts.root, insecure))
    except DockyardError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 128 + signal.SIGTERM
    except BrokenPipeError:
        return 1
    finally:
        _handle_sigterm(previous)
    return status


if __name__ == "__main__":
    sys.exit(main())

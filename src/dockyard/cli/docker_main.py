"""``dockyard``: Docker's command line over Dockyard's library.

Global flags come before the verb; each verb lives in ``cli/commands/<verb>.py``
and is imported only when used. Management forms (``dockyard image ls``,
``dockyard container rm``) map to the same modules as the short ones.

A verb module either declares ``FLAGS`` (Docker's flag syntax, parsed by
``cli/flags.py``: the container verbs, whose start-up time matters) or
``add_arguments`` (argparse, imported only then). Nothing on the way to a
verb imports argparse, ``signal``, ``os`` or ``typing``: ``run`` starts a
container in a few tens of milliseconds and Python's start is most of it.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal.py costs ~10 ms (enum)
import posix
import sys

from dockyard.errors import DockyardError

VERBS = {
    "run": "run",
    "create": "create",
    "start": "start",
    "stop": "stop",
    "restart": "restart",
    "kill": "kill",
    "rm": "rm",
    "ps": "ps",
    "logs": "logs",
    "wait": "wait",
    "top": "top",
    "attach": "attach",
    "exec": "exec_",
    "pause": "pause",
    "unpause": "unpause",
    "rename": "rename",
    "diff": "diff",
    "commit": "commit",
    "events": "events",
    "stats": "stats",
    "update": "update",
    "cp": "cp",
    "version": "version",
    "info": "info",
    "pull": "pull",
    "push": "push",
    "images": "images",
    "inspect": "inspect",
    "history": "history",
    "tag": "tag",
    "rmi": "rmi",
    "save": "save",
    "load": "load",
    "import": "import_",
    "export": "export",
    "login": "login",
    "logout": "logout",
    "port": "port",
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
    "system": {
        "check": "system_check",
        "df": "system_df",
        "info": "info",
        "prune": "system_prune",
        "restore": "system_restore",
        "events": "events",
    },
    "container": {
        "run": "run",
        "create": "create",
        "start": "start",
        "stop": "stop",
        "restart": "restart",
        "kill": "kill",
        "rm": "rm",
        "remove": "rm",
        "ls": "ps",
        "list": "ps",
        "ps": "ps",
        "logs": "logs",
        "inspect": "container_inspect",
        "wait": "wait",
        "top": "top",
        "attach": "attach",
        "exec": "exec_",
        "pause": "pause",
        "unpause": "unpause",
        "rename": "rename",
        "diff": "diff",
        "commit": "commit",
        "export": "export",
        "prune": "container_prune",
        "stats": "stats",
        "update": "update",
        "cp": "cp",
        "port": "port",
        "cleanup": "container_cleanup",
        "autorestart": "container_autorestart",
        "health-event": "container_health_event",
    },
    "network": {
        "create": "network_create",
        "ls": "network_ls",
        "list": "network_ls",
        "inspect": "network_inspect",
        "rm": "network_rm",
        "remove": "network_rm",
        "prune": "network_prune",
        "connect": "network_connect",
        "disconnect": "network_disconnect",
    },
    "volume": {
        "create": "volume_create",
        "ls": "volume_ls",
        "list": "volume_ls",
        "inspect": "volume_inspect",
        "rm": "volume_rm",
        "remove": "volume_rm",
        "prune": "volume_prune",
    },
}

INTERNAL = ("cleanup", "autorestart", "health-event")  # run by monitors and timers, not by users

USAGE = """Usage:  dockyard [OPTIONS] COMMAND

A container engine with Docker's command line.

Options:
      --root DIR                 store root (default $DOCKYARD_ROOT or /var/lib/dockyard)
      --run-root DIR             state that a reboot forgets (default $DOCKYARD_RUN_ROOT
                                 or /run/dockyard)
      --insecure-registry HOST   allow plain HTTP to HOST (repeatable)
      --config DIR               client config directory (credentials)
  -D, --debug                    show a traceback with errors
  -v, --version                  print version information and quit

Management Commands:
  container   Manage containers
  image       Manage images
  network     Manage networks
  system      Manage Dockyard (check, df, info, prune, restore)
  volume      Manage volumes

Commands:
  attach      Attach local standard input, output, and error streams to a running container
  commit      Create a new image from a container's changes
  cp          Copy files/folders between a container and the local filesystem
  create      Create a new container
  diff        Inspect changes to files or directories on a container's filesystem
  events      Get real time events from the server
  exec        Execute a command in a running container
  export      Export a container's filesystem as a tar archive
  history     Show the history of an image
  images      List images
  import      Import the contents from a tarball to create a filesystem image
  info        Display system-wide information
  inspect     Return low-level information on containers, images or volumes
  kill        Kill one or more running containers
  load        Load an image from a tar archive or STDIN
  login       Log in to a registry
  logout      Log out from a registry
  logs        Fetch the logs of a container
  pause       Pause all processes within one or more containers
  port        List port mappings or a specific mapping for the container
  ps          List containers
  pull        Download an image from a registry
  push        Upload an image to a registry
  rename      Rename a container
  restart     Restart one or more containers
  rm          Remove one or more containers
  rmi         Remove one or more images
  run         Create and run a new container from an image
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  start       Start one or more stopped containers
  stats       Display a live stream of container(s) resource usage statistics
  stop        Stop one or more running containers
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  top         Display the running processes of a container
  unpause     Unpause all processes within one or more containers
  update      Update configuration of one or more containers
  version     Show the Dockyard version information
  wait        Block until one or more containers stop, then print their exit codes
"""

EXIT_USAGE = 125


class Terminated(BaseException):
    """SIGTERM, raised wherever the verb is, so that every ``finally`` runs: the
    store's operation dir, a half-written output file and spooled input are
    removed, as after ctrl-c. (SIGKILL leaves them to the next command.)"""


SIGTERM = 15


def _terminate(signum: int, frame: object) -> None:
    _signal.signal(SIGTERM, _signal.SIG_IGN)  # the clean-up must not be cut short
    raise Terminated()


def _handle_sigterm(handler: Any) -> Any:
    """Install ``handler``; returns the one it replaced (None: unknown, left alone).
    Only the main thread may: from another (an embedding program), nothing changes."""
    if handler is None:
        return None
    try:
        return _signal.signal(SIGTERM, handler)
    except ValueError:
        return None


def _env(name: str, default: str = "") -> str:
    value = posix.environ.get(name.encode())
    return value.decode(errors="surrogateescape") if value is not None else default


class Context:
    """What every verb gets: where the store and the run state are, which registries are
    insecure, and the engine over them (made on first use)."""

    def __init__(
        self, root: str, insecure: list[str], run_root: str = "", debug: bool = False
    ) -> None:
        self.root = root
        self.insecure = insecure
        self.run_root = run_root or _env("DOCKYARD_RUN_ROOT", "/run/dockyard")
        self.debug = debug
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            from dockyard.engine.engine import Engine

            self._engine = Engine(
                self.root,
                self.run_root,
                self.insecure,
                _env("DOCKYARD_CGROUP_PARENT"),
                _env("DOCKYARD_DEFAULT_RUNTIME", "dockyard"),
            )
            self._engine.short_lived = True
        return self._engine


TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from types import ModuleType
    from typing import Any, NoReturn

    from dockyard.engine.engine import Engine


class GlobalOptions:
    def __init__(self) -> None:
        self.root = _env("DOCKYARD_ROOT", "/var/lib/dockyard")
        self.run_root = ""
        self.insecure: list[str] = []
        self.config = ""
        self.debug = False
        self.version = False
        self.help = False


_GLOBAL_VALUES = {"--root": "root", "--run-root": "run_root", "--config": "config"}
_GLOBAL_BOOLS = {"-D": "debug", "--debug": "debug", "-v": "version", "--version": "version"}


def _global_options(argv: list[str]) -> tuple[GlobalOptions, list[str]]:
    """The options before the verb (by hand: argparse costs ~10 ms to import)."""
    opts = GlobalOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg == "-":
            break
        i += 1
        name, eq, value = arg.partition("=")
        if name in ("-h", "--help"):
            opts.help = True
        elif name in _GLOBAL_BOOLS:
            setattr(opts, _GLOBAL_BOOLS[name], True)
        elif name in _GLOBAL_VALUES or name == "--insecure-registry":
            if not eq:
                if i >= len(argv):
                    _usage_error("dockyard", f"flag needs an argument: {name}")
                value = argv[i]
                i += 1
            if name == "--insecure-registry":
                opts.insecure.append(value)
            else:
                setattr(opts, _GLOBAL_VALUES[name], value)
        elif name == "--":
            break
        else:
            _usage_error("dockyard", f"unknown flag: {name}")
    return opts, argv[i:]


def _usage_error(prog: str, message: str) -> NoReturn:
    sys.stderr.write(f"{prog}: {message}\nSee '{prog} --help'.\n")
    sys.exit(EXIT_USAGE)


def _module_for(rest: list[str]) -> tuple[str, str, list[str]] | None:
    if not rest:
        return None
    verb = rest[0]
    if verb in GROUPS:
        sub = rest[1] if len(rest) > 1 else ""
        if sub not in GROUPS[verb]:
            names = ", ".join(n for n in GROUPS[verb] if n not in INTERNAL)
            sys.stderr.write(f"dockyard {verb}: unknown command {sub!r}; commands: {names}\n")
            sys.exit(EXIT_USAGE)
        return f"dockyard {verb} {sub}", GROUPS[verb][sub], rest[2:]
    if verb in VERBS:
        return f"dockyard {verb}", VERBS[verb], rest[1:]
    sys.stderr.write(f"dockyard: '{verb}' is not a dockyard command.\nSee 'dockyard --help'\n")
    sys.exit(EXIT_USAGE)


def _parse_argparse(module: ModuleType, prog: str, args: list[str]) -> argparse.Namespace:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            sys.stderr.write(f"{self.prog}: {message}\nSee '{self.prog} --help'.\n")
            sys.exit(EXIT_USAGE)

    parser = _Parser(prog=prog, description=(module.__doc__ or "").strip().splitlines()[0])
    module.add_arguments(parser)
    return parser.parse_args(args)


def _parse_flags(module: ModuleType, prog: str, args: list[str]) -> object:
    from dockyard.cli.flags import Flag, UsageError, parse, usage

    flags: list[Flag] = module.FLAGS
    # -h is help unless the verb takes it for something else (run -h HOSTNAME)
    short_help = "" if any(f.short == "h" for f in flags) else "h"
    try:
        parsed = parse(
            args, [*flags, Flag("help", short_help)], getattr(module, "INTERSPERSED", True)
        )
    except UsageError as exc:
        _usage_error(prog, str(exc))
    if parsed.help:
        doc = (module.__doc__ or "").strip().splitlines()[0]
        sys.stdout.write(usage(prog, getattr(module, "SYNOPSIS", ""), doc, flags))
        sys.exit(0)
    least = getattr(module, "MIN_ARGS", 0)
    if len(parsed.args) < least:  # Docker's CLI: exit 1, not the engine's 125
        plural = "s" if least > 1 else ""
        sys.stderr.write(
            f"{prog.split()[0]}: '{prog}' requires at least {least} argument{plural}\n"
            f"See '{prog} --help'.\n"
        )
        sys.exit(1)
    return parsed


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
        posix.environ[b"DOCKYARD_CONFIG"] = opts.config.encode()
    insecure = list(opts.insecure)
    insecure += [h for h in _env("DOCKYARD_INSECURE_REGISTRIES").split(",") if h]
    module = __import__(f"dockyard.cli.commands.{module_name}", fromlist=["run"])
    if hasattr(module, "FLAGS"):
        parsed: object = _parse_flags(module, prog, args)
    else:
        parsed = _parse_argparse(module, prog, args)
    ctx = Context(opts.root, insecure, opts.run_root, opts.debug)
    previous = _handle_sigterm(_terminate)
    try:
        status: int = module.run(parsed, ctx)
    except DockyardError as exc:
        if opts.debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"{getattr(module, 'ERROR_PREFIX', 'Error: ')}{exc}\n")
        return int(getattr(module, "exit_code_for", lambda e: 1)(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # a system call nobody expected to fail: still one line
        if opts.debug:
            import traceback

            traceback.print_exc()
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"Error: {exc.strerror or exc}{where}\n")
        return int(getattr(module, "exit_code_for", lambda e: 1)(exc))
    except Exception as exc:  # a bug: one line, the traceback with --debug
        if opts.debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(
            f"Error: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for a traceback)\n"
        )
        return int(getattr(module, "exit_code_for", lambda e: 1)(exc))
    except Terminated:
        return 128 + SIGTERM
    finally:
        _handle_sigterm(previous)
    return status


def entry() -> None:
    """The console script: run, flush, and leave without interpreter teardown.

    Teardown would close the engine's database, and SQLite checkpoints and
    truncates its WAL when its last connection closes: ~15 ms of fsync on
    every command, for what the next writer's auto-checkpoint does anyway.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 1
    posix._exit(code)


if __name__ == "__main__":
    entry()

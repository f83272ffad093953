"""Show the Dockyard version information."""

from __future__ import annotations

import argparse
import platform
import sys

from dockyard.cli.docker_main import Context
from dockyard.cli.formatter.inspect import exit_code_for

__all__ = ["add_arguments", "exit_code_for", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--format", help="format the output using a Go template")


class VersionInfo:
    """What ``version --format`` sees: Docker's ``.Client`` and ``.Server``. The engine
    runs in the client's process, so the server's facts are the client's."""

    GO_TYPE = "system.versionInfo"

    def __init__(self, client: dict[str, str], server: dict[str, str]) -> None:
        self.Client = client
        self.Server = server


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard import OCI_VERSION, __version__

    info = {
        "Version": __version__,
        "ApiVersion": "1.43",
        "OciVersion": OCI_VERSION,
        "Os": "linux",
        "Arch": platform.machine(),
        "PythonVersion": platform.python_version(),
    }
    if args.format:
        return _formatted(args.format, VersionInfo(info, dict(info)))
    sys.stdout.write(
        "Client: Dockyard\n"
        f" Version:           {__version__}\n"
        f" API version:       {info['ApiVersion']}\n"
        f" OCI runtime spec:  {OCI_VERSION}\n"
        f" Python version:    {info['PythonVersion']}\n"
        f" OS/Arch:           linux/{info['Arch']}\n"
    )
    return 0


def _formatted(fmt: str, data: VersionInfo) -> int:
    """As docker version: the template named "version", its output through a tabwriter
    with minimum width 20 and padding 1; a template that does not parse is status 64."""
    from dockyard.cli.formatter.format import parse
    from dockyard.cli.formatter.tabwriter import format_table
    from dockyard.cli.gotemplate.errors import ExecError

    tmpl = parse("{{json .}}" if fmt == "json" else fmt, name="version")
    try:
        out, error = tmpl.execute(data), None
    except ExecError as exc:
        out, error = exc.output, exc
    sys.stdout.write(format_table(out + "\n", minwidth=20, padding=1))
    if error is not None:
        raise error
    return 0

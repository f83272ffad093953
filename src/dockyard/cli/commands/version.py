"""Show the Dockyard version information."""

from __future__ import annotations

import argparse
import platform
import sys

from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--format", help="format the output using a Go-like template")


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
        from dockyard.cli.commands._format import render

        print(render(args.format, {"Client": info, **info}))
        return 0
    sys.stdout.write(
        "Client: Dockyard\n"
        f" Version:           {__version__}\n"
        f" API version:       {info['ApiVersion']}\n"
        f" OCI runtime spec:  {OCI_VERSION}\n"
        f" Python version:    {info['PythonVersion']}\n"
        f" OS/Arch:           linux/{info['Arch']}\n"
    )
    return 0

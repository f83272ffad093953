"""Show the Dockyard version information."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context
from dockyard.cli.formatter.inspect import exit_code_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["add_arguments", "exit_code_for", "run"]

#: docker/cli's default version template, Python's version where Go's was (its
#: commit and build time are left out: there are none to show)
TEMPLATE = """{{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}
 Python version:\t{{.PythonVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Python version:\t{{index .Details "PythonVersion"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
  {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--format", help="format the output using a Go template")


class _Struct:
    """Go struct fields for templates (``.APIVersion``), Docker's JSON keys for ``json``."""

    GO_TYPE = ""
    JSON: tuple[tuple[str, str], ...] = ()  # (JSON key, attribute)

    def __json__(self) -> dict[str, Any]:
        return {key: getattr(self, attr) for key, attr in self.JSON}


class ClientVersion(_Struct):
    GO_TYPE = "command.clientVersion"
    JSON = (
        ("Platform", "Platform"),
        ("Version", "Version"),
        ("ApiVersion", "APIVersion"),
        ("DefaultAPIVersion", "DefaultAPIVersion"),
        ("PythonVersion", "PythonVersion"),
        ("Os", "Os"),
        ("Arch", "Arch"),
        ("Context", "Context"),
    )

    def __init__(self, server: dict[str, Any], python: str) -> None:
        self.Platform = {"Name": "Dockyard"}
        self.Version = server["Version"]
        self.APIVersion = self.DefaultAPIVersion = server["ApiVersion"]
        self.PythonVersion = python
        self.Os, self.Arch = server["Os"], server["Arch"]
        self.Context = "default"


class ServerVersion(_Struct):
    GO_TYPE = "*types.Version"
    JSON = (
        ("Platform", "Platform"),
        ("Components", "Components"),
        ("Version", "Version"),
        ("ApiVersion", "APIVersion"),
        ("MinAPIVersion", "MinAPIVersion"),
        ("GitCommit", "GitCommit"),
        ("GoVersion", "GoVersion"),
        ("Os", "Os"),
        ("Arch", "Arch"),
        ("KernelVersion", "KernelVersion"),
        ("BuildTime", "BuildTime"),
    )

    def __init__(self, doc: dict[str, Any]) -> None:
        self.Platform = doc["Platform"]
        self.Components = doc["Components"]
        self.Version = doc["Version"]
        self.APIVersion = doc["ApiVersion"]
        self.MinAPIVersion = doc["MinAPIVersion"]
        self.GitCommit = doc["GitCommit"]
        self.GoVersion = doc["GoVersion"]
        self.Os, self.Arch = doc["Os"], doc["Arch"]
        self.KernelVersion = doc["KernelVersion"]
        self.BuildTime = doc["BuildTime"]


class VersionInfo:
    """What ``version --format`` sees: Docker's ``.Client`` and ``.Server``. The engine
    runs in the client's process, so the server's facts are the library's."""

    GO_TYPE = "command.versionInfo"

    def __init__(self, client: ClientVersion, server: ServerVersion) -> None:
        self.Client = client
        self.Server = server

    def ServerOK(self) -> bool:
        return True

    def __json__(self) -> dict[str, Any]:
        return {"Client": self.Client, "Server": self.Server}


def run(args: argparse.Namespace, ctx: Context) -> int:
    import platform

    from dockyard.engine.info import server_version

    server = server_version()
    data = VersionInfo(ClientVersion(server, platform.python_version()), ServerVersion(server))
    return _formatted(args.format or TEMPLATE, data)


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

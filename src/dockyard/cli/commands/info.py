"""Display system-wide information."""

from __future__ import annotations

import sys

from dockyard.cli.commands import _args
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS]"
FLAGS = [Flag("format", "f", VALUE, help="Format output using a custom template")]


class Info(dict):  # type: ignore[type-arg]
    """What ``info --format`` sees: the server's keys at the top, as docker/cli's ``info``
    embeds them, and ``.ClientInfo``."""

    GO_TYPE = "info"


def _client(debug: bool) -> dict[str, Any]:
    from dockyard import __version__

    return {"Debug": debug, "Context": "default", "Version": __version__, "Plugins": []}


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.info import system_info

    _args.none("info", p.args)
    info = system_info(ctx.engine(), ctx.debug)
    if p.format:
        from dockyard.cli.formatter.format import execute, parse

        fmt = str(p.format)
        tmpl = parse("{{json .}}" if fmt == "json" else fmt)
        data = Info(info)
        data["ClientInfo"] = _client(ctx.debug)
        sys.stdout.write(execute(tmpl, data) + "\n")
        return 0
    sys.stdout.write(text(info, ctx.debug))
    return 0


def text(info: dict[str, Any], debug: bool) -> str:
    """``docker info`` as Docker prints it, the sections that mean something here."""
    from dockyard.oci.units import bytes_size

    client = _client(debug)
    lines = [
        "Client: Dockyard",
        f" Version:    {client['Version']}",
        " Context:    default",
        f" Debug Mode: {str(debug).lower()}",
        "",
        "Server:",
        f" Containers: {info['Containers']}",
        f"  Running: {info['ContainersRunning']}",
        f"  Paused: {info['ContainersPaused']}",
        f"  Stopped: {info['ContainersStopped']}",
        f" Images: {info['Images']}",
        f" Server Version: {info['ServerVersion']}",
        f" Storage Driver: {info['Driver']}",
        *(f"  {k}: {v}" for k, v in info["DriverStatus"]),
        f" Logging Driver: {info['LoggingDriver']}",
        f" Cgroup Driver: {info['CgroupDriver']}",
        f" Cgroup Version: {info['CgroupVersion']}",
        " Plugins:",
        f"  Volume: {' '.join(info['Plugins']['Volume'])}",
        f"  Network: {' '.join(info['Plugins']['Network'])}",
        f"  Log: {' '.join(info['Plugins']['Log'])}",
        f" Runtimes: {' '.join(info['Runtimes'])}",
        f" Default Runtime: {info['DefaultRuntime']}",
        *([f" Init Binary: {info['InitBinary']}"] if info["InitBinary"] else []),
        " Security Options:",
    ]
    for option in info["SecurityOptions"]:
        fields = dict(kv.partition("=")[::2] for kv in option.split(","))
        lines.append(f"  {fields.get('name', option)}")
        for key, value in fields.items():
            if key != "name":
                lines.append(f"   {key.capitalize()}: {value}")
    lines += [
        f" Kernel Version: {info['KernelVersion']}",
        f" Operating System: {info['OperatingSystem']}",
        f" OSType: {info['OSType']}",
        f" Architecture: {info['Architecture']}",
        f" CPUs: {info['NCPU']}",
        f" Total Memory: {bytes_size(info['MemTotal'])}",
        f" Name: {info['Name']}",
        f" Docker Root Dir: {info['DockerRootDir']}",
        f" Debug Mode: {str(info['Debug']).lower()}",
    ]
    for key, label in (("HttpProxy", "HTTP Proxy"), ("HttpsProxy", "HTTPS Proxy")):
        if info[key]:
            lines.append(f" {label}: {info[key]}")
    if info["NoProxy"]:
        lines.append(f" No Proxy: {info['NoProxy']}")
    lines.append(f" Experimental: {str(info['ExperimentalBuild']).lower()}")
    lines.append(" Insecure Registries:")
    lines += [
        f"  {r}"
        for r in [*info["InsecureRegistries"], *info["RegistryConfig"]["InsecureRegistryCIDRs"]]
    ]
    lines.append(f" Live Restore Enabled: {str(info['LiveRestoreEnabled']).lower()}")
    return "\n".join(lines) + "\n\n"

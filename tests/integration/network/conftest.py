"""Fixtures of the network tests: the engine's CLI fixtures, an image with a UDP tool and a web
page, and a second "host" (a network namespace joined to this one by a veth pair)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.engine.conftest import (  # noqa: F401  (fixtures used by the tests)
    _busybox_layer,
    cgroup_parent,
    dockyard,
    engine_images,
    remove_cgroup_parent,
    runtime,
    token,
)
from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_entries,
    write_layout,
)
from tests.support import netleaks
from tests.support.registry import Registry

HERE = Path(__file__).resolve().parent
PAGE = b"hello from the container\n"

pytestmark = [pytest.mark.integration]


def _build_tool(source: str, out: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip(f"needs gcc (apt-get install gcc libc6-dev) for {source}")
    done = subprocess.run(
        [cc, "-static", "-O2", "-o", str(out), str(HERE / source)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"needs a static C toolchain: {done.stderr.strip()[:200]}")
    return out


@pytest.fixture(scope="session")
def net_image(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    """busybox, /bin/udp (udp.c), /bin/dnsq (dnsq.c), /www/index.html; EXPOSE 80/tcp 7001/udp."""
    work = tmp_path_factory.mktemp("net-image")
    udp = _build_tool("udp.c", work / "udp")
    dnsq = _build_tool("dnsq.c", work / "dnsq")
    tool, tool_data = file_entry("bin/udp", udp.read_bytes(), 0o755)
    query, query_data = file_entry("bin/dnsq", dnsq.read_bytes(), 0o755)
    page, page_data = file_entry("www/index.html", PAGE)
    extra = make_layer(
        tar_entries([(tool, tool_data), (query, query_data), dir_entry("www"), (page, page_data)])
    )
    image = Image(
        [_busybox_layer(work), extra],  # type: ignore[list-item]
        cmd=["sh"],
        extra={"ExposedPorts": {"80/tcp": {}, "7001/udp": {}}},
    )
    layout = write_layout(work / "layout", {"docker.io/library/net:net": [image]})
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            f"oci:{layout}:net",
            f"docker://{registry.host}/net:latest",
        ],
        check=True,
        capture_output=True,
    )
    return f"{registry.host}/net"


@dataclass
class SecondHost:
    """Another machine, as far as the host can tell: a namespace behind a veth pair."""

    netns: str
    address: str  # its own, inside the namespace
    host_address: str  # the host's end of the link

    def run(self, *argv: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, *argv],
            capture_output=True,
            text=True,
            timeout=30,
            check=check,
        )

    def popen(self, *argv: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.netns, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@pytest.fixture
def second_host(session_marker: str) -> Iterator[SecondHost]:
    tag = secrets.token_hex(2)
    netns = f"{netleaks.NETNS_PREFIX}{session_marker[:4]}{tag}"  # the leak check knows it
    outer = (
        f"{netleaks.BRIDGE_PREFIX}{session_marker[:4]}h{tag}"  # the session's leak check knows it
    )
    inner = f"dyth{tag}"
    subnet = netleaks.free_subnet(30)
    base = subnet.rsplit(".", 1)[0] + "." + str(int(subnet.rsplit(".", 1)[1].split("/")[0]))
    prefix = base.rsplit(".", 1)[0]
    last = int(base.rsplit(".", 1)[1])
    host_address, address = f"{prefix}.{last + 1}", f"{prefix}.{last + 2}"

    def ip(*argv: str) -> None:
        subprocess.run(["ip", *argv], check=True, capture_output=True)

    ip("netns", "add", netns)
    try:
        ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", netns)
        ip("addr", "add", f"{host_address}/30", "dev", outer)
        ip("link", "set", outer, "up")
        ip("-n", netns, "addr", "add", f"{address}/30", "dev", inner)
        ip("-n", netns, "link", "set", inner, "up")
        ip("-n", netns, "link", "set", "lo", "up")
        ip("-n", netns, "route", "add", "default", "via", host_address)
        yield SecondHost(netns, address, host_address)
    finally:
        subprocess.run(["ip", "link", "del", outer], capture_output=True)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)

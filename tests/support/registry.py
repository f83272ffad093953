"""A real registry for the tests: Debian's ``docker-registry`` (the Distribution server).

Each server gets its own storage directory and a config.yml written here:
anonymous, basic auth (htpasswd, bcrypt) or Bearer tokens from a token
server the caller runs (the image tests' TokenServer). Used by the image
and the engine tests; their conftests hold the fixtures.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a socket listening on 127.0.0.1:``port``."""
    wanted = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and address == f"0100007F:{port:04X}":  # LISTEN
            wanted.add(f"socket:[{inode}]")
    try:
        return any(os.readlink(fd) in wanted for fd in Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # gone
        return False


@dataclass
class Registry:
    host: str
    dir: Path
    process: subprocess.Popen[bytes]
    username: str = ""
    password: str = ""
    token: Any = None  # the image tests' TokenServer, when the registry wants tokens
    extra: dict[str, object] = field(default_factory=dict)

    def blob_file(self, digest: str) -> Path:
        hexpart = digest.split(":")[1]
        return (
            self.dir / "data" / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_registry(
    workdir: Path,
    auth: str = "",
    username: str = "",
    password: str = "",
    token: Any = None,
    http_extra: str = "",
) -> Registry:
    """``http_extra``: more of the config's ``http:`` section (``  tls: ...``, indented).

    The port is picked free, then bound by the registry a moment later: when
    another process took it in between, the server that answers there is not
    ours. So the listening socket must be our registry's, or it starts again
    on another port.
    """
    workdir.mkdir(parents=True)
    for _ in range(4):
        registry = _start_registry(workdir, auth, username, password, token, http_extra)
        if registry is not None:
            return registry
    raise RuntimeError(f"docker-registry did not start:\n{(workdir / 'registry.log').read_text()}")


def _start_registry(
    workdir: Path, auth: str, username: str, password: str, token: Any, http_extra: str
) -> Registry | None:
    port = free_port()
    auth_config = ""
    if auth == "htpasswd":
        hashed = subprocess.run(
            ["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True
        ).stdout.strip()
        (workdir / "htpasswd").write_text(hashed + "\n")
        auth_config = (
            f"auth:\n  htpasswd:\n    realm: test-realm\n    path: {workdir / 'htpasswd'}\n"
        )
    elif auth == "token":
        assert token is not None
        auth_config = (
            f"auth:\n  token:\n    realm: {token.realm}\n    service: {token.service}\n"
            f"    issuer: {token.issuer}\n    rootcertbundle: {token.cert}\n"
        )
    (workdir / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + http_extra + auth_config
    )
    log = open(workdir / "registry.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [REGISTRY_BIN, "serve", str(workdir / "config.yml")], stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    registry = Registry(f"127.0.0.1:{port}", workdir, process, username, password, token)
    deadline = time.monotonic() + 20
    while not listens_on(process.pid, port):
        if process.poll() is not None or time.monotonic() > deadline:
            registry.stop()
            return None
        time.sleep(0.05)
    while True:  # listening: wait until it serves too
        try:
            urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=1).close()
            return registry
        except urllib.error.HTTPError:
            return registry  # 401: up, and asking for credentials
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                registry.stop()
                return None
            time.sleep(0.05)


def need_registry() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (the store keeps ownership and device nodes)")
    if not Path(REGISTRY_BIN).exists():
        pytest.skip("needs docker-registry (apt-get install docker-registry)")

"""Fixtures for the image tests: real registries on 127.0.0.1, a token server, test images.

Registries are Debian's ``docker-registry`` (the Distribution server), each
with its own storage dir and a config.yml written here: anonymous, basic
auth (htpasswd, bcrypt) or Bearer tokens from `TokenServer`, a small token
server that signs JWTs with an RSA key through the ``openssl`` CLI. Every
server is stopped and every dir removed at teardown, also on failure.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_directory,
    tar_entries,
    write_layout,
)
from tests.support import leaks
from tests.support.registry import (
    Registry,
    start_registry,
)
from tests.support.registry import need_registry as _need_registry
from tests.support.rootfs import build_rootfs

REPO = Path(__file__).resolve().parents[3]
DOCKYARD = REPO / ".venv" / "bin" / "dockyard"

pytestmark = pytest.mark.integration


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---------------------------------------------------------------- token server


class TokenServer:
    """Issues Distribution JWTs: anonymous pull of everything, push only for a user."""

    def __init__(self, workdir: Path, username: str, password: str) -> None:
        self.dir = workdir
        self.username = username
        self.password = password
        self.key = workdir / "token.key"
        self.cert = workdir / "token.crt"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
                "-days",
                "2",
                "-subj",
                "/CN=token-test",
            ],
            check=True,
            capture_output=True,
        )
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-pubkey", "-noout"],
            check=True,
            capture_output=True,
        ).stdout
        spki = subprocess.run(
            ["openssl", "pkey", "-pubin", "-outform", "DER"],
            input=der,
            check=True,
            capture_output=True,
        ).stdout
        # libtrust's key ID: base32 of sha256(SPKI)[:30], in groups of four
        digest = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode().rstrip("=")
        self.kid = ":".join(digest[i : i + 4] for i in range(0, 48, 4))
        self.issuer = "dockyard-test-issuer"
        self.service = "dockyard-test-registry"
        self.requests: list[dict[str, object]] = []
        self.refresh_tokens: dict[str, str] = {}  # OAuth2 refresh token -> user
        # port 0: the kernel's pick, bound at once (no window for another to take it)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def sign(self, claims: dict[str, object]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (
            f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing_input}.{b64url(signature)}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _refuse(self) -> None:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                """Docker's token flow; ``offline_token=true`` adds a refresh token."""
                from urllib.parse import parse_qs, urlsplit

                query = parse_qs(urlsplit(self.path).query)
                user = ""
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if (user, password) != (server.username, server.password):
                        return self._refuse()
                offline = query.get("offline_token") == ["true"] and bool(user)
                self._grant("GET", "", user, query.get("scope", []), offline)

            def do_POST(self) -> None:
                """OAuth2 (Docker's spec): grant_type refresh_token or password, a form."""
                from urllib.parse import parse_qs

                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                grant = form.get("grant_type", "")
                if grant == "refresh_token":
                    user = server.refresh_tokens.get(form.get("refresh_token", ""), "")
                elif grant == "password":
                    pair = (form.get("username"), form.get("password"))
                    user = server.username if pair == (server.username, server.password) else ""
                else:
                    user = ""
                if not user or form.get("client_id") is None:
                    return self._refuse()
                scopes = form.get("scope", "").split()
                self._grant("POST", grant, user, scopes, form.get("access_type") == "offline")

            def _grant(
                self, method: str, grant: str, user: str, scopes: list[str], offline: bool
            ) -> None:
                access = []
                for scope in scopes:
                    kind, name, actions = scope.split(":")
                    granted = [a for a in actions.split(",") if a == "pull" or user]
                    access.append({"type": kind, "name": name, "actions": granted})
                server.requests.append(
                    {"user": user, "scopes": scopes, "method": method, "grant": grant}
                )
                now = int(time.time())
                token = server.sign(
                    {
                        "iss": server.issuer,
                        "sub": user,
                        "aud": server.service,
                        "exp": now + 300,
                        "nbf": now - 10,
                        "iat": now,
                        "jti": os.urandom(8).hex(),
                        "access": access,
                    }
                )
                answer: dict[str, object] = {"expires_in": 300}
                answer["access_token" if method == "POST" else "token"] = token
                if offline or grant == "refresh_token":
                    refresh = "rt-" + os.urandom(8).hex()
                    server.refresh_tokens[refresh] = user
                    answer["refresh_token"] = refresh
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---------------------------------------------------------------- registry


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    _need_registry()
    if not shutil.which("htpasswd"):
        pytest.skip("needs htpasswd (apt-get install apache2-utils)")
    server = start_registry(
        tmp_path_factory.mktemp("registry") / "basic", "htpasswd", "alice", "wonderland"
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    _need_registry()
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to sign tokens")
    workdir = tmp_path_factory.mktemp("token")
    token = TokenServer(workdir, "bob", "builder")
    try:
        server = start_registry(workdir / "registry", "token", "bob", "builder", token)
    except BaseException:
        token.stop()
        raise
    yield server
    server.stop()
    token.stop()


# ---------------------------------------------------------------- images


@dataclass
class SampleImages:
    layout: Path  # an OCI layout holding every test image
    single: Image  # busybox, one layer
    multi: Image  # busybox plus two more layers (a whiteout, an opaque dir, a hardlink)
    amd64: Image
    arm64: Image
    busybox_sha256: str

    SINGLE = "docker.io/library/bb-single:latest"
    MULTI = "docker.io/library/bb-multi:latest"
    PLATFORMS = "docker.io/library/bb-platforms:latest"


@pytest.fixture(scope="session")
def test_images(tmp_path_factory: pytest.TempPathFactory) -> SampleImages:
    work = tmp_path_factory.mktemp("images")
    rootfs = build_rootfs(work / "rootfs")
    base = make_layer(tar_directory(rootfs))
    hard = file_entry("opt/data/one", b"shared content\n")
    link = dir_entry("opt/data")
    second = make_layer(
        tar_entries(
            [
                dir_entry("opt"),
                link,
                hard,
                _hardlink("opt/data/two", "opt/data/one"),
                dir_entry("etc"),
                file_entry("etc/motd", b"layer two\n"),
                file_entry("etc/secret", b"to be removed\n"),
                dir_entry("var"),
                dir_entry("var/cache"),
                file_entry("var/cache/old", b"old\n"),
            ]
        )
    )
    third = make_layer(
        tar_entries(
            [
                dir_entry("etc"),
                file_entry("etc/.wh.secret"),
                dir_entry("var"),
                dir_entry("var/cache"),
                file_entry("var/cache/.wh..wh..opq"),
                file_entry("var/cache/new", b"new\n"),
                file_entry("etc/motd", b"layer three\n", 0o600),
            ]
        )
    )
    single = Image([base])
    multi = Image(
        [base, second, third], cmd=["/bin/sh", "-c", "cat /etc/motd"], labels={"layers": "three"}
    )
    amd64 = Image([base], labels={"arch": "amd64"})
    arm64 = Image([base], architecture="arm64", variant="v8", labels={"arch": "arm64"})
    layout = write_layout(
        work / "layout",
        {
            SampleImages.SINGLE: [single],
            SampleImages.MULTI: [multi],
            SampleImages.PLATFORMS: [amd64, arm64],
        },
    )
    busybox = hashlib.sha256(Path("/bin/busybox").read_bytes()).hexdigest()
    return SampleImages(layout, single, multi, amd64, arm64, busybox)


def _hardlink(name: str, target: str) -> object:
    import tarfile

    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE
    info.linkname = target
    info.mtime = 1_700_000_000
    return info


# ---------------------------------------------------------------- the CLI


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def one_line_error(stderr: str) -> str:
    """The error a failed command printed, which must be one ``Error:`` line."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


class Dockyard:
    """Runs the ``dockyard`` CLI with a store and a client config of its own."""

    def __init__(self, root: Path, config: Path) -> None:
        self.root = root
        self.config = config
        self.env = {
            **os.environ,
            "DOCKYARD_ROOT": str(root),
            "DOCKYARD_CONFIG": str(config / "dockyard"),
            "DOCKER_CONFIG": str(config / "docker"),
        }

    def run(
        self, *args: str, input: bytes | None = None, check: bool = True, timeout: float = 120
    ) -> Result:
        proc = subprocess.run(
            [str(DOCKYARD), *args], env=self.env, input=input, capture_output=True, timeout=timeout
        )
        result = Result(
            proc.returncode,
            proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"),
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"dockyard {' '.join(args)} exited {proc.returncode}:\n{result.stderr}"
                f"\n{result.stdout}"
            )
        return result

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(DOCKYARD), *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@pytest.fixture
def dockyard(tmp_path: Path) -> Iterator[Dockyard]:
    """A store of the test's own; afterwards, also when the test failed, no mount is left
    under it (an overlay snapshot, say): detached at once, and a failure of the test."""
    if os.geteuid() != 0:
        pytest.skip("needs root (the store keeps ownership and device nodes)")
    yield Dockyard(tmp_path / "store", tmp_path / "config")
    left = leaks.mounts_under(tmp_path)
    if left:
        leaks.unmount(left)
        pytest.fail("the store's mounts were left behind:\n" + "\n".join(left))


@pytest.fixture
def loaded(dockyard: Dockyard, test_images: SampleImages) -> Dockyard:
    """A store with every test image loaded from the layout."""
    dockyard.run("load", "-i", str(test_images.layout))
    return dockyard

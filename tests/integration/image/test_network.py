"""Networks as users have them: proxies from the environment, certs.d CAs and client certs.

The TLS registry is Debian's docker-registry with a certificate from a CA
made here (pki.py), demanding a client certificate from the same CA. The
proxy is a real forward proxy on 127.0.0.1 that counts what it carries
(fakes.py). To reach a registry *by name* without a DNS query leaving the
machine, the tests use a name /etc/hosts gives to 127.0.0.1 (not
``localhost``, which no proxy ever gets); they skip, saying so, if there is
none. The certs.d root is a temp dir (``DOCKYARD_CERTS_DIR``): nothing is
written to /etc/docker.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.image.builder import file_entry, tar_entries
from tests.integration.image.conftest import Dockyard, Registry, one_line_error, start_registry
from tests.integration.image.fakes import counting_proxy
from tests.integration.image.pki import Pki, make_pki

pytestmark = pytest.mark.integration


def loopback_alias() -> str | None:
    """A name /etc/hosts maps to 127.0.0.1 only, other than localhost."""
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or fields[0] != "127.0.0.1":
            continue
        for name in fields[1:]:
            if name == "localhost" or name.startswith("localhost."):
                continue
            addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
            if addresses == {"127.0.0.1"}:
                return name
    return None


ALIAS = loopback_alias()
needs_alias = pytest.mark.skipif(
    ALIAS is None, reason="needs a name other than localhost for 127.0.0.1 in /etc/hosts"
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make certificates")
    return make_pki(tmp_path_factory.mktemp("pki") / "good", [ALIAS or "localhost"])


@pytest.fixture(scope="module")
def tls_registry(
    registry: Registry, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    tls = (
        f"  tls:\n    certificate: {pki.server_cert}\n    key: {pki.server_key}\n"
        f"    clientcas:\n      - {pki.ca_cert}\n"
    )
    server = start_registry(tmp_path_factory.mktemp("tls") / "registry", http_extra=tls)
    yield server
    server.stop()


def certs_d(
    root: Path, host: str, pki: Pki, files: tuple[str, ...] = ("ca", "cert", "key")
) -> None:
    """Docker's layout: ``<root>/<host>/ca.crt``, ``client.cert``, ``client.key``."""
    directory = root / host
    directory.mkdir(parents=True, exist_ok=True)
    sources = {"ca": (pki.ca_cert, "ca.crt"), "cert": (pki.client_cert, "client.cert")}
    sources["key"] = (pki.client_key, "client.key")
    for kind in files:
        source, name = sources[kind]
        shutil.copy(source, directory / name)


def test_certs_d_gives_the_ca_and_the_client_certificate(
    loaded: Dockyard, tls_registry: Registry, pki: Pki, tmp_path: Path
) -> None:
    root = tmp_path / "certs.d"
    root.mkdir()
    loaded.env["DOCKYARD_CERTS_DIR"] = str(root)
    name = f"{tls_registry.host}/secure/img:1"
    loaded.run("tag", "bb-single", name)

    without = loaded.run("push", name, check=False)
    certs_d(root, tls_registry.host, pki)
    loaded.run("push", name)
    loaded.run("rmi", name)
    loaded.run("pull", name)

    assert without.returncode == 1
    line = one_line_error(without.stderr)
    assert f"{root}/{tls_registry.host}/client.cert and client.key" in line  # not plain HTTP
    assert name in loaded.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout


def test_certs_d_with_another_ca_or_half_a_client_pair_is_refused_in_one_line(
    loaded: Dockyard, tls_registry: Registry, pki: Pki, tmp_path: Path
) -> None:
    other = make_pki(tmp_path / "other", ["localhost"], "other")
    name = f"{tls_registry.host}/secure/refused:1"
    loaded.run("tag", "bb-single", name)
    wrong_ca, half_pair = tmp_path / "wrong-ca", tmp_path / "half-pair"
    certs_d(wrong_ca, tls_registry.host, other, ("ca",))
    certs_d(wrong_ca, tls_registry.host, pki, ("cert", "key"))
    certs_d(half_pair, tls_registry.host, pki, ("ca", "cert"))

    loaded.env["DOCKYARD_CERTS_DIR"] = str(wrong_ca)
    unverified = loaded.run("push", name, check=False)
    loaded.env["DOCKYARD_CERTS_DIR"] = str(half_pair)
    halved = loaded.run("push", name, check=False)

    line = one_line_error(unverified.stderr)
    assert "CERTIFICATE_VERIFY_FAILED" in line and f"{tls_registry.host}/ca.crt" in line
    assert "client.cert has no matching client.key" in one_line_error(halved.stderr)


@needs_alias
def test_https_goes_through_the_proxy_in_a_connect_tunnel(
    loaded: Dockyard, tls_registry: Registry, pki: Pki, tmp_path: Path
) -> None:
    port = tls_registry.host.rsplit(":", 1)[1]
    host = f"{ALIAS}:{port}"
    root = tmp_path / "certs.d"
    certs_d(root, host, pki)
    loaded.env["DOCKYARD_CERTS_DIR"] = str(root)
    name = f"{host}/tunnelled/img:1"
    loaded.run("tag", "bb-single", name)

    with counting_proxy() as proxy:
        loaded.env["HTTPS_PROXY"] = proxy.url
        loaded.run("push", name)
        loaded.run("rmi", name)
        loaded.run("pull", name)

    assert proxy.tunnels and set(proxy.tunnels) == {host}
    assert proxy.forwarded == []


@needs_alias
def test_proxies_as_docker_reads_them_from_the_environment(
    loaded: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    port = registry.host.rsplit(":", 1)[1]
    direct = f"{registry.host}/proxied/img:1"
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(tar_entries([file_entry("random", os.urandom(100_000))]))
    loaded.run("import", str(rootfs), direct)
    loaded.run("push", direct)
    loaded.run("rmi", direct)  # its layer too: the pull must fetch every blob
    by_alias, by_localhost = f"{ALIAS}:{port}/proxied/img:1", f"localhost:{port}/proxied/img:1"

    with counting_proxy() as proxy:
        user_url = proxy.url.replace("http://", "http://builder:s%40cret@")
        loaded.env["HTTP_PROXY"] = loaded.env["HTTPS_PROXY"] = user_url
        loaded.run("pull", by_alias)  # a name: through the proxy
        through = list(proxy.forwarded)
        loaded.run("pull", direct)  # loopback addresses and localhost: never
        loaded.run("pull", by_localhost)
        loaded.env["NO_PROXY"] = f"example.com,{ALIAS}"
        loaded.run("rmi", by_alias)
        loaded.run("pull", by_alias)  # named in NO_PROXY: direct

    assert through and proxy.forwarded == through
    assert all(
        line.split()[1].startswith(f"http://{by_alias.split('/')[0]}/v2/") for line in through
    )
    assert any("/manifests/" in line for line in through)
    assert any("/blobs/sha256:" in line for line in through)
    expected = "Basic " + base64.b64encode(b"builder:s@cret").decode()
    assert set(proxy.authorizations) == {expected}
    assert proxy.refused == []

"""Certificates for TLS tests, made with the openssl CLI in a temp dir.

`make_pki` makes a CA, a server certificate it signs (for the given DNS names
and 127.0.0.1), and a client certificate it signs, each key beside its cert.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Pki:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _signed(directory: Path, ca: tuple[Path, Path], name: str, subject: str, ext: str) -> None:
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
        "-out", f"{name}.csr", "-subj", subject, cwd=directory,
    )  # fmt: skip
    (directory / f"{name}.ext").write_text(ext)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext",
        cwd=directory,
    )  # fmt: skip


def make_pki(directory: Path, dns_names: list[str], label: str = "test") -> Pki:
    directory.mkdir(parents=True)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", f"/CN=dockyard {label} CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
        cwd=directory,
    )  # fmt: skip
    ca = (directory / "ca.crt", directory / "ca.key")
    alt = ",".join([*(f"DNS:{name}" for name in dns_names), "IP:127.0.0.1"])
    _signed(
        directory, ca, "server", "/CN=registry",
        f"subjectAltName={alt}\nextendedKeyUsage=serverAuth\n",
    )  # fmt: skip
    _signed(directory, ca, "client", "/CN=dockyard-client", "extendedKeyUsage=clientAuth\n")
    return Pki(
        ca[0], ca[1], directory / "server.crt", directory / "server.key",
        directory / "client.crt", directory / "client.key",
    )  # fmt: skip

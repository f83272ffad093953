"""TLS for registries: the system's roots plus Docker's ``certs.d`` per host.

Docker reads ``/etc/docker/certs.d/<host>[:<port>]/``: every ``*.crt`` is a
CA trusted for that registry (beside the system's), and every ``*.cert``
with its ``*.key`` of the same name is a client certificate offered to it.
We read the same files (the directory is `ClientOptions.certs_dir`):

- a registry with a certs.d directory is verified against it, even on a
  loopback address (which is otherwise insecure by default): whoever put a
  CA there wants it checked;
- a registry the user marked insecure skips verification, but is still
  offered its client certificate, which such a registry may demand.

Python takes one certificate chain per context: with several pairs, the
first by name is offered.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

from dockyard.errors import InvalidArgument


def host_dir(certs_dir: Path, host: str) -> Path:
    """Where certs.d keeps ``host``'s files (an IPv6 host keeps its brackets, as Docker's)."""
    return certs_dir / host.replace("/", "_")


def has_certs(certs_dir: Path, host: str) -> bool:
    try:
        return host_dir(certs_dir, host).is_dir()
    except OSError:
        return False


def _files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.is_file())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InvalidArgument(f"cannot read {directory}: {exc}") from exc


def make_context(certs_dir: Path, host: str, verify: bool) -> ssl.SSLContext:
    directory = host_dir(certs_dir, host)
    files = _files(directory)
    if verify:
        context = ssl.create_default_context()
    else:
        # Nothing is verified: skip loading the system's CA bundle (~50 ms).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    for path in files:
        try:
            if path.suffix == ".crt" and verify:
                context.load_verify_locations(cafile=str(path))
        except (ssl.SSLError, OSError) as exc:
            raise InvalidArgument(f"{path}: not a CA certificate in PEM: {exc}") from exc
    pairs = [p for p in files if p.suffix in (".cert", ".key")]
    for path in pairs:  # Docker refuses a half pair; so do we
        partner = path.with_suffix(".key" if path.suffix == ".cert" else ".cert")
        if partner not in pairs:
            raise InvalidArgument(f"{path} has no matching {partner.name} in {directory}")
    certs = [p for p in pairs if p.suffix == ".cert"]
    if certs:
        try:
            context.load_cert_chain(str(certs[0]), str(certs[0].with_suffix(".key")))
        except (ssl.SSLError, OSError) as exc:
            raise InvalidArgument(
                f"{certs[0]}: cannot use it as a client certificate: {exc}"
            ) from exc
    return context


class Contexts:
    """One context per (host, verify), made once: loading the system's roots takes ~50 ms."""

    def __init__(self, certs_dir: Path) -> None:
        self.certs_dir = certs_dir
        self._made: dict[tuple[str, bool], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def get(self, host: str, verify: bool) -> ssl.SSLContext:
        with self._lock:
            context = self._made.get((host, verify))
            if context is None:
                context = self._made[(host, verify)] = make_context(self.certs_dir, host, verify)
            return context

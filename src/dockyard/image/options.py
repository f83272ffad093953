"""How the registry client behaves on a bad network: deadlines, retries, where certificates are.

Defaults suit a real registry over a real network; each can be changed
through the environment (the CLI has no daemon to configure, so this is
where a user or a test sets them):

==================================  ========  ===========================================
variable                            default   meaning
==================================  ========  ===========================================
``DOCKYARD_REGISTRY_STALL_TIMEOUT``  60        seconds: connecting, waiting for an answer,
                                              or a body moving slower than the minimum
                                              rate, for this long, ends the transfer
``DOCKYARD_REGISTRY_MIN_RATE``       1024      bytes per second a body must average over
                                              each stall window (0: only silence counts)
``DOCKYARD_REGISTRY_RETRIES``        4         retries of a request answered 429 or 5xx
``DOCKYARD_REGISTRY_MAX_WAIT``       60        the longest ``Retry-After`` honoured (s);
                                              a registry asking for more fails at once
``DOCKYARD_CERTS_DIR``               /etc/docker/certs.d   per-host CA and client certs
==================================  ========  ===========================================

These are curl's ``--speed-limit``/``--speed-time`` pair and Docker's
certs.d; the proxies come from the usual ``HTTP_PROXY`` variables (proxy.py).
The library's own default, ``ClientOptions()``, reads no environment: the
CLI calls `ClientOptions.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.errors import InvalidArgument

from .proxy import ProxySettings

DEFAULT_CERTS_DIR = Path("/etc/docker/certs.d")


@dataclass(frozen=True)
class ClientOptions:
    stall_timeout: float = 60.0
    min_rate: int = 1024
    retries: int = 4
    #: first wait between retries when the registry gives no Retry-After; doubles each time
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_wait: float = 60.0
    #: how many times a failed blob upload is started again from its first byte
    upload_retries: int = 2
    certs_dir: Path = DEFAULT_CERTS_DIR
    proxies: ProxySettings = field(default_factory=ProxySettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientOptions:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            stall_timeout=_number(
                env, "DOCKYARD_REGISTRY_STALL_TIMEOUT", defaults.stall_timeout, 0.1
            ),
            min_rate=int(_number(env, "DOCKYARD_REGISTRY_MIN_RATE", defaults.min_rate, 0)),
            retries=int(_number(env, "DOCKYARD_REGISTRY_RETRIES", defaults.retries, 0)),
            max_wait=_number(env, "DOCKYARD_REGISTRY_MAX_WAIT", defaults.max_wait, 0),
            certs_dir=Path(env.get("DOCKYARD_CERTS_DIR") or defaults.certs_dir),
            proxies=ProxySettings.from_env(env),
        )


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= minimum or value == float("inf"):
        raise InvalidArgument(f"{name}={text!r}: expected a number of at least {minimum:g}")
    return value

"""Registry authentication: challenges, tokens and stored credentials.

A registry answers 401 with ``WWW-Authenticate: Bearer realm=...,service=...,
scope=...`` (a token server to ask) or ``Basic realm=...`` (send the user and
password on every request). Credentials are kept the way Docker keeps them:
``{"auths": {"<registry>": {"auth": base64("user:password")}}}`` in a
config.json. We write our own (``$DOCKYARD_CONFIG/config.json`` or
``~/.dockyard/config.json``) and also read Docker's (``$DOCKER_CONFIG`` or
``~/.docker/config.json``).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.oci import jsonio

from .reference import DEFAULT_DOMAIN, DOCKER_HUB_API, DOCKER_HUB_AUTH_KEY, LEGACY_DOMAIN


@dataclass
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a WWW-Authenticate header (RFC 7235), params lower-cased by name."""
    challenges: list[Challenge] = []
    i, n = 0, len(header)
    current: Challenge | None = None
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        if i >= n:
            break
        start = i
        while i < n and header[i] not in " \t,=":
            i += 1
        token = header[start:i]
        j = i
        while j < n and header[j] in " \t":
            j += 1
        if j < n and header[j] == "=" and current is not None:
            i = j + 1
            while i < n and header[i] in " \t":
                i += 1
            if i < n and header[i] == '"':
                i += 1
                value = []
                while i < n and header[i] != '"':
                    if header[i] == "\\" and i + 1 < n:
                        i += 1
                    value.append(header[i])
                    i += 1
                i += 1  # the closing quote
                current.params[token.lower()] = "".join(value)
            else:
                start = i
                while i < n and header[i] not in ",":
                    i += 1
                current.params[token.lower()] = header[start:i].strip()
        else:
            current = Challenge(token.lower())
            challenges.append(current)
            i = j
    return challenges


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def _home() -> Path:
    return Path(os.environ.get("HOME") or os.path.expanduser("~"))


def dockyard_config_path() -> Path:
    base = os.environ.get("DOCKYARD_CONFIG")
    return Path(base) / "config.json" if base else _home() / ".dockyard" / "config.json"


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else _home() / ".docker" / "config.json"


def auth_key(registry: str) -> str:
    """The key a registry's credentials are stored under (Docker Hub keeps its legacy URL)."""
    if registry in (DEFAULT_DOMAIN, LEGACY_DOMAIN, DOCKER_HUB_API):
        return DOCKER_HUB_AUTH_KEY
    return registry


def _bare_host(key: str) -> str:
    """``https://host:5000/v1/`` → ``host:5000``, as Docker matches config keys."""
    for scheme in ("https://", "http://"):
        key = key.removeprefix(scheme)
    return key.split("/", 1)[0]


def _read(path: Path) -> dict[str, Any]:
    try:
        value = jsonio.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, jsonio.JSONError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read credentials from {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidArgument(f"{path}: expected a JSON object")
    return value


def _decode_entry(entry: Any, where: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    raw_token = entry.get("identitytoken")
    token = raw_token if isinstance(raw_token, str) else ""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, _, password = base64.b64decode(auth).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidArgument(f"{where}: the stored auth is not base64 user:password") from exc
        return Credentials(user, password, token)
    plain_user, plain_password = entry.get("username"), entry.get("password")
    if isinstance(plain_user, str) and isinstance(plain_password, str):
        return Credentials(plain_user, plain_password)
    return None


class CredentialStore:
    """Reads our config.json then Docker's; writes only ours."""

    def __init__(self, path: Path | None = None, fallbacks: list[Path] | None = None) -> None:
        self.path = path or dockyard_config_path()
        self.fallbacks = [docker_config_path()] if fallbacks is None else fallbacks

    def get(self, registry: str) -> Credentials | None:
        wanted = _bare_host(auth_key(registry))
        for path in [self.path, *self.fallbacks]:
            config = _read(path)
            auths = config.get("auths")
            if not isinstance(auths, dict):
                auths = {}
            for key, entry in auths.items():
                if _bare_host(key) == wanted:
                    creds = _decode_entry(entry, f"{path}: auths[{key!r}]")
                    if creds is not None:
                        return creds
            helpers = config.get("credHelpers")
            if isinstance(helpers, dict) and wanted in helpers:
                raise Unsupported(
                    f"{path} names a credential helper for {registry}; "
                    "helpers are not supported yet: use dockyard login"
                )
        return None

    def store(self, registry: str, creds: Credentials) -> None:
        config = _read(self.path)
        auths = config.get("auths")
        if not isinstance(auths, dict):
            auths = config["auths"] = {}
        raw = f"{creds.username}:{creds.password}".encode()
        auths[auth_key(registry)] = {"auth": base64.b64encode(raw).decode()}
        self._write(config)

    def erase(self, registry: str) -> bool:
        config = _read(self.path)
        auths = config.get("auths")
        if not isinstance(auths, dict):
            return False
        wanted = _bare_host(auth_key(registry))
        keys = [key for key in auths if _bare_host(key) == wanted]
        for key in keys:
            del auths[key]
        if keys:
            self._write(config)
        return bool(keys)

    def _write(self, config: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(jsonio.dumps(config, indent=1) + "\n")
        os.replace(tmp, self.path)

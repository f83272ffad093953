"""Where registry credentials are kept: config.json files and Docker's credential helpers.

The format is Docker's: ``{"auths": {"<registry>": {"auth": base64("user:
password"), "identitytoken": "..."}}, "credsStore": "<helper>",
"credHelpers": {"<registry>": "<helper>"}}``. We keep our own file
(``$DOCKYARD_CONFIG/config.json`` or ``~/.dockyard/config.json``) and also
read Docker's (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``),
ours first.

Within one file the rule is Docker's: a registry in ``credHelpers`` is
asked of that helper, any other of the ``credsStore`` helper if there is
one, and only without a helper is ``auths`` read. A helper that has nothing
for the registry means anonymous access (the next file is still read).

``login`` stores through the helper our file names for the registry, else
the one Docker's names (secrets the user keeps in a keychain stay there),
and then leaves only an empty ``auths`` entry in our file, as Docker does;
without a helper the secret goes into our file. ``logout`` erases both.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio

from .auth import Credentials
from .credhelpers import Helper
from .reference import DEFAULT_DOMAIN, DOCKER_HUB_API, DOCKER_HUB_AUTH_KEY, LEGACY_DOMAIN


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
        return Credentials(plain_user, plain_password, token)
    return Credentials(identity_token=token) if token else None


def _helper(config: dict[str, Any], path: Path, wanted: str) -> Helper | None:
    """The helper ``config`` names for the registry ``wanted`` (a bare host), if any."""
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if _bare_host(key) == wanted and isinstance(name, str) and name:
                return Helper(name, str(path))
    store = config.get("credsStore")
    return Helper(store, str(path)) if isinstance(store, str) and store else None


class CredentialStore:
    """Reads our config.json then Docker's; writes ours (and the helper they name)."""

    def __init__(self, path: Path | None = None, fallbacks: list[Path] | None = None) -> None:
        self.path = path or dockyard_config_path()
        self.fallbacks = [docker_config_path()] if fallbacks is None else fallbacks

    def get(self, registry: str) -> Credentials | None:
        key = auth_key(registry)
        wanted = _bare_host(key)
        for path in [self.path, *self.fallbacks]:
            config = _read(path)
            helper = _helper(config, path, wanted)
            if helper is not None:
                creds = helper.get(key)
            else:
                creds = self._from_auths(config, path, wanted)
            if creds is not None:
                return creds
        return None

    @staticmethod
    def _from_auths(config: dict[str, Any], path: Path, wanted: str) -> Credentials | None:
        auths = config.get("auths")
        for key, entry in auths.items() if isinstance(auths, dict) else ():
            if _bare_host(key) == wanted:
                creds = _decode_entry(entry, f"{path}: auths[{key!r}]")
                if creds is not None:
                    return creds
        return None

    def helper_for(self, registry: str) -> Helper | None:
        """The helper ``login`` stores through: ours names it, else Docker's."""
        wanted = _bare_host(auth_key(registry))
        for path in [self.path, *self.fallbacks]:
            helper = _helper(_read(path), path, wanted)
            if helper is not None:
                return helper
        return None

    def store(self, registry: str, creds: Credentials) -> Helper | None:
        """Keep ``creds``; returns the helper that holds them (None: in our file, in clear)."""
        key = auth_key(registry)
        helper = self.helper_for(registry)
        if helper is not None:
            helper.store(key, creds)
        config = _read(self.path)
        auths = config.get("auths")
        if not isinstance(auths, dict):
            auths = config["auths"] = {}
        entry: dict[str, str] = {}
        if helper is None and creds.identity_token:
            entry["auth"] = base64.b64encode(f"{creds.username}:".encode()).decode()
            entry["identitytoken"] = creds.identity_token
        elif helper is None:
            raw = f"{creds.username}:{creds.password}".encode()
            entry["auth"] = base64.b64encode(raw).decode()
        auths[key] = entry
        self._write(config)
        return helper

    def erase(self, registry: str) -> bool:
        """Forget the registry in our file and in its helper; False if neither knew it."""
        helper = self.helper_for(registry)
        erased = helper.erase(auth_key(registry)) if helper is not None else False
        config = _read(self.path)
        auths = config.get("auths")
        if not isinstance(auths, dict):
            return erased
        wanted = _bare_host(auth_key(registry))
        keys = [key for key in auths if _bare_host(key) == wanted]
        for key in keys:
            del auths[key]
        if keys:
            self._write(config)
        return erased or bool(keys)

    def _write(self, config: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(jsonio.dumps(config, indent=1) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

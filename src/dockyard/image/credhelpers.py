"""Docker's credential helpers: ``docker-credential-<name>`` programs that keep secrets.

A config.json names them as ``docker login`` writes it: ``credHelpers``
maps a registry to a helper, ``credsStore`` names the one for every other
registry. A helper is a program on ``PATH`` that takes one verb as its
argument and speaks JSON on stdin and stdout (docker/docker-credential-helpers):

- ``get``: stdin the server URL; stdout ``{"ServerURL", "Username", "Secret"}``,
  or it exits non-zero saying ``credentials not found in native keychain``;
- ``store``: stdin ``{"ServerURL", "Username", "Secret"}``;
- ``erase``: stdin the server URL;
- ``list`` (unused here): stdout ``{"<server URL>": "<username>", ...}``.

A Username of ``<token>`` means the Secret is an identity token (an OAuth2
refresh token), not a password.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from dockyard.errors import HostError, InvalidArgument
from dockyard.oci import jsonio

from .auth import Credentials

PREFIX = "docker-credential-"
NOT_FOUND = "credentials not found in native keychain"
TOKEN_USER = "<token>"
#: a helper may unlock a keyring (gpg-agent, a desktop prompt): give it time, not forever
TIMEOUT = 120.0


class HelperFailed(HostError):
    """The helper program could not be run, or failed."""


@dataclass(frozen=True)
class Helper:
    name: str  # without the docker-credential- prefix, as config.json has it
    where: str  # the config.json that named it, for messages

    @property
    def program(self) -> str:
        return PREFIX + self.name

    def _run(self, verb: str, data: bytes) -> tuple[int, bytes, bytes]:
        path = shutil.which(self.program)
        if path is None:
            raise HelperFailed(
                f"the credential helper {self.program} (named in {self.where}) "
                "is not on PATH; install it or remove it from that file"
            )
        try:
            done = subprocess.run(
                [path, verb], input=data, capture_output=True, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise HelperFailed(f"{self.program} {verb}: {exc}") from exc
        return done.returncode, done.stdout, done.stderr

    def _failed(self, verb: str, code: int, out: bytes, err: bytes) -> HelperFailed:
        text = (out.strip() or err.strip()).decode(errors="replace").splitlines()
        detail = text[0] if text else "no message"
        return HelperFailed(f"{self.program} {verb} exited {code}: {detail}")

    def get(self, server: str) -> Credentials | None:
        code, out, err = self._run("get", server.encode())
        if code != 0:
            if out.strip().decode(errors="replace") == NOT_FOUND:
                return None
            raise self._failed("get", code, out, err)
        try:
            doc = jsonio.loads(out)
        except (jsonio.JSONError, UnicodeDecodeError) as exc:
            raise HelperFailed(f"{self.program} get: its answer is not JSON") from exc
        user = doc.get("Username") if isinstance(doc, dict) else None
        secret = doc.get("Secret") if isinstance(doc, dict) else None
        if not isinstance(user, str) or not isinstance(secret, str):
            raise HelperFailed(f"{self.program} get: no Username and Secret in its answer")
        if not user and not secret:  # some helpers say "nothing" this way
            return None
        if user == TOKEN_USER:
            return Credentials(identity_token=secret)
        return Credentials(user, secret)

    def store(self, server: str, creds: Credentials) -> None:
        if creds.identity_token:
            user, secret = TOKEN_USER, creds.identity_token
        else:
            user, secret = creds.username, creds.password
        if not secret:
            raise InvalidArgument(f"{server}: nothing to store in {self.program}")
        doc = {"ServerURL": server, "Username": user, "Secret": secret}
        code, out, err = self._run("store", jsonio.dumps(doc).encode())
        if code != 0:
            raise self._failed("store", code, out, err)

    def erase(self, server: str) -> bool:
        """False if the helper had nothing for ``server``."""
        code, out, err = self._run("erase", server.encode())
        if code != 0:
            if out.strip().decode(errors="replace") == NOT_FOUND:
                return False
            raise self._failed("erase", code, out, err)
        return True

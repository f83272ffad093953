"""A real Docker credential helper for tests: a ``docker-credential-<name>`` program.

It speaks the helpers' protocol (``get``, ``store``, ``erase``, ``list``; JSON
on stdin and stdout; "credentials not found in native keychain" and exit 1
when it has nothing) and keeps its secrets in a JSON file beside itself,
logging every call, so a test can seed it and see what was asked of it.
Put its directory on PATH.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

_PROGRAM = """#!{python}
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
db = os.path.join(here, {name!r} + ".secrets.json")
verb = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
with open(os.path.join(here, {name!r} + ".log"), "a") as log:
    log.write(json.dumps([verb, data]) + "\\n")
secrets = json.load(open(db)) if os.path.exists(db) else {{}}


def save():
    with open(db + ".tmp", "w") as f:
        json.dump(secrets, f)
    os.replace(db + ".tmp", db)


def missing():
    print("credentials not found in native keychain")
    sys.exit(1)


if verb == "get":
    entry = secrets.get(data.strip()) or missing()
    print(json.dumps({{"ServerURL": data.strip(), "Username": entry[0], "Secret": entry[1]}}))
elif verb == "store":
    doc = json.loads(data)
    secrets[doc["ServerURL"]] = [doc["Username"], doc["Secret"]]
    save()
elif verb == "erase":
    secrets.pop(data.strip(), None) or missing()
    save()
elif verb == "list":
    print(json.dumps({{url: entry[0] for url, entry in secrets.items()}}))
else:
    print("unknown verb " + verb, file=sys.stderr)
    sys.exit(2)
"""


@dataclass
class CredentialHelper:
    directory: Path
    name: str

    @classmethod
    def install(cls, directory: Path, name: str) -> CredentialHelper:
        directory.mkdir(parents=True, exist_ok=True)
        program = directory / f"docker-credential-{name}"
        program.write_text(_PROGRAM.format(python=sys.executable, name=name))
        program.chmod(0o755)
        return cls(directory, name)

    @property
    def _db(self) -> Path:
        return self.directory / f"{self.name}.secrets.json"

    def secrets(self) -> dict[str, list[str]]:
        """Server URL → [username, secret], as the helper holds them."""
        return json.loads(self._db.read_text()) if self._db.exists() else {}

    def put(self, server: str, username: str, secret: str) -> None:
        self._db.write_text(json.dumps({**self.secrets(), server: [username, secret]}))

    def calls(self) -> list[tuple[str, str]]:
        """(verb, what came on stdin) for every call so far."""
        log = self.directory / f"{self.name}.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [tuple(json.loads(line)) for line in lines]  # type: ignore[misc]

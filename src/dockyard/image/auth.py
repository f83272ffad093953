"""Registry authentication: challenges and credentials.

A registry answers 401 with ``WWW-Authenticate: Bearer realm=...,service=...,
scope=...`` (a token server to ask, tokens.py) or ``Basic realm=...`` (send
the user and password on every request). Where credentials are kept:
credstore.py.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field


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

"""``--change``: Dockerfile instructions applied to an image config (``commit``, ``import``).

Docker parses the changes as a small Dockerfile and applies each instruction
to a config (moby's ``BuildFromConfig``): for ``commit`` the container's
Config, for ``import`` an empty one. We do the same on Docker's JSON form of
a config (``Cmd``, ``Env``, ``Labels``...), with the Dockerfile rules users
rely on:

- ``CMD``/``ENTRYPOINT``: a JSON array (exec form), or a string run by
  ``/bin/sh -c`` (shell form); ``ENTRYPOINT`` clears a ``Cmd`` no earlier
  ``CMD`` change set, as in a Dockerfile;
- ``ENV``/``LABEL``: ``k=v`` pairs (quotes and backslashes as the shell
  reads them), or the old ``ENV k v`` form;
- ``EXPOSE`` ports (``80``, ``53/udp``, ranges ``8000-8002``), ``VOLUME``
  (an array or words), ``USER``, ``WORKDIR`` (relative to the one before),
  ``STOPSIGNAL``;
- ``$VAR`` and ``${VAR}`` (with ``:-`` and ``:+``) expand from the config's
  Env in every instruction but ``CMD`` and ``ENTRYPOINT``.

Any other instruction is refused, with Docker's message.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: what ``commit --change`` and ``import --change`` accept (moby's validCommitCommands)
ALLOWED = ("cmd", "entrypoint", "env", "expose", "label", "stopsignal", "user", "volume", "workdir")


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """``config`` (Docker's JSON keys) with ``changes`` applied; a new dict."""
    out = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
           for k, v in config.items()}  # fmt: skip
    cmd_set = False
    for change in changes:
        for line in change.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            keyword = keyword.lower()
            rest = rest.strip()
            if keyword not in ALLOWED:
                raise InvalidArgument(f"{keyword} is not a valid change command")
            if keyword == "cmd":
                out["Cmd"] = _command(rest, keyword)
                cmd_set = True
            elif keyword == "entrypoint":
                out["Entrypoint"] = _command(rest, keyword)
                if not cmd_set:
                    out["Cmd"] = None
            else:
                _APPLY[keyword](out, rest)
    return out


def _command(text: str, keyword: str) -> list[str]:
    if text.startswith("["):
        try:
            parsed = jsonio.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return list(parsed)
    if not text:
        raise InvalidArgument(f"{keyword.upper()} requires at least one argument")
    return ["/bin/sh", "-c", text]


def _env_map(config: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, _, v in (e.partition("=") for e in config.get("Env") or [])}


def words(text: str, env: dict[str, str]) -> list[str]:
    """Shell-like words: quotes removed, backslash escapes, variables expanded."""
    out: list[str] = []
    current: list[str] = []
    started = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            if started:
                out.append("".join(current))
                current, started = [], False
            i += 1
            continue
        started = True
        if c == "\\" and i + 1 < n:
            current.append(text[i + 1])
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise InvalidArgument(f"unexpected end of statement while looking for ': {text}")
            current.append(text[i + 1 : end])
            i = end + 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$':
                    current.append(text[i + 1])
                    i += 2
                elif text[i] == "$":
                    value, i = _variable(text, i, env)
                    current.append(value)
                else:
                    current.append(text[i])
                    i += 1
            if i >= n:
                raise InvalidArgument(f'unexpected end of statement while looking for ": {text}')
            i += 1
        elif c == "$":
            value, i = _variable(text, i, env)
            current.append(value)
        else:
            current.append(c)
            i += 1
    if started:
        out.append("".join(current))
    return out


def _variable(text: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    """``$NAME`` or ``${NAME}``, ``${NAME:-word}``, ``${NAME:+word}`` at ``text[i]``."""
    if i + 1 < len(text) and text[i + 1] == "{":
        end = text.find("}", i + 2)
        if end < 0:
            raise InvalidArgument(f"missing '}}' in {text}")
        inner = text[i + 2 : end]
        name, op, word = inner, "", ""
        for candidate in (":-", ":+"):
            if candidate in inner:
                name, _, word = inner.partition(candidate)
                op = candidate
                break
        value = env.get(name, "")
        if op == ":-":
            value = value or word
        elif op == ":+":
            value = word if value else ""
        return value, end + 1
    j = i + 1
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    if j == i + 1:
        return "$", j
    return env.get(text[i + 1 : j], ""), j


def _pairs(keyword: str, text: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """``k=v k2="v 2"``, or the old ``k v`` form (the value is the rest of the line)."""
    if not text:
        raise InvalidArgument(f"{keyword.upper()} requires at least one argument")
    first = text.split(None, 1)[0]
    if "=" not in first:
        name, _, value = text.partition(" ")
        value = value.strip()
        if not value:
            raise InvalidArgument(f"{keyword.upper()} must have two arguments")
        joined = " ".join(words(value, env))
        return [(name, joined)]
    found = []
    for word in words(text, env):
        name, eq, value = word.partition("=")
        if not eq or not name:
            raise InvalidArgument(f"{keyword.upper()} names can not be blank: {word!r}")
        found.append((name, value))
    return found


def _env(config: dict[str, Any], text: str) -> None:
    for name, value in _pairs("env", text, _env_map(config)):
        env = [e for e in config.get("Env") or [] if e.partition("=")[0] != name]
        config["Env"] = [*env, f"{name}={value}"]


def _label(config: dict[str, Any], text: str) -> None:
    labels = dict(config.get("Labels") or {})
    for name, value in _pairs("label", text, _env_map(config)):
        labels[name] = value
    config["Labels"] = labels


def _expose(config: dict[str, Any], text: str) -> None:
    ports = dict(config.get("ExposedPorts") or {})
    for word in words(text, _env_map(config)):
        number, _, proto = word.partition("/")
        proto = (proto or "tcp").lower()
        if proto not in ("tcp", "udp", "sctp"):
            raise InvalidArgument(f"invalid proto: {proto}")
        low, dash, high = number.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise InvalidArgument(f"invalid containerPort: {number}")
        for port in range(int(low), int(high or low) + 1):
            ports[f"{port}/{proto}"] = {}
    config["ExposedPorts"] = ports


def _volume(config: dict[str, Any], text: str) -> None:
    if text.startswith("["):
        try:
            paths = jsonio.loads(text)
        except ValueError:
            paths = None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            paths = words(text, _env_map(config))
    else:
        paths = words(text, _env_map(config))
    if not paths or any(not p.strip() for p in paths):
        raise InvalidArgument("VOLUME specified can not be an empty string")
    volumes = dict(config.get("Volumes") or {})
    for path in paths:
        volumes[path] = {}
    config["Volumes"] = volumes


def _single(keyword: str, text: str, config: dict[str, Any]) -> str:
    found = words(text, _env_map(config))
    if len(found) != 1:
        raise InvalidArgument(f"{keyword.upper()} requires exactly one argument")
    return found[0]


def _user(config: dict[str, Any], text: str) -> None:
    config["User"] = _single("user", text, config)


def _workdir(config: dict[str, Any], text: str) -> None:
    path = _single("workdir", text, config)
    if not path.startswith("/"):
        base = config.get("WorkingDir") or "/"
        path = f"{base.rstrip('/')}/{path}"
    config["WorkingDir"] = path


def _stopsignal(config: dict[str, Any], text: str) -> None:
    config["StopSignal"] = _single("stopsignal", text, config)


_APPLY = {
    "env": _env,
    "label": _label,
    "expose": _expose,
    "volume": _volume,
    "user": _user,
    "workdir": _workdir,
    "stopsignal": _stopsignal,
}

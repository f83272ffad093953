"""The values of ``run``/``create`` options, read as Docker reads them.

Pure functions from the text a user types (``--memory 512m``, ``--ulimit
nofile=1024:2048``, ``--device /dev/fuse``) to typed values. The CLI and
the Python API both go through here, so ``mem_limit="512m"`` means what
``--memory 512m`` means. Errors are `InvalidArgument` naming the option.
"""

from __future__ import annotations

from dockyard.engine.types import DeviceMapping, Ulimit
from dockyard.errors import InvalidArgument

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}

ULIMIT_NAMES = [
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
]


def parse_bytes(text: str, option: str) -> int:
    """go-units' RAMInBytes: 1024, 512m, 1.5g, 2GiB, 100kb (powers of 1024)."""
    value = text.strip().lower().replace(" ", "")
    if value.endswith("b"):
        value = value[:-1]
    if value.endswith("i"):
        value = value[:-1]
    unit = value[-1:] if value[-1:] in _UNITS and value[-1:] else ""
    number = value[: -len(unit)] if unit else value
    try:
        amount = float(number)
    except ValueError:
        raise InvalidArgument(f"invalid argument {text!r} for {option}: invalid size") from None
    if amount < 0:
        raise InvalidArgument(f"invalid argument {text!r} for {option}: a size cannot be negative")
    return int(amount * _UNITS[unit])


def parse_memory_swap(text: str) -> int:
    """--memory-swap: a size, or -1 for unlimited swap."""
    if text.strip() == "-1":
        return -1
    return parse_bytes(text, "--memory-swap")


def parse_cpus(text: str) -> int:
    """--cpus 1.5 -> nano CPUs (Docker's NanoCPUs)."""
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f"invalid argument {text!r} for --cpus: not a number") from None
    if value < 0:
        raise InvalidArgument(f"invalid argument {text!r} for --cpus: must be positive")
    return round(value * 1e9)


def parse_int(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"invalid argument {text!r} for {option}: not an integer") from None


def parse_ulimit(text: str) -> Ulimit:
    """name=soft[:hard], as ``--ulimit nofile=1024:2048``."""
    name, sep, limits = text.partition("=")
    if not sep:
        raise InvalidArgument(f"invalid ulimit argument: {text}")
    if name not in ULIMIT_NAMES:
        raise InvalidArgument(f"invalid ulimit type: {name}")
    soft_text, _, hard_text = limits.partition(":")
    try:
        soft = int(soft_text)
        hard = int(hard_text) if hard_text else soft
    except ValueError:
        raise InvalidArgument(f"invalid ulimit argument: {text}") from None
    if soft > hard:
        raise InvalidArgument(
            f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )
    return Ulimit(name, soft, hard)


def parse_device(text: str) -> DeviceMapping:
    """/dev/host[:/dev/container][:permissions]."""
    parts = text.split(":")
    permissions = "rwm"
    if len(parts) > 1 and _is_permissions(parts[-1]):
        permissions = parts.pop()
    if len(parts) > 2 or not parts[0]:
        raise InvalidArgument(f"invalid device specification: {text}")
    host = parts[0]
    inside = parts[1] if len(parts) == 2 else host
    if not host.startswith("/") or not inside.startswith("/"):
        raise InvalidArgument(f"invalid device specification: {text}: paths must be absolute")
    return DeviceMapping(host, inside, permissions)


def _is_permissions(text: str) -> bool:
    return bool(text) and len(text) <= 3 and all(c in "rwm" for c in text)


def capability(name: str) -> str:
    """net_admin, NET_ADMIN, CAP_NET_ADMIN -> CAP_NET_ADMIN; ALL stays ALL."""
    from dockyard.linux.capabilities import CAPABILITIES

    upper = name.strip().upper()
    if upper == "ALL":
        return "ALL"
    full = upper if upper.startswith("CAP_") else f"CAP_{upper}"
    if full not in CAPABILITIES:
        raise InvalidArgument(f"unknown capability: {name!r}")
    return full


def env_items(values: list[str], environ: dict[str, str]) -> list[str]:
    """-e KEY=VALUE as given; -e KEY takes KEY's value from our environment, or is dropped."""
    out = []
    for item in values:
        key, sep, _ = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid environment variable: {item}")
        if sep:
            out.append(item)
        elif key in environ:
            out.append(f"{key}={environ[key]}")
    return out


def read_env_file(path: str, environ: dict[str, str]) -> list[str]:
    """--env-file: KEY=VALUE lines; # comments and blank lines skipped; KEY alone as -e KEY."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise InvalidArgument(f"open {path}: {exc.strerror}") from None
    items = []
    for number, raw in enumerate(lines, 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key = line.partition("=")[0]
        if not key or any(c.isspace() for c in key):
            raise InvalidArgument(f"{path}:{number}: variable {key!r} contains whitespaces")
        items.append(line)
    return env_items(items, environ)


def read_label_files(paths: list[str]) -> list[str]:
    """--label-file: KEY=VALUE lines; # comments, blank lines and a KEY alone skipped (as
    Docker's CLI skips them: a label file has no environment to take a value from)."""
    items = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as exc:
            raise InvalidArgument(f"open {path}: {exc.strerror}") from None
        items += [ln.lstrip() for ln in lines if "=" in ln and not ln.lstrip().startswith("#")]
    return items


def labels(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid label: {item!r}")
        out[key] = value
    return out


def sysctls(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"invalid sysctl: {item!r} (expected key=value)")
        out[key] = value
    return out


def namespace_mode(value: str, option: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        if value.startswith("container:") and value != "container:":
            raise InvalidArgument(
                f"{option} {value}: joining another container is not supported yet"
            )
        # docker/cli's words (its flag parsing): "--ipc: invalid IPC mode"
        raise InvalidArgument(f"{option}: invalid {option[2:].upper()} mode")
    return value

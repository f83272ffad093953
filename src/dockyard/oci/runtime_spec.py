"""Typed model of the OCI runtime spec's config.json (runtime-spec 1.x).

The classes are plain ``__slots__`` classes rather than dataclasses: this
module sits on the start-up path of every container, and ``dataclasses``
costs more to import here than a whole container start. Parsing checks every
field the runtime uses and names it in the error (``process.user.uid: must be
an integer``). Unknown fields are tolerated; the raw document is kept on
``Spec.raw`` so nothing is dropped when it is handed on (hooks, state).
"""

from __future__ import annotations

from dockyard.errors import InvalidSpec

TYPE_CHECKING = False  # ``typing`` is too slow to import on the hot path
if TYPE_CHECKING:
    from typing import Any

    from dockyard.oci.seccomp import Seccomp

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")
HOOK_NAMES = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)


# ---------------------------------------------------------------- field readers


def _obj(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidSpec(field, "must be an object")
    return value


def _str(d: dict[str, Any], key: str, field: str, default: str = "") -> str:
    value = d.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidSpec(f"{field}.{key}", "must be a string")
    return value


def _int(d: dict[str, Any], key: str, field: str, default: int | None = None) -> int | None:
    value = d.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidSpec(f"{field}.{key}", "must be an integer")
    return value


def _need_int(d: dict[str, Any], key: str, field: str) -> int:
    value = _int(d, key, field)
    if value is None:
        raise InvalidSpec(f"{field}.{key}", "is required")
    return value


def _bool(d: dict[str, Any], key: str, field: str) -> bool:
    value = d.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidSpec(f"{field}.{key}", "must be true or false")
    return value


def _strs(d: dict[str, Any], key: str, field: str) -> list[str]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSpec(f"{field}.{key}", "must be an array of strings")
    return value


def _list(d: dict[str, Any], key: str, field: str) -> list[Any]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidSpec(f"{field}.{key}", "must be an array")
    return value


def _str_map(d: dict[str, Any], key: str, field: str) -> dict[str, str]:
    value = _obj(d.get(key), f"{field}.{key}")
    for k, v in value.items():
        if not isinstance(v, str):
            raise InvalidSpec(f"{field}.{key}.{k}", "must be a string")
    return value


#: (uid_t)-1 means "unchanged" to setresuid(2): never a valid id
_NO_ID = 2**32 - 1


def _id(d: dict[str, Any], key: str, field: str) -> int:
    value = _int(d, key, field, 0) or 0
    if not 0 <= value < _NO_ID:
        raise InvalidSpec(f"{field}.{key}", "must be an id from 0 to 2^32-2")
    return value


# ---------------------------------------------------------------- the model


class User:
    __slots__ = ("additional_gids", "gid", "uid", "umask", "username")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.uid: int = _id(d, "uid", field)
        self.gid: int = _id(d, "gid", field)
        self.umask: int | None = _int(d, "umask", field)
        self.username: str = _str(d, "username", field)
        gids = _list(d, "additionalGids", field)
        for i, g in enumerate(gids):
            if not isinstance(g, int) or isinstance(g, bool) or not 0 <= g < _NO_ID:
                raise InvalidSpec(f"{field}.additionalGids[{i}]", "must be a gid (0 to 2^32-2)")
        self.additional_gids: list[int] = gids


class Rlimit:
    __slots__ = ("hard", "soft", "type")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.type: str = _str(d, "type", field)
        if not self.type.startswith("RLIMIT_"):
            raise InvalidSpec(f"{field}.type", f"unknown rlimit {self.type!r}")
        self.hard: int = _need_int(d, "hard", field)
        self.soft: int = _need_int(d, "soft", field)


class Capabilities:
    __slots__ = ("ambient", "bounding", "effective", "inheritable", "permitted")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.bounding: list[str] = _strs(d, "bounding", field)
        self.effective: list[str] = _strs(d, "effective", field)
        self.inheritable: list[str] = _strs(d, "inheritable", field)
        self.permitted: list[str] = _strs(d, "permitted", field)
        self.ambient: list[str] = _strs(d, "ambient", field)


class Process:
    __slots__ = (
        "apparmor_profile",
        "args",
        "capabilities",
        "console_size",
        "cwd",
        "env",
        "no_new_privileges",
        "oom_score_adj",
        "rlimits",
        "selinux_label",
        "terminal",
        "user",
    )

    def __init__(self, d: dict[str, Any], field: str = "process") -> None:
        self.terminal: bool = _bool(d, "terminal", field)
        size = _obj(d.get("consoleSize"), f"{field}.consoleSize")
        self.console_size: tuple[int, int] | None = (
            (
                _need_int(size, "height", f"{field}.consoleSize"),
                _need_int(size, "width", f"{field}.consoleSize"),
            )
            if size
            else None
        )
        self.user = User(_obj(d.get("user"), f"{field}.user"), f"{field}.user")
        self.args: list[str] = _strs(d, "args", field)
        self.env: list[str] = _strs(d, "env", field)
        self.cwd: str = _str(d, "cwd", field)
        if not self.cwd.startswith("/"):
            raise InvalidSpec(f"{field}.cwd", "must be an absolute path")
        caps = d.get("capabilities")
        self.capabilities: Capabilities | None = (
            Capabilities(_obj(caps, f"{field}.capabilities"), f"{field}.capabilities")
            if caps is not None
            else None
        )
        self.rlimits: list[Rlimit] = [
            Rlimit(_obj(r, f"{field}.rlimits[{i}]"), f"{field}.rlimits[{i}]")
            for i, r in enumerate(_list(d, "rlimits", field))
        ]
        self.no_new_privileges: bool = _bool(d, "noNewPrivileges", field)
        self.oom_score_adj: int | None = _int(d, "oomScoreAdj", field)
        self.apparmor_profile: str = _str(d, "apparmorProfile", field)
        self.selinux_label: str = _str(d, "selinuxLabel", field)


class Mount:
    __slots__ = ("destination", "options", "source", "type")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.destination: str = _str(d, "destination", field)
        if not self.destination:
            raise InvalidSpec(f"{field}.destination", "is required")
        self.type: str = _str(d, "type", field)
        self.source: str = _str(d, "source", field)
        self.options: list[str] = _strs(d, "options", field)


class Hook:
    __slots__ = ("args", "env", "path", "timeout")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.path: str = _str(d, "path", field)
        if not self.path.startswith("/"):
            raise InvalidSpec(f"{field}.path", "must be an absolute path")
        self.args: list[str] = _strs(d, "args", field)
        self.env: list[str] = _strs(d, "env", field)
        self.timeout: int | None = _int(d, "timeout", field)
        if self.timeout is not None and self.timeout <= 0:
            raise InvalidSpec(f"{field}.timeout", "must be greater than zero")


class Namespace:
    __slots__ = ("path", "type")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.type: str = _str(d, "type", field)
        if self.type not in NAMESPACE_TYPES:
            raise InvalidSpec(
                f"{field}.type",
                f"unknown namespace type {self.type!r} "
                f"(expected one of {', '.join(NAMESPACE_TYPES)})",
            )
        self.path: str = _str(d, "path", field)


class IdMapping:
    __slots__ = ("container_id", "host_id", "size")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.container_id: int = _need_int(d, "containerID", field)
        self.host_id: int = _need_int(d, "hostID", field)
        self.size: int = _need_int(d, "size", field)


class Device:
    __slots__ = ("file_mode", "gid", "major", "minor", "path", "type", "uid")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.type: str = _str(d, "type", field)
        if self.type not in ("c", "b", "u", "p"):
            raise InvalidSpec(f"{field}.type", f"unknown device type {self.type!r}")
        self.path: str = _str(d, "path", field)
        if not self.path.startswith("/"):
            raise InvalidSpec(f"{field}.path", "must be an absolute path")
        self.major: int = _int(d, "major", field, 0) or 0
        self.minor: int = _int(d, "minor", field, 0) or 0
        if self.type != "p" and ("major" not in d or "minor" not in d):
            raise InvalidSpec(field, "major and minor are required for this device type")
        self.file_mode: int | None = _int(d, "fileMode", field)
        self.uid: int | None = _int(d, "uid", field)
        self.gid: int | None = _int(d, "gid", field)


class Linux:
    __slots__ = (
        "cgroups_path",
        "devices",
        "gid_mappings",
        "masked_paths",
        "mount_label",
        "namespaces",
        "personality",
        "readonly_paths",
        "resources",
        "rootfs_propagation",
        "seccomp",
        "sysctl",
        "time_offsets",
        "uid_mappings",
    )

    def __init__(self, d: dict[str, Any], field: str = "linux") -> None:
        self.namespaces: list[Namespace] = [
            Namespace(_obj(n, f"{field}.namespaces[{i}]"), f"{field}.namespaces[{i}]")
            for i, n in enumerate(_list(d, "namespaces", field))
        ]
        seen: set[str] = set()
        for i, ns in enumerate(self.namespaces):
            if ns.type in seen:
                raise InvalidSpec(f"{field}.namespaces[{i}]", f"duplicate {ns.type} namespace")
            seen.add(ns.type)
        self.uid_mappings: list[IdMapping] = [
            IdMapping(_obj(m, f"{field}.uidMappings[{i}]"), f"{field}.uidMappings[{i}]")
            for i, m in enumerate(_list(d, "uidMappings", field))
        ]
        self.gid_mappings: list[IdMapping] = [
            IdMapping(_obj(m, f"{field}.gidMappings[{i}]"), f"{field}.gidMappings[{i}]")
            for i, m in enumerate(_list(d, "gidMappings", field))
        ]
        self.time_offsets: dict[str, tuple[int, int]] = {}
        for clock, off in _obj(d.get("timeOffsets"), f"{field}.timeOffsets").items():
            where = f"{field}.timeOffsets.{clock}"
            if clock not in ("monotonic", "boottime"):
                raise InvalidSpec(where, "only monotonic and boottime can be offset")
            off = _obj(off, where)
            self.time_offsets[clock] = (
                _int(off, "secs", where, 0) or 0,
                _int(off, "nanosecs", where, 0) or 0,
            )
        self.devices: list[Device] = [
            Device(_obj(v, f"{field}.devices[{i}]"), f"{field}.devices[{i}]")
            for i, v in enumerate(_list(d, "devices", field))
        ]
        self.cgroups_path: str = _str(d, "cgroupsPath", field)
        self.resources: dict[str, Any] = _obj(d.get("resources"), f"{field}.resources")
        propagation = _str(d, "rootfsPropagation", field)
        if propagation and propagation not in _PROPAGATIONS:
            raise InvalidSpec(f"{field}.rootfsPropagation", f"unknown propagation {propagation!r}")
        self.rootfs_propagation: str = propagation
        self.masked_paths: list[str] = _strs(d, "maskedPaths", field)
        self.readonly_paths: list[str] = _strs(d, "readonlyPaths", field)
        self.mount_label: str = _str(d, "mountLabel", field)
        self.sysctl: dict[str, str] = _str_map(d, "sysctl", field)
        self.seccomp: Seccomp | None = None
        if d.get("seccomp") is not None:
            from dockyard.oci.seccomp import parse_seccomp  # only specs with seccomp pay for it

            self.seccomp = parse_seccomp(d["seccomp"], f"{field}.seccomp")
        personality = _obj(d.get("personality"), f"{field}.personality")
        self.personality: str = _str(personality, "domain", f"{field}.personality")
        if self.personality and self.personality not in ("LINUX", "LINUX32"):
            raise InvalidSpec(f"{field}.personality.domain", f"unknown domain {self.personality!r}")

    def namespace(self, kind: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.type == kind:
                return ns
        return None


_PROPAGATIONS = (
    "private",
    "rprivate",
    "slave",
    "rslave",
    "shared",
    "rshared",
    "unbindable",
    "runbindable",
)


class Spec:
    __slots__ = (
        "annotations",
        "domainname",
        "hooks",
        "hostname",
        "linux",
        "mounts",
        "oci_version",
        "process",
        "raw",
        "root_path",
        "root_readonly",
    )

    def __init__(self, raw: dict[str, Any]) -> None:
        if not isinstance(raw, dict):
            raise InvalidSpec("(document)", "must be a JSON object")
        self.raw = raw
        self.oci_version: str = _str(raw, "ociVersion", "")
        if not self.oci_version:
            raise InvalidSpec("ociVersion", "is required")
        if not self.oci_version.startswith("1."):
            raise InvalidSpec("ociVersion", f"version {self.oci_version} is not supported (1.x is)")
        root = _obj(raw.get("root"), "root")
        self.root_path: str = _str(root, "path", "root")
        if not self.root_path:
            raise InvalidSpec("root.path", "is required")
        self.root_readonly: bool = _bool(root, "readonly", "root")
        proc = raw.get("process")
        self.process: Process | None = Process(_obj(proc, "process")) if proc is not None else None
        self.hostname: str = _str(raw, "hostname", "")
        self.domainname: str = _str(raw, "domainname", "")
        self.mounts: list[Mount] = [
            Mount(_obj(m, f"mounts[{i}]"), f"mounts[{i}]")
            for i, m in enumerate(_list(raw, "mounts", ""))
        ]
        hooks = _obj(raw.get("hooks"), "hooks")
        self.hooks: dict[str, list[Hook]] = {
            name: [
                Hook(_obj(h, f"hooks.{name}[{i}]"), f"hooks.{name}[{i}]")
                for i, h in enumerate(_list(hooks, name, "hooks"))
            ]
            for name in HOOK_NAMES
            if hooks.get(name)
        }
        self.annotations: dict[str, str] = _str_map(raw, "annotations", "")
        linux = raw.get("linux")
        self.linux: Linux = Linux(_obj(linux, "linux"))

    def namespace(self, kind: str) -> Namespace | None:
        return self.linux.namespace(kind)


def load_spec(bundle: str) -> Spec:
    """Read and check ``bundle/config.json``."""
    from dockyard.errors import NotFound
    from dockyard.oci.jsonio import JSONError, loads

    path = bundle.rstrip("/") + "/config.json"
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        raise NotFound(f"no config.json in bundle {bundle}") from None
    try:
        raw = loads(text)
    except (JSONError, UnicodeDecodeError) as exc:
        raise InvalidSpec("(document)", f"not valid JSON: {exc}") from exc
    return Spec(raw)

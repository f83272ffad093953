"""Image config → the process and annotations parts of an OCI runtime spec.

A pure function: the caller reads the image's /etc/passwd and /etc/group
(safely, inside the rootfs) and passes their text; nothing here touches the
filesystem. Overrides follow ``docker run``: ``--entrypoint`` drops the
image's Cmd, arguments replace Cmd, ``-e`` adds to or replaces Env.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.image_spec import ImageConfig

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class ProcessParts:
    args: list[str]
    env: list[str]
    cwd: str
    uid: int
    gid: int
    additional_gids: list[int] = field(default_factory=list)
    stop_signal: str = "SIGTERM"
    exposed_ports: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)


def _entries(text: str) -> list[list[str]]:
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _lookup_user(name: str, passwd: str) -> tuple[int, int] | None:
    for fields in _entries(passwd):
        if len(fields) >= 4 and fields[0] == name:
            try:
                return int(fields[2]), int(fields[3])
            except ValueError:
                return None
    return None


def _uid_gid_of(uid: int, passwd: str) -> int | None:
    for fields in _entries(passwd):
        if len(fields) >= 4 and fields[2] == str(uid):
            try:
                return int(fields[3])
            except ValueError:
                return None
    return None


def _user_name(uid: int, passwd: str) -> str:
    for fields in _entries(passwd):
        if len(fields) >= 3 and fields[2] == str(uid):
            return fields[0]
    return ""


def _lookup_group(name: str, group: str) -> int | None:
    for fields in _entries(group):
        if len(fields) >= 3 and fields[0] == name:
            try:
                return int(fields[2])
            except ValueError:
                return None
    return None


def _supplementary(user: str, gid: int, group: str) -> list[int]:
    found = []
    for fields in _entries(group):
        if len(fields) >= 4 and user and user in fields[3].split(","):
            try:
                g = int(fields[2])
            except ValueError:
                continue
            if g != gid and g not in found:
                found.append(g)
    return found


def resolve_user(spec: str, passwd: str, group: str) -> tuple[int, int, list[int]]:
    """``user``, ``uid``, ``user:group``, ``uid:gid`` → (uid, gid, supplementary gids)."""
    if not spec:
        spec = "0"
    user_part, _, group_part = spec.partition(":")
    if user_part.isdigit():
        uid = int(user_part)
        gid = _uid_gid_of(uid, passwd)
        gid = gid if gid is not None else 0
        name = _user_name(uid, passwd)
    else:
        found = _lookup_user(user_part, passwd)
        if found is None:
            raise NotFound(f"unable to find user {user_part}: no matching entries in passwd file")
        uid, gid = found
        name = user_part
    if group_part:
        if group_part.isdigit():
            gid = int(group_part)
        else:
            found_gid = _lookup_group(group_part, group)
            if found_gid is None:
                raise NotFound(
                    f"unable to find group {group_part}: no matching entries in group file"
                )
            gid = found_gid
    if uid > 0xFFFFFFFE or gid > 0xFFFFFFFE:
        raise InvalidArgument(f"user {spec!r}: uid or gid out of range")
    return uid, gid, _supplementary(name, gid, group)


def merge_env(base: list[str], extra: list[str]) -> list[str]:
    merged: dict[str, str] = {}
    for item in [*base, *extra]:
        key = item.split("=", 1)[0]
        merged[key] = item
    if "PATH" not in merged:
        merged = {"PATH": f"PATH={DEFAULT_PATH}", **merged}
    return list(merged.values())


def process_parts(
    config: ImageConfig,
    passwd: str = "",
    group: str = "",
    *,
    entrypoint: list[str] | None = None,
    cmd: list[str] | None = None,
    env: list[str] | None = None,
    user: str | None = None,
    workdir: str | None = None,
) -> ProcessParts:
    """What a container made from this image runs, and as whom."""
    c = config.config
    if entrypoint is not None:
        args = list(entrypoint) + list(cmd or [])
    else:
        args = list(c.entrypoint or []) + list(cmd if cmd else (c.cmd or []))
    if not args:
        raise InvalidArgument("no command specified: the image has no Entrypoint or Cmd")
    uid, gid, groups = resolve_user(user if user is not None else c.user, passwd, group)
    cwd = workdir or c.working_dir or "/"
    if not cwd.startswith("/"):
        raise InvalidArgument(f"the working directory {cwd!r} is not an absolute path")
    annotations = dict(c.labels)
    if config.created:
        annotations["org.opencontainers.image.created"] = config.created
    if config.author:
        annotations["org.opencontainers.image.authors"] = config.author
    if c.stop_signal:
        annotations["org.opencontainers.image.stopSignal"] = c.stop_signal
    if c.exposed_ports:
        annotations["org.opencontainers.image.exposedPorts"] = ",".join(c.exposed_ports)
    return ProcessParts(
        args=args,
        env=merge_env(c.env, env or []),
        cwd=cwd,
        uid=uid,
        gid=gid,
        additional_gids=groups,
        stop_signal=c.stop_signal or "SIGTERM",
        exposed_ports=list(c.exposed_ports),
        volumes=list(c.volumes),
        annotations=annotations,
    )

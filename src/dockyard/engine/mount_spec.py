"""``-v``, ``--mount`` and ``--tmpfs`` as Docker reads them, into `MountPoint` records.

``-v /host:/dest[:opts]`` binds a host path; ``-v name:/dest`` uses (and
makes) a named volume; ``-v /dest`` makes an anonymous volume. Options: ro,
rw, z, Z (SELinux relabel requests, accepted: there is nothing to relabel
without SELinux), nocopy, and the propagation modes. ``--mount`` takes
Docker's comma-separated keys. A volume's host path is filled in by the
volume service (`engine.volumes`), not here.
"""

from __future__ import annotations

from dockyard.engine.names import check_volume_name
from dockyard.engine.types import MountPoint
from dockyard.errors import InvalidArgument

PROPAGATIONS = ("shared", "rshared", "slave", "rslave", "private", "rprivate")
_VOLUME_OPTIONS = ("ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated")


def _check_destination(dest: str, text: str) -> str:
    if not dest.startswith("/"):
        raise InvalidArgument(
            f"invalid mount config: {text}: the mount path {dest!r} must be absolute"
        )
    if dest.rstrip("/") == "":
        raise InvalidArgument(f"invalid mount config: {text}: the destination cannot be /")
    return _clean(dest)


def _clean(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def parse_volume(text: str) -> MountPoint:
    """One ``-v`` argument."""
    parts = text.split(":")
    if len(parts) == 1:
        return MountPoint("volume", _check_destination(parts[0], text), anonymous=True)
    if len(parts) > 3:
        raise InvalidArgument(f"invalid volume specification: {text!r}")
    source, dest = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    options = [o for o in mode.split(",") if o]
    for option in options:
        if option not in _VOLUME_OPTIONS and option not in PROPAGATIONS:
            raise InvalidArgument(f"invalid mode: {option} (in volume specification {text!r})")
    if "ro" in options and "rw" in options:
        raise InvalidArgument(f"invalid mode: {mode} (ro and rw at once)")
    propagation = next((o for o in options if o in PROPAGATIONS), "")
    mount = MountPoint(
        "bind" if source.startswith("/") else "volume",
        _check_destination(dest, text),
        read_only="ro" in options,
        mode=mode,
        propagation=propagation,
        no_copy="nocopy" in options,
    )
    if mount.type == "bind":
        if propagation == "" and source:
            mount.propagation = "rprivate"
        mount.source = _clean(source)
    else:
        if not source:
            raise InvalidArgument(f"invalid volume specification: {text!r}: empty source")
        mount.name = check_volume_name(source)
        if propagation:
            raise InvalidArgument(
                f"invalid volume specification: {text!r}: propagation is for binds"
            )
    return mount


def parse_mount(text: str) -> MountPoint:
    """One ``--mount type=...,source=...,target=...[,readonly][,...]`` argument."""
    values: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not key:
            continue
        if key in ("readonly", "ro", "volume-nocopy") and not sep:
            value = "true"
        elif not sep:
            raise InvalidArgument(f"invalid field {item!r} must be a key=value pair")
        values[key] = value
    kind = values.pop("type", "volume")
    source = values.pop("source", values.pop("src", ""))
    target = values.pop("target", values.pop("destination", values.pop("dst", "")))
    if not target:
        raise InvalidArgument(f"invalid mount config: {text}: target is required")
    read_only = _flag(values.pop("readonly", values.pop("ro", "false")), text)
    values.pop("consistency", None)
    mount = MountPoint(kind, _check_destination(target, text), read_only=read_only)
    if kind == "bind":
        if not source:
            raise InvalidArgument(
                'invalid mount config for type "bind": field Source must not be empty'
            )
        if not source.startswith("/"):
            raise InvalidArgument(
                f'invalid mount config for type "bind": {source!r} is not absolute'
            )
        mount.source = _clean(source)
        mount.propagation = values.pop("bind-propagation", "rprivate")
        if mount.propagation not in PROPAGATIONS:
            raise InvalidArgument(f"invalid bind-propagation {mount.propagation!r}")
    elif kind == "volume":
        mount.no_copy = _flag(values.pop("volume-nocopy", "false"), text)
        if values.pop("volume-driver", "local") != "local":
            raise InvalidArgument(f"volume-driver in {text!r}: only the local volume driver exists")
        if source:
            mount.name = check_volume_name(source)
        else:
            mount.anonymous = True
    elif kind == "tmpfs":
        if source:
            raise InvalidArgument('invalid mount config for type "tmpfs": source must be empty')
        if "tmpfs-size" in values:
            from dockyard.engine.parse import parse_bytes

            mount.options.append(f"size={parse_bytes(values.pop('tmpfs-size'), 'tmpfs-size')}")
        if "tmpfs-mode" in values:
            mode = values.pop("tmpfs-mode")
            try:
                mount.options.append(f"mode={int(mode, 8):o}")
            except ValueError:
                raise InvalidArgument(f"invalid tmpfs-mode {mode!r}: expected octal") from None
    else:
        raise InvalidArgument(f"invalid mount type {kind!r}: use bind, volume or tmpfs")
    if values:
        raise InvalidArgument(f"unexpected key {sorted(values)[0]!r} in {text!r}")
    return mount


def _flag(value: str, text: str) -> bool:
    if value.lower() in ("true", "1", ""):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid boolean {value!r} in {text!r}")


def parse_tmpfs(text: str) -> tuple[str, str]:
    """``--tmpfs /run[:opts]`` -> (destination, options as given)."""
    dest, _, options = text.partition(":")
    return _check_destination(dest, text), options


def tmpfs_mount(dest: str, options: str) -> MountPoint:
    opts = [o for o in options.split(",") if o]
    read_only = "ro" in opts
    opts = [o for o in opts if o not in ("ro", "rw")]
    return MountPoint("tmpfs", dest, read_only=read_only, options=opts, mode=options)

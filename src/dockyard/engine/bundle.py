"""A container's bundle on disk: its root filesystem (a store snapshot), /etc files, config.json.

    <root>/containers/<id>/config.json    the runtime spec (root.path: the snapshot)
    <root>/containers/<id>/hosts          bind-mounted over /etc/hosts
    <root>/containers/<id>/hostname       ... /etc/hostname
    <root>/containers/<id>/resolv.conf    ... /etc/resolv.conf

The snapshot is made (and mounted) by the store under the container's id;
it stays mounted while the container runs and is unmounted when it stops,
as Docker does with its layers.
"""

from __future__ import annotations

import posix

from dockyard.engine import etc_files, spec
from dockyard.engine.image_user import ProcessUser, read_in_root, resolve
from dockyard.errors import HostError, NotFound
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.images import ImageService
    from dockyard.engine.net_etc import EtcInputs
    from dockyard.engine.paths import EnginePaths
    from dockyard.engine.types import ContainerRecord


def _write(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f"{path}.tmp{posix.getpid()}"
    fd = posix.open(tmp, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC | posix.O_CLOEXEC, mode)
    try:
        data = memoryview(text.encode())
        while data:
            data = data[posix.write(fd, data) :]
    finally:
        posix.close(fd)
    posix.rename(tmp, path)


def make_dir(path: str, mode: int = 0o710) -> None:
    try:
        posix.mkdir(path, mode)
    except FileExistsError:
        pass
    except FileNotFoundError:
        parent = path.rpartition("/")[0]
        make_dir(parent, 0o711)
        make_dir(path, mode)


def cgroup_v2() -> bool:
    """True on a cgroup v2-only host (Docker gives containers their own cgroup namespace then)."""
    try:
        posix.stat("/sys/fs/cgroup/cgroup.controllers")
        return True
    except OSError:
        return False


def mount_rootfs(images: ImageService, rec: ContainerRecord) -> str:
    """The container's root filesystem, mounted; made from its image on first use."""
    snapshots = images.snapshots
    try:
        snapshot = snapshots.get(rec.id)
    except NotFound:
        chains, layer_dirs = images.layer_dirs(rec.image_id)
        return snapshots.create(rec.id, rec.image_id, chains, layer_dirs)
    # the snapshot's own list: its image may be gone (rmi -f), its layers are not
    return snapshots.mount(rec.id, images.chain_dirs(snapshot.layers))


def unmount_rootfs(images: ImageService, container_id: str) -> None:
    try:
        images.snapshots.unmount(container_id)
    except OSError as exc:
        raise HostError(f"cannot unmount the root filesystem of {container_id}: {exc}") from exc


def process_user(rec: ContainerRecord, rootfs: str) -> ProcessUser:
    passwd = read_in_root(rootfs, "/etc/passwd")
    group = read_in_root(rootfs, "/etc/group")
    return resolve(rec.config.user, passwd, group, rec.host.group_add)


def make_workdir(rootfs: str, workdir: str) -> None:
    """Docker makes a missing working directory (inside the root, whatever links say)."""
    if not workdir or workdir == "/":
        return
    from dockyard.linux import inroot

    root_fd = posix.open(rootfs, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        posix.close(inroot.mkdir_all(root_fd, workdir, 0o755))
    except OSError as exc:
        raise HostError(f"cannot make the working directory {workdir}: {exc.strerror}") from exc
    finally:
        posix.close(root_fd)


def write_etc_files(
    paths: EnginePaths, rec: ContainerRecord, net: EtcInputs | None = None
) -> dict[str, str]:
    """Write hosts, hostname and resolv.conf for ``rec``; container path -> host file.
    ``net`` (engine/net_etc.py) adds its addresses and DNS settings."""
    directory = paths.container_dir(rec.id)
    host_net = rec.host.network_mode == "host"
    if net is not None and net.shared_dir:  # --network container:X uses X's files
        shared = net.shared_dir
        return {
            "/etc/hosts": f"{shared}/hosts",
            "/etc/hostname": f"{shared}/hostname",
            "/etc/resolv.conf": f"{shared}/resolv.conf",
        }
    hosts = etc_files.hosts(
        rec.config.hostname,
        host_net,
        net.address if net else "",
        extra=net.extra_hosts if net else None,
    )
    resolv = etc_files.resolv_conf(
        host_net,
        dns=net.dns if net else None,
        search=net.dns_search if net else None,
        options=net.dns_options if net else None,
        resolver=net.resolver if net else "",
    )
    files = {
        "/etc/hosts": (f"{directory}/hosts", hosts),
        "/etc/hostname": (f"{directory}/hostname", etc_files.hostname_file(rec.config.hostname)),
        "/etc/resolv.conf": (f"{directory}/resolv.conf", resolv),
    }
    out = {}
    for inside, (path, text) in files.items():
        _write(path, text)
        out[inside] = path
    return out


def write_bundle(
    paths: EnginePaths, rec: ContainerRecord, rootfs: str, net: EtcInputs | None = None
) -> dict[str, Any]:
    """Everything the runtime needs in the container's directory; the spec written."""
    from dockyard.engine.net_attach import spec_netns_path

    make_dir(paths.container_dir(rec.id))
    user = process_user(rec, rootfs)
    make_workdir(rootfs, rec.config.working_dir)
    etc = write_etc_files(paths, rec, net)
    from dockyard.engine.ipc import shm_source

    shm = shm_source(paths, rec)
    document = spec.build(rec, rootfs, user, etc, cgroup_v2(), spec_netns_path(paths, rec), shm)
    # compact: the seccomp profile alone is hundreds of lines, and only runtimes read it
    _write(f"{paths.container_dir(rec.id)}/config.json", jsonio.dumps_compact(document))
    return document

"""Container record -> runtime spec: Docker's defaults and what each option changes."""

from __future__ import annotations

import pytest

from dockyard.engine import spec
from dockyard.engine.create import CreateRequest, _check
from dockyard.engine.image_facts import ImageFacts, merge
from dockyard.engine.image_user import ProcessUser, resolve
from dockyard.engine.mount_spec import parse_mount, parse_volume
from dockyard.engine.parse import parse_bytes, parse_cpus, parse_device, parse_ulimit
from dockyard.engine.seccomp_profile import convert
from dockyard.engine.spec_defaults import DEFAULT_CAPABILITIES, MASKED_PATHS
from dockyard.engine.types import ContainerConfig, ContainerRecord, HostConfig
from dockyard.errors import InvalidArgument, NotFound

ROOT = ProcessUser(0, 0, [], "/root")
ETC = {"/etc/hosts": "/c/hosts", "/etc/hostname": "/c/hostname", "/etc/resolv.conf": "/c/resolv"}


def record(host: HostConfig | None = None, **config: object) -> ContainerRecord:
    values: dict[str, object] = {"image": "busybox", "cmd": ["true"], "hostname": "abc"}
    values.update(config)
    return ContainerRecord(
        id="f" * 64,
        name="box",
        image_id="sha256:" + "0" * 64,
        created="2026-01-01T00:00:00Z",
        status="created",
        config=ContainerConfig(**values),  # type: ignore[arg-type]
        host=host or HostConfig(),
    )


def build(rec: ContainerRecord, user: ProcessUser = ROOT) -> dict:  # type: ignore[type-arg]
    return spec.build(rec, "/rootfs", user, ETC)


def test_the_defaults_are_dockers() -> None:
    doc = build(record())

    caps = doc["process"]["capabilities"]
    assert caps["bounding"] == list(DEFAULT_CAPABILITIES) == caps["effective"]
    assert "inheritable" not in caps and "ambient" not in caps
    assert doc["linux"]["maskedPaths"] == list(MASKED_PATHS)
    assert "/proc/sys" in doc["linux"]["readonlyPaths"]
    assert {ns["type"] for ns in doc["linux"]["namespaces"]} == {
        "mount", "network", "uts", "pid", "ipc",
    }  # fmt: skip
    destinations = [m["destination"] for m in doc["mounts"]]
    assert destinations[:7] == [
        "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
    ]  # fmt: skip
    assert destinations[7:] == ["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"]
    assert doc["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert doc["linux"]["sysctl"]["net.ipv4.ip_unprivileged_port_start"] == "0"
    assert doc["linux"]["cgroupsPath"] == "/dockyard/" + "f" * 64
    assert doc["hostname"] == "abc" and doc["root"] == {"path": "/rootfs", "readonly": False}
    assert "noNewPrivileges" not in doc["process"]
    rules = doc["linux"]["resources"]["devices"]
    assert rules[0] == {"allow": False, "access": "rwm"}


def test_the_environment_in_dockers_order() -> None:
    env = build(record(env=["PATH=/x", "A=1"], tty=True))["process"]["env"]

    assert env == ["PATH=/x", "HOSTNAME=abc", "TERM=xterm", "A=1", "HOME=/root"]


def test_merging_the_image_config_follows_docker() -> None:
    image = ImageFacts(
        id="sha256:" + "1" * 64, env=["PATH=/bin", "A=image"], entrypoint=["/ep"], cmd=["c"],
        user="u", working_dir="/w", stop_signal="SIGUSR1", labels={"a": "1"},
    )  # fmt: skip

    plain = merge(image, "img")
    assert (plain.entrypoint, plain.cmd, plain.user, plain.working_dir) == (
        ["/ep"],
        ["c"],
        "u",
        "/w",
    )
    overridden = merge(image, "img", cmd=["x"], env=["A=me"], labels={"b": "2"}, user="root")
    assert overridden.cmd == ["x"] and overridden.env == ["PATH=/bin", "A=me"]
    assert overridden.labels == {"a": "1", "b": "2"} and overridden.user == "root"
    cleared = merge(image, "img", entrypoint=[""])
    assert cleared.entrypoint is None and cleared.cmd is None  # --entrypoint "" drops Cmd too
    new_entry = merge(image, "img", entrypoint=["/sh"], cmd=["-c", "x"])
    assert (new_entry.entrypoint, new_entry.cmd) == (["/sh"], ["-c", "x"])
    with pytest.raises(InvalidArgument, match="absolute"):
        merge(image, "img", working_dir="rel")


def test_options_reach_the_spec() -> None:
    host = HostConfig(
        privileged=False, readonly_rootfs=True, cap_add=["CAP_NET_ADMIN"], cap_drop=["CAP_CHOWN"],
        memory=64 << 20, memory_reservation=32 << 20, nano_cpus=1_500_000_000, cpu_shares=512,
        cpuset_cpus="0", pids_limit=10, ulimits=[parse_ulimit("nproc=5:6")],
        security_opt=["no-new-privileges", "seccomp=unconfined"], network_mode="host",
        pid_mode="host", ipc_mode="host", sysctls={"kernel.domainname": "d"},
    )  # fmt: skip
    doc = build(record(host))

    caps = doc["process"]["capabilities"]["bounding"]
    assert "CAP_NET_ADMIN" in caps and "CAP_CHOWN" not in caps
    assert doc["root"]["readonly"] is True
    assert doc["process"]["noNewPrivileges"] is True and "seccomp" not in doc["linux"]
    resources = doc["linux"]["resources"]
    assert resources["memory"] == {"limit": 64 << 20, "swap": 128 << 20, "reservation": 32 << 20}
    assert resources["cpu"] == {"shares": 512, "period": 100000, "quota": 150000, "cpus": "0"}
    assert resources["pids"] == {"limit": 10}
    assert {"type": "RLIMIT_NPROC", "soft": 5, "hard": 6} in doc["process"]["rlimits"]
    kinds = {ns["type"] for ns in doc["linux"]["namespaces"]}
    assert kinds == {"mount", "uts"}
    assert "net.ipv4.ping_group_range" not in doc["linux"]["sysctl"]  # the host's network
    shm = next(m for m in doc["mounts"] if m["destination"] == "/dev/shm")
    assert shm["type"] == "bind" and shm["source"] == "/dev/shm"


def test_limits_docker_refuses() -> None:
    with pytest.raises(InvalidArgument, match="Memory limit when using Memoryswap"):
        build(record(HostConfig(memory_swap=1 << 30)))
    with pytest.raises(InvalidArgument, match="larger than memory limit"):
        build(record(HostConfig(memory=2 << 20, memory_swap=1 << 20)))
    with pytest.raises(InvalidArgument, match="not namespaced"):
        build(record(HostConfig(sysctls={"vm.swappiness": "1"})))
    with pytest.raises(InvalidArgument, match="host network namespace"):
        build(record(HostConfig(network_mode="host", sysctls={"net.ipv4.ip_forward": "1"})))


def test_user_mounts_sort_parents_first_and_replace_defaults() -> None:
    rec = record()
    rec.mounts = [
        parse_volume("/host/a:/data/inner:ro"),
        parse_volume("/host/b:/data"),
        parse_mount("type=tmpfs,target=/dev/shm,tmpfs-size=1m"),
    ]
    doc = build(rec)
    mounts = doc["mounts"]
    destinations = [m["destination"] for m in mounts]

    assert destinations.count("/dev/shm") == 1
    assert destinations.index("/data") < destinations.index("/data/inner")
    inner = mounts[destinations.index("/data/inner")]
    assert inner["options"] == ["rbind", "rprivate", "ro"]
    shm = mounts[destinations.index("/dev/shm")]
    assert shm["type"] == "tmpfs" and f"size={1 << 20}" in shm["options"]


def test_users_resolve_in_the_images_files() -> None:
    passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n"
    group = "root:x:0:\napp:x:1001:\nextra:x:2000:app\n"

    # the primary group first, as Docker's daemon lists it
    assert resolve("app", passwd, group) == ProcessUser(1000, 1001, [1001, 2000], "/home/app")
    assert resolve("1000:extra", passwd, group) == ProcessUser(1000, 2000, [2000], "/home/app")
    assert resolve("4242", passwd, group) == ProcessUser(4242, 0, [0], "/")
    assert resolve("", passwd, group, ["extra", "7", "0"]).additional_gids == [0, 2000, 7]
    with pytest.raises(NotFound, match="unable to find user nobody"):
        resolve("nobody", passwd, group)
    with pytest.raises(NotFound, match="unable to find group nogroup"):
        resolve("app:nogroup", passwd, group)


def test_values_read_as_docker_reads_them() -> None:
    assert parse_bytes("512m", "-m") == 512 << 20
    assert parse_bytes("1.5g", "-m") == 3 << 29
    assert parse_bytes("100kb", "-m") == 100 << 10
    assert parse_cpus("0.5") == 500_000_000
    assert parse_device("/dev/fuse").path_in_container == "/dev/fuse"
    assert parse_device("/dev/a:/dev/b:r").permissions == "r"
    with pytest.raises(InvalidArgument, match="soft limit must be less"):
        parse_ulimit("nofile=10:5")
    anonymous = parse_volume("/data")
    assert anonymous.type == "volume" and anonymous.anonymous
    named = parse_volume("name:/d:ro,nocopy")
    assert (named.name, named.read_only, named.no_copy) == ("name", True, True)
    with pytest.raises(InvalidArgument, match="invalid mode"):
        parse_volume("/a:/b:bogus")


def test_a_docker_seccomp_profile_is_settled_for_the_container() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {
                "names": ["mount"],
                "action": "SCMP_ACT_ALLOW",
                "includes": {"caps": ["CAP_SYS_ADMIN"]},
            },
            {"names": ["old"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
            {
                "names": ["clone"],
                "action": "SCMP_ACT_ALLOW",
                "excludes": {"caps": ["CAP_SYS_ADMIN"]},
            },
        ],
    }

    plain = convert(profile, ["CAP_KILL"], "amd64", (6, 1), ("SCMP_ARCH_X86_64",))
    admin = convert(profile, ["CAP_SYS_ADMIN"], "amd64", (6, 1), ("SCMP_ARCH_X86_64",))

    assert plain["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert [s["names"] for s in plain["syscalls"]] == [["read"], ["clone"]]
    assert [s["names"] for s in admin["syscalls"]] == [["read"], ["mount"]]
    assert "includes" not in admin["syscalls"][1]


def test_options_the_engine_refuses() -> None:
    for host, message in (
        (HostConfig(security_opt=["apparmor=myprofile"]), "no SELinux or AppArmor"),
        (HostConfig(security_opt=["bogus=1"]), "Invalid --security-opt"),
    ):
        with pytest.raises(InvalidArgument, match=message):
            _check(CreateRequest(image="x", host=host))
    _check(CreateRequest(image="x", host=HostConfig(security_opt=["label:disable"])))

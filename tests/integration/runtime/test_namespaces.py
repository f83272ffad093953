"""linux.namespaces: new ones, joined ones, and the errors, seen from inside."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runtime.containers import run_sleeper
from tests.integration.runtime.inside import (
    assert_refused,
    not_on_runc,
    probe,
    probe_lines,
    run_probe,
)
from tests.support import Bundle, Runtime, leaks, requires
from tests.support.bundle import MakeBundle

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

# spec type -> name under /proc/PID/ns
PROC_NAMES = {
    "pid": "pid",
    "network": "net",
    "ipc": "ipc",
    "uts": "uts",
    "mount": "mnt",
    "cgroup": "cgroup",
}


def namespace(bundle: Bundle, kind: str) -> dict[str, str]:
    entry: dict[str, str] = next(
        ns for ns in bundle.config["linux"]["namespaces"] if ns["type"] == kind
    )
    return entry


def leave_out(bundle: Bundle, kind: str) -> None:
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != kind]
    if kind == "uts":  # else runc would set the host's hostname
        bundle.config.pop("hostname", None)


@pytest.mark.parametrize("kind", list(PROC_NAMES))
def test_a_new_namespace_is_not_the_hosts(runtime: Runtime, bundle: Bundle, kind: str) -> None:
    name = PROC_NAMES[kind]

    inside = probe(runtime, bundle, f"readlink /proc/self/ns/{name}").strip()

    assert inside.startswith(f"{name}:[")
    assert inside != os.readlink(f"/proc/self/ns/{name}")


@pytest.mark.parametrize("kind", ["pid", "network", "ipc", "uts", "cgroup"])
def test_a_namespace_left_out_is_the_hosts(runtime: Runtime, bundle: Bundle, kind: str) -> None:
    name = PROC_NAMES[kind]
    leave_out(bundle, kind)

    inside = probe(runtime, bundle, f"readlink /proc/self/ns/{name}").strip()

    assert inside == os.readlink(f"/proc/self/ns/{name}")


def test_pid_namespace_makes_the_process_pid_1(runtime: Runtime, bundle: Bundle) -> None:
    lines = probe_lines(runtime, bundle, "echo $$; grep PPid /proc/self/status")

    assert lines == ["1", "PPid:\t0"]


def test_pid_namespace_shows_only_the_containers_processes(
    runtime: Runtime, bundle: Bundle
) -> None:
    # A glob, not ls: the shell forks nothing, so it is alone.
    assert probe(runtime, bundle, "echo /proc/[0-9]*").split() == ["/proc/1"]


def test_uts_namespace_sets_the_hostname(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["hostname"] = "dockyard-uts"

    assert probe(runtime, bundle, "hostname") == "dockyard-uts\n"
    assert os.uname().nodename != "dockyard-uts"


@not_on_runc("domainname is not supported (added in runc 1.2)")
def test_uts_namespace_sets_the_domainname(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["domainname"] = "example.test"

    assert probe(runtime, bundle, "cat /proc/sys/kernel/domainname") == "example.test\n"
    assert Path("/proc/sys/kernel/domainname").read_text() != "example.test\n"


@pytest.fixture
def host_shm_segment() -> Iterator[str]:
    """A System V shared memory segment of the host's ipc namespace; its id."""
    made = subprocess.run(["ipcmk", "-M", "4096"], check=True, capture_output=True, text=True)
    shmid = made.stdout.split()[-1]
    yield shmid
    subprocess.run(["ipcrm", "-m", shmid], check=False, capture_output=True)


@requires("binary:ipcmk")
def test_ipc_namespace_hides_the_hosts_objects(
    runtime: Runtime, bundle: Bundle, host_shm_segment: str
) -> None:
    def shmids(table: str) -> list[str]:
        return [line.split()[1] for line in table.splitlines()[1:]]

    assert host_shm_segment in shmids(Path("/proc/sysvipc/shm").read_text())

    assert shmids(probe(runtime, bundle, "cat /proc/sysvipc/shm")) == []


def test_network_namespace_has_only_loopback(runtime: Runtime, bundle: Bundle) -> None:
    lines = probe_lines(runtime, bundle, "cat /proc/net/dev")

    interfaces = [line.split(":")[0].strip() for line in lines[2:]]  # two header lines
    assert interfaces == ["lo"]


def test_network_namespace_loopback_is_up(runtime: Runtime, bundle: Bundle) -> None:
    # Not in the spec, but runc and crun do it, and images expect 127.0.0.1.
    flags = int(probe(runtime, bundle, "cat /sys/class/net/lo/flags"), 16)

    assert flags & 0x1, f"lo is down (flags {flags:#x})"  # IFF_UP


def test_cgroup_namespace_makes_the_cgroup_the_root(runtime: Runtime, bundle: Bundle) -> None:
    lines = probe_lines(runtime, bundle, "cat /proc/self/cgroup")

    assert lines
    # hierarchy-id:controllers:path, one line per hierarchy (v1) or "0::/" (v2)
    assert {line.split(":", 2)[2] for line in lines} == {"/"}, lines


@requires("userns")
def test_user_namespace_maps_ids(
    runtime: Runtime, busybox_rootfs: Path, host_dir: Path, test_marker: str
) -> None:
    # Container root is host uid 100000: the image must belong to it, and the
    # bundle must be where that uid can reach (tmp_path's parents are 0700).
    bundle = Bundle.create(host_dir / "bundle", rootfs_source=busybox_rootfs)
    bundle.process["env"].append(leaks.marker_env(test_marker))
    subprocess.run(["chown", "-R", "-h", "100000:100000", bundle.rootfs], check=True)
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}

    lines = probe(
        runtime,
        bundle,
        "cat /proc/self/uid_map /proc/self/gid_map; id; touch /tmp/made-inside",
        writable_root=True,
    ).splitlines()

    assert [line.split() for line in lines[:2]] == [["0", "100000", "65536"]] * 2
    assert lines[2].startswith("uid=1000(test) gid=1000(test)"), lines[2]
    made = (bundle.rootfs / "tmp/made-inside").stat()
    assert (made.st_uid, made.st_gid) == (101000, 101000)


@requires("userns")
def test_user_namespace_root_is_root_inside(runtime: Runtime, bundle: Bundle) -> None:
    # A mapping that includes host root: the image needs no chown.
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 2000}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 2000}]

    lines = probe_lines(runtime, bundle, "id -u; id -g; readlink /proc/self/ns/user")

    assert lines[:2] == ["0", "0"]
    assert lines[2] != os.readlink("/proc/self/ns/user")


@requires("userns")
def test_a_mapping_the_kernel_refuses_fails_create_clearly(
    runtime: Runtime, bundle: Bundle
) -> None:
    # Overlapping ranges: the kernel refuses the uid_map write (EINVAL), while
    # the container's side waits for it. Create must fail, not hang.
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    overlapping = [
        {"containerID": 0, "hostID": 100000, "size": 10},
        {"containerID": 5, "hostID": 200000, "size": 10},
    ]
    bundle.config["linux"]["uidMappings"] = overlapping
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 10}]
    bundle.write()

    result = runtime("create", "--bundle", bundle.path, runtime.new_id(), check=False, timeout=20)

    assert result.returncode != 0
    assert "uid_map" in result.stderr or "mapping" in result.stderr, result.stderr
    assert runtime("list", "-q").stdout.strip() == ""


@requires("timens")
@not_on_runc("no time namespace support (added in runc 1.2)")
def test_time_namespace_offsets_the_clocks(runtime: Runtime, bundle: Bundle) -> None:
    day = 86400
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.config["linux"]["timeOffsets"] = {
        "monotonic": {"secs": day, "nanosecs": 0},
        "boottime": {"secs": 2 * day, "nanosecs": 0},
    }
    before = float(Path("/proc/uptime").read_text().split()[0])

    lines = probe_lines(runtime, bundle, "cat /proc/self/timens_offsets /proc/uptime")

    after = float(Path("/proc/uptime").read_text().split()[0])
    assert [line.split() for line in lines[:2]] == [
        ["monotonic", str(day), "0"],
        ["boottime", str(2 * day), "0"],
    ]
    uptime = float(lines[2].split()[0])  # the boot-time clock
    assert before + 2 * day <= uptime <= after + 2 * day


def test_joins_a_network_namespace_by_path(runtime: Runtime, bundle: Bundle, netns: Path) -> None:
    namespace(bundle, "network")["path"] = str(netns)

    inside = probe(runtime, bundle, "readlink /proc/self/ns/net").strip()

    assert inside == f"net:[{netns.stat().st_ino}]"


def test_joins_the_uts_namespace_of_another_container(
    runtime: Runtime, bundle: Bundle, make_bundle: MakeBundle
) -> None:
    bundle.config["hostname"] = "first-container"
    first = run_sleeper(runtime, bundle)
    second = make_bundle("second")
    leave_out(second, "uts")
    uts = f"/proc/{runtime.state(first)['pid']}/ns/uts"
    second.config["linux"]["namespaces"].append({"type": "uts", "path": uts})

    lines = probe_lines(runtime, second, "hostname; readlink /proc/self/ns/uts")

    assert lines == ["first-container", os.readlink(uts)]


def test_a_hostname_is_set_in_a_joined_uts_namespace(
    runtime: Runtime, bundle: Bundle, make_bundle: MakeBundle
) -> None:
    # As runc does: the name goes to the namespace joined, where the other
    # container sees it too.
    bundle.config["hostname"] = "first-container"
    first = run_sleeper(runtime, bundle)
    second = make_bundle("second")
    leave_out(second, "uts")
    uts = f"/proc/{runtime.state(first)['pid']}/ns/uts"
    second.config["linux"]["namespaces"].append({"type": "uts", "path": uts})
    second.config["hostname"] = "second-container"

    assert probe(runtime, second, "hostname") == "second-container\n"
    assert runtime("exec", first, "hostname").stdout == "second-container\n"


def test_an_unknown_namespace_type_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["namespaces"].append({"type": "bogus"})

    result = run_probe(runtime, bundle, "true")

    assert_refused(result, "linux.namespaces", "bogus")


def test_a_namespace_of_another_type_is_refused(
    runtime: Runtime, bundle: Bundle, netns: Path
) -> None:
    leave_out(bundle, "uts")
    bundle.config["linux"]["namespaces"].append({"type": "uts", "path": str(netns)})

    result = run_probe(runtime, bundle, "hostname")

    assert_refused(result, "uts", str(netns))


def test_a_missing_namespace_path_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    missing = bundle.path / "no-such-namespace"
    namespace(bundle, "network")["path"] = str(missing)

    result = run_probe(runtime, bundle, "true")

    assert_refused(result, str(missing))

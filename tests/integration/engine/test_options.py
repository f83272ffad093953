"""The run/create flags that shape the container's spec, each checked from inside it (or from
its cgroup on the host), and the image's own config honoured as Docker does."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages

#: Docker's default capability set as a /proc/PID/status mask
DOCKER_CAPS = 0x00000000A80425FB


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def sh(dockyard: Dockyard, *flags_then_image_and_script: str) -> str:
    """``run --rm FLAGS... IMAGE sh -c SCRIPT``; its stdout."""
    *flags, image, script = flags_then_image_and_script
    return dockyard.run("run", "--rm", *flags, image, "sh", "-c", script).stdout


def status_field(text: str, name: str) -> str:
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{name} not in {text!r}")


def test_the_images_config_is_honoured(dockyard: Dockyard, engine_images: EngineImages) -> None:
    image = engine_images.configured
    dockyard.run("pull", image)

    assert dockyard.run("run", "--rm", image).stdout == "entry default-arg\n"
    assert dockyard.run("run", "--rm", image, "mine").stdout == "entry mine\n"
    inside = dockyard.run(
        "run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
        "id -u; id -g; pwd; echo $FROM_IMAGE $HOME $PATH",
    ).stdout.splitlines()  # fmt: skip
    assert inside == ["1000", "1000", "/work/dir", "yes /tmp /usr/local/bin:/bin"]
    dockyard.run("create", "--name", "cfg", image)
    config = dockyard.inspect("cfg")["Config"]
    assert config["StopSignal"] == "SIGUSR1"  # type: ignore[index]
    assert config["Labels"] == {"from": "image"}  # type: ignore[index]
    assert config["Entrypoint"] == ["/bin/echo", "entry"]  # type: ignore[index]
    assert config["Cmd"] == ["default-arg"]  # type: ignore[index]


def test_env_workdir_user_and_entrypoint_flags(dockyard: Dockyard, bb: str, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# a comment\nFROM_FILE=file\n\nBOTH=file\n")
    out = sh(
        dockyard, "-e", "A=1", "--env", "BOTH=flag", "--env-file", str(env_file),
        "-w", "/var/new/dir", "-u", "nobody", bb,
        "echo $A $FROM_FILE $BOTH $HOME; pwd; id -un",
    )  # fmt: skip
    assert out.splitlines() == ["1 file flag /nonexistent", "/var/new/dir", "nobody"]
    assert sh(dockyard, "-u", "1000:1000", bb, "id -u; id -g") == "1000\n1000\n"
    echoed = dockyard.run("run", "--rm", "--entrypoint", "echo", bb, "a", "b").stdout
    assert echoed == "a b\n"
    missing_user = dockyard.run("run", "--rm", "-u", "nosuchuser", bb, "true", check=False)
    assert missing_user.returncode == 125
    assert "unable to find user nosuchuser" in missing_user.stderr


def test_the_environment_docker_gives(dockyard: Dockyard, bb: str) -> None:
    env = dockyard.run("run", "--rm", "--name", "envbox", "-h", "myhost", bb, "env").stdout
    lines = env.splitlines()

    assert lines[0].startswith("PATH=")
    assert "HOSTNAME=myhost" in lines and "HOME=/root" in lines
    assert not any(line.startswith("TERM=") for line in lines)


def test_hostname_domainname_labels_and_etc_files(dockyard: Dockyard, bb: str) -> None:
    out = sh(
        dockyard, "--hostname", "box1", "--domainname", "example.org", "-l", "team=core",
        "-l", "bare", bb,
        "hostname; cat /etc/hostname; grep -c localhost /etc/hosts; "
        "grep -v '^#' /etc/resolv.conf | grep -c nameserver; "
        "grep -E ' /etc/(hosts|hostname|resolv.conf) ' /proc/self/mountinfo | wc -l",
    )  # fmt: skip
    hostname, etc_hostname, localhost, nameservers, bound = out.split()
    assert (hostname, etc_hostname) == ("box1", "box1")
    assert int(localhost) >= 2 and int(nameservers) >= 1 and bound == "3"
    cid = dockyard.run("create", "-l", "team=core", "-l", "bare", bb, "true").stdout.strip()
    assert dockyard.inspect(cid)["Config"]["Labels"] == {"team": "core", "bare": ""}  # type: ignore[index]
    assert dockyard.inspect(cid)["Config"]["Hostname"] == cid[:12]  # type: ignore[index]


def test_dockers_default_confinement(dockyard: Dockyard, bb: str) -> None:
    status = sh(dockyard, bb, "cat /proc/self/status")
    masked = sh(dockyard, bb, "cat /proc/keys | wc -c; ls /sys/firmware | wc -l")
    readonly = dockyard.run(
        "run", "--rm", bb, "sh", "-c", "echo 1 > /proc/sys/kernel/domainname", check=False
    )

    assert int(status_field(status, "CapBnd"), 16) == DOCKER_CAPS
    assert int(status_field(status, "CapEff"), 16) == DOCKER_CAPS
    assert status_field(status, "Seccomp") == "2"
    assert status_field(status, "NoNewPrivs") == "0"
    assert masked.split() == ["0", "0"]
    assert readonly.returncode != 0


def test_capabilities_privileged_and_security_opts(
    dockyard: Dockyard, bb: str, tmp_path: Path
) -> None:
    only = sh(dockyard, "--cap-drop", "ALL", "--cap-add", "net_admin", bb, "cat /proc/self/status")
    dropped = sh(dockyard, "--cap-drop", "CHOWN", bb, "cat /proc/self/status")
    privileged = sh(dockyard, "--privileged", bb, "cat /proc/self/status; ls /dev | wc -l")
    unconfined = sh(dockyard, "--security-opt", "seccomp=unconfined", bb, "cat /proc/self/status")
    nnp = sh(dockyard, "--security-opt", "no-new-privileges", bb, "cat /proc/self/status")
    profile = tmp_path / "profile.json"
    profile.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
                ],
            }
        )
    )
    denied = dockyard.run(
        "run", "--rm", "--security-opt", f"seccomp={profile}", bb, "mkdir", "/x", check=False
    )

    assert int(status_field(only, "CapBnd"), 16) == 1 << 12
    assert int(status_field(dropped, "CapBnd"), 16) == DOCKER_CAPS & ~1
    own = int(status_field(Path("/proc/self/status").read_text(), "CapBnd"), 16)
    assert int(status_field(privileged, "CapBnd"), 16) == own  # all the engine may give
    assert status_field(privileged, "Seccomp") == "0"
    assert int(privileged.splitlines()[-1]) > 20  # the host's devices
    assert status_field(unconfined, "Seccomp") == "0"
    assert status_field(nnp, "NoNewPrivs") == "1"
    assert denied.returncode != 0 and "Operation not permitted" in denied.stderr
    bad = dockyard.run("run", "--rm", "--cap-add", "NOT_A_CAP", bb, "true", check=False)
    assert bad.returncode == 125 and "unknown capability" in bad.stderr


def test_read_only_root_with_tmpfs_and_mounts(dockyard: Dockyard, bb: str) -> None:
    out = sh(
        dockyard, "--read-only", "--tmpfs", "/run:size=1m,mode=700", "--mount",
        "type=tmpfs,target=/scratch,tmpfs-size=2m", bb,
        "touch /file 2>/dev/null && echo writable || echo readonly; "
        "touch /run/x /scratch/y && echo tmpfs-ok; stat -c %a /run; "
        "grep ' /run ' /proc/mounts | grep -o 'size=[0-9]*k'",
    )  # fmt: skip
    assert out.split() == ["readonly", "tmpfs-ok", "700", "size=1024k"]


def cgroup_file(dockyard: Dockyard, controller: str, container_id: str, name: str) -> str:
    path = Path("/sys/fs/cgroup") / controller / dockyard.cgroup_parent.strip("/") / container_id
    return (path / name).read_text().strip()


def test_resource_limits_reach_the_cgroup(dockyard: Dockyard, bb: str) -> None:
    if not Path("/sys/fs/cgroup/memory").is_dir():
        pytest.skip("this test reads cgroup v1 files")
    cid = dockyard.run(
        "run", "-d", "--memory", "64m", "--memory-reservation", "32m", "--cpus", "0.5",
        "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "50", bb, "sleep", "1000",
    ).stdout.strip()  # fmt: skip

    assert cgroup_file(dockyard, "memory", cid, "memory.limit_in_bytes") == str(64 << 20)
    assert cgroup_file(dockyard, "memory", cid, "memory.soft_limit_in_bytes") == str(32 << 20)
    assert cgroup_file(dockyard, "cpu", cid, "cpu.cfs_quota_us") == "50000"
    assert cgroup_file(dockyard, "cpu", cid, "cpu.cfs_period_us") == "100000"
    assert cgroup_file(dockyard, "cpu", cid, "cpu.shares") == "512"
    assert cgroup_file(dockyard, "cpuset", cid, "cpuset.cpus") == "0"
    assert cgroup_file(dockyard, "pids", cid, "pids.max") == "50"
    host = dockyard.inspect(cid)["HostConfig"]
    assert host["Memory"] == 64 << 20 and host["NanoCpus"] == 500_000_000  # type: ignore[index]
    assert host["PidsLimit"] == 50  # type: ignore[index]


def test_ulimits_shm_and_sysctls(dockyard: Dockyard, bb: str) -> None:
    out = sh(
        dockyard, "--ulimit", "nofile=100:200", "--shm-size", "8m", "--sysctl",
        "net.ipv4.ip_forward=1", bb,
        "ulimit -n; ulimit -Hn; grep ' /dev/shm ' /proc/mounts | grep -o 'size=[0-9]*k'; "
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_unprivileged_port_start",
    )  # fmt: skip
    assert out.split() == ["100", "200", "size=8192k", "1", "0"]
    refused = dockyard.run("run", "--rm", "--sysctl", "kernel.panic=1", bb, "true", check=False)
    assert refused.returncode == 125 and "not namespaced" in refused.stderr


def test_devices_and_groups(dockyard: Dockyard, bb: str) -> None:
    out = sh(
        dockyard, "--device", "/dev/null:/dev/mynull:rw", "--group-add", "1234", "--group-add",
        "tty", bb, "stat -c '%t:%T %F' /dev/mynull; echo hi > /dev/mynull && echo wrote; id -G",
    )  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "1:3 character special file"
    assert lines[1] == "wrote"
    assert {"0", "1234", "5"} <= set(lines[2].split())


def test_namespace_modes(dockyard: Dockyard, bb: str) -> None:
    own = sh(
        dockyard, bb, "cat /proc/1/comm; ls /sys/class/net; hostname; readlink /proc/self/ns/ipc"
    )
    shared = sh(
        dockyard, "--pid", "host", "--uts", "host", "--ipc", "host", "--network", "host", bb,
        "cat /proc/1/comm; ls /sys/class/net | wc -l; hostname; readlink /proc/self/ns/ipc",
    )  # fmt: skip
    own_lines, shared_lines = own.split(), shared.split()

    assert own_lines[:3] == ["sh", "eth0", "lo"]  # the default bridge network
    assert own_lines[4] != os.readlink("/proc/self/ns/ipc")
    assert shared_lines[0] != "sh"  # the host's init
    assert int(shared_lines[1]) >= 2  # the host's interfaces, not just lo
    assert shared_lines[2] == os.uname().nodename
    assert shared_lines[3] == os.readlink("/proc/self/ns/ipc")
    none = sh(dockyard, "--network", "none", bb, "ls /sys/class/net")
    assert none.split() == ["lo"]
    bad = dockyard.run("run", "--rm", "--network", "nosuchnet", bb, "true", check=False)
    assert bad.returncode == 125 and "network nosuchnet not found" in bad.stderr


def test_stop_signal_and_timeout(dockyard: Dockyard, bb: str) -> None:
    script = "trap 'echo got-usr1; exit 7' USR1; echo ready; while :; do sleep 0.1; done"
    dockyard.run(
        "run", "-d", "--name", "polite", "--stop-signal", "SIGUSR1", bb, "sh", "-c", script
    )
    dockyard.run("run", "-d", "--name", "stubborn", "--stop-timeout", "1", bb, "sleep", "1000")

    dockyard.run("stop", "polite")
    dockyard.run("stop", "stubborn")

    assert dockyard.inspect("polite")["State"]["ExitCode"] == 7  # type: ignore[index]
    assert "got-usr1" in dockyard.run("logs", "polite").stdout
    assert dockyard.inspect("stubborn")["State"]["ExitCode"] == 137  # type: ignore[index]
    assert dockyard.inspect("stubborn")["Config"]["StopTimeout"] == 1  # type: ignore[index]


def test_the_primary_group_is_among_the_supplementary_ones(dockyard: Dockyard, bb: str) -> None:
    """Docker's daemon puts the user's own group in additionalGids: `id` in its containers
    says groups=0(root), and /proc/self/status's Groups is never empty."""
    out = sh(
        dockyard, bb,
        "grep Groups /proc/self/status; id -G",
    )  # fmt: skip
    assert out.split() == ["Groups:", "0", "0"]
    assert sh(dockyard, "-u", "test", bb, "id -G") == "1000\n"
    assert sh(dockyard, "-u", "test:tty", bb, "id -G") == "5\n"
    assert sh(dockyard, "-u", "nobody", "--group-add", "5", bb, "id -G") == "65534 5\n"
    dockyard.run("run", "-d", "--name", "grouped", bb, "sleep", "1000")
    assert dockyard.run("exec", "-u", "test", "grouped", "id", "-G").stdout == "1000\n"


def test_more_of_dockers_resource_options(dockyard: Dockyard, bb: str, tmp_path: Path) -> None:
    """--cpu-period/--cpu-quota, --memory-swappiness, --oom-kill-disable, --oom-score-adj
    (an exec gets it too, as runc gives it), --device-cgroup-rule, --cgroupns, each where
    Docker puts it; and what Docker's daemon fills in (swap twice the memory)."""
    if not Path("/sys/fs/cgroup/memory").is_dir():
        pytest.skip("this test reads cgroup v1 files")
    cid = dockyard.run(
        "run", "-d", "--cpu-period", "50000", "--cpu-quota", "25000", "--memory", "64m",
        "--memory-swappiness", "10", "--oom-kill-disable", "--oom-score-adj", "123",
        "--device-cgroup-rule", "c 1:3 rwm", "--cgroupns", "private", bb, "sleep", "1000",
    ).stdout.strip()  # fmt: skip

    assert cgroup_file(dockyard, "cpu", cid, "cpu.cfs_period_us") == "50000"
    assert cgroup_file(dockyard, "cpu", cid, "cpu.cfs_quota_us") == "25000"
    assert cgroup_file(dockyard, "memory", cid, "memory.swappiness") == "10"
    assert "oom_kill_disable 1" in cgroup_file(dockyard, "memory", cid, "memory.oom_control")
    assert "c 1:3 rwm" in cgroup_file(dockyard, "devices", cid, "devices.list").splitlines()
    inside = dockyard.run(
        "exec",
        cid,
        "sh",
        "-c",
        "cat /proc/1/oom_score_adj; cat /proc/self/oom_score_adj; cat /proc/self/cgroup",
    )
    lines = inside.stdout.splitlines()
    assert lines[:2] == ["123", "123"]
    assert all(line.endswith(":/") for line in lines[2:])  # a cgroup namespace of its own
    host = dockyard.inspect(cid)["HostConfig"]
    assert (host["CpuPeriod"], host["CpuQuota"], host["MemorySwappiness"]) == (50000, 25000, 10)  # type: ignore[index]
    assert (host["OomKillDisable"], host["OomScoreAdj"], host["CgroupnsMode"]) == (
        True,
        123,
        "private",
    )  # type: ignore[index]
    assert host["DeviceCgroupRules"] == ["c 1:3 rwm"]  # type: ignore[index]
    assert host["MemorySwap"] == 128 << 20  # type: ignore[index]


def test_dockers_refusals_of_resource_options(dockyard: Dockyard, bb: str) -> None:
    refusals = {
        ("--cpus", "1", "--cpu-period", "50000"): "Nano CPUs and CPU Period cannot both be set",
        ("--cpu-quota", "10"): "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ("--memory", "1k"): "Minimum memory limit allowed is 6MB",
        ("--memory-swappiness", "101"): "valid memory swappiness range is 0-100",
        ("--oom-score-adj", "5000"): "range for oom score adj is [-1000, 1000]",
        ("--device-cgroup-rule", "x 1:3 rwm"): "invalid device cgroup format 'x 1:3 rwm'",
        ("--cgroupns", "bogus"): "invalid cgroup namespace mode",
    }
    for flags, words in refusals.items():
        out = dockyard.run("create", *flags, bb, check=False)
        assert out.returncode == 1 and words in out.stderr, (flags, out.stderr)
    assert dockyard.ids() == []


def test_label_file_cidfile_and_volumes_from(dockyard: Dockyard, bb: str, tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    labels.write_text("# a comment\nteam=core\nbare\nboth=file\n")
    cidfile = tmp_path / "cid"
    cid = dockyard.run(
        "run", "-d", "--name", "holder", "--label-file", str(labels), "-l", "both=flag",
        "--cidfile", str(cidfile), "-v", "shared:/shared", "-v", "/anon", bb,
        "sh", "-c", "echo from-holder > /shared/f; echo anon > /anon/f; sleep 1000",
    ).stdout.strip()  # fmt: skip
    # Docker's CLI skips a label file's KEY alone, and -l comes after the file
    assert dockyard.inspect(cid)["Config"]["Labels"] == {"team": "core", "both": "flag"}  # type: ignore[index]
    assert cidfile.read_text() == cid  # the id alone, no newline
    again = dockyard.run("create", "--cidfile", str(cidfile), bb, check=False)
    assert again.returncode == 1 and "Container ID file found" in again.stderr

    wait_for_file = "while [ ! -s /shared/f ] || [ ! -s /anon/f ]; do sleep 0.05; done; "
    out = sh(
        dockyard,
        "--volumes-from",
        "holder:ro",
        bb,
        wait_for_file + "cat /shared/f /anon/f; touch /shared/x 2>/dev/null || echo read-only",
    )
    assert out.splitlines() == ["from-holder", "anon", "read-only"]
    dockyard.run("rm", "-f", "-v", "holder")
    # the anonymous volume went with its container, the named one stays
    assert dockyard.run("volume", "ls", "-q").stdout.split() == ["shared"]

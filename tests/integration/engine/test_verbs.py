"""The container verbs as a user types them: create/start/stop/restart/kill/rm/wait, logs,
ps, inspect, and how names and id prefixes resolve."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def test_create_then_start_then_restart(dockyard: Dockyard, bb: str) -> None:
    cid = dockyard.run(
        "create", "--name", "later", bb, "sh", "-c", "echo run; sleep 1000"
    ).stdout.strip()
    assert dockyard.inspect("later")["State"]["Status"] == "created"  # type: ignore[index]
    assert dockyard.run("ps", "-q").stdout == ""
    assert dockyard.run("ps", "-aq").stdout == f"{cid[:12]}\n"

    assert dockyard.run("start", "later").stdout == "later\n"
    first = dockyard.inspect("later")["State"]
    assert first["Status"] == "running" and first["Pid"] > 0  # type: ignore[index,operator]
    assert dockyard.run("start", "later").stdout == "later\n"  # running: nothing to do

    assert dockyard.run("restart", "-t", "0", "later").stdout == "later\n"
    second = dockyard.inspect("later")["State"]
    assert second["Status"] == "running" and second["Pid"] != first["Pid"]  # type: ignore[index]
    assert dockyard.run("logs", "later").stdout == "run\nrun\n"


def test_kill_stop_and_wait(dockyard: Dockyard, bb: str) -> None:
    script = "trap 'exit 42' HUP; while :; do sleep 0.1; done"
    dockyard.run("run", "-d", "--name", "kk", bb, "sh", "-c", script)
    waiter = dockyard.popen("wait", "kk", stdout=subprocess.PIPE)
    time.sleep(0.3)

    assert dockyard.run("kill", "-s", "HUP", "kk").stdout == "kk\n"
    out, _ = waiter.communicate(timeout=30)
    assert out == b"42\n"
    assert dockyard.inspect("kk")["State"]["ExitCode"] == 42  # type: ignore[index]
    refused = dockyard.run("kill", "kk", check=False)
    cid = dockyard.inspect("kk")["Id"]
    # Docker's daemon's words, the prefix on every kill it refuses
    assert refused.returncode == 1
    assert refused.stderr == (
        f"Error response from daemon: Cannot kill container: kk: Container {cid} is not running\n"
    )
    missing = dockyard.run("kill", "nothing", check=False)
    assert missing.stderr == (
        "Error response from daemon: Cannot kill container: nothing: No such container: nothing\n"
    )
    zero = dockyard.run("kill", "-s", "0", "kk", check=False)
    assert zero.returncode == 1 and "Invalid signal: 0" in zero.stderr
    assert dockyard.run("stop", "kk").stdout == "kk\n"  # stopped already: fine, as Docker
    assert dockyard.run("wait", "kk").stdout == "42\n"


def test_rm_refuses_a_running_container_unless_forced(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "-d", "--name", "busy", bb, "sleep", "1000")

    refused = dockyard.run("rm", "busy", check=False)
    assert refused.returncode == 1
    assert "stop the container before removing or force remove" in refused.stderr
    assert dockyard.run("rm", "-f", "busy").stdout == "busy\n"
    assert dockyard.ids() == []
    missing = dockyard.run("rm", "busy", check=False)
    assert missing.returncode == 1 and "No such container: busy" in missing.stderr
    assert dockyard.run("rm", "-f", "busy").returncode == 0


def test_names_and_id_prefixes_resolve_as_dockers(dockyard: Dockyard, bb: str) -> None:
    cid = dockyard.run("create", "--name", "alpha", bb, "true").stdout.strip()
    taken = dockyard.run("create", "--name", "alpha", bb, "true", check=False)
    bad_name = dockyard.run("create", "--name", "-x", bb, "true", check=False)

    assert dockyard.inspect(cid[:5])["Name"] == "/alpha"
    assert dockyard.inspect("/alpha")["Id"] == cid
    # Docker's `create`: what the daemon refuses exits 1 ("Error response from daemon: ...");
    # an option its CLI cannot read, 125
    assert taken.returncode == 1
    assert taken.stderr.startswith(
        'Error response from daemon: Conflict. The container name "/alpha"'
    )
    assert bad_name.returncode == 1 and "Invalid container name" in bad_name.stderr
    bad_option = dockyard.run("create", "--cpus", "x", bb, check=False)
    assert bad_option.returncode == 125 and "'x' for --cpus" in bad_option.stderr
    unnamed = dockyard.run("create", bb, "true").stdout.strip()
    name = dockyard.inspect(unnamed)["Name"]
    assert isinstance(name, str) and "_" in name


def test_logs_follow_tail_timestamps_since_until(dockyard: Dockyard, bb: str) -> None:
    dockyard.run(
        "run", "-d", "--name", "talker", bb, "sh", "-c",
        "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.3; done",
    )  # fmt: skip
    followed = dockyard.run("logs", "-f", "talker", timeout=60)
    assert followed.stdout == "out1\nout2\nout3\n"
    assert followed.stderr == "err1\nerr2\nerr3\n"

    tail = dockyard.run("logs", "--tail", "1", "talker")
    assert (tail.stdout + tail.stderr).count("\n") == 1
    stamped = dockyard.run("logs", "-t", "talker").stdout.splitlines()
    assert stamped[0].endswith(" out1") and stamped[0][:4].isdigit() and "T" in stamped[0]
    assert dockyard.run("logs", "--since", "1h", "talker").stdout == "out1\nout2\nout3\n"
    assert dockyard.run("logs", "--until", "1h", "talker").stdout == ""
    first_time = stamped[0].split()[0]
    assert dockyard.run("logs", "--until", first_time, "talker").stdout == "out1\n"
    # Docker's CLI takes a date alone, and --details puts the log's attributes and a space
    assert dockyard.run("logs", "--until", "2000-01-01", "talker").stdout == ""
    assert dockyard.run("logs", "--since", "2000-01-01T00:00Z", "talker").stdout.count("\n") == 3
    detailed = dockyard.run("logs", "--details", "-t", "talker").stdout.splitlines()
    assert detailed[0].split(" ", 1)[1] == " out1"


def test_log_driver_none_and_rotation(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "--name", "silent", "--log-driver", "none", bb, "echo", "hi")
    refused = dockyard.run("logs", "silent", check=False)
    assert refused.returncode == 1 and "does not support reading" in refused.stderr

    dockyard.run(
        "run", "--name", "chatty", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", bb,
        "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done",
    )  # fmt: skip
    log = dockyard.inspect("chatty")["LogPath"]
    assert isinstance(log, str)
    from pathlib import Path

    assert Path(log).stat().st_size < 2048 and Path(log + ".1").exists()
    assert not Path(log + ".2").exists()
    assert dockyard.run("logs", "chatty").stdout.splitlines()[-1] == "line199"


def test_ps_columns_filters_and_formats(dockyard: Dockyard, bb: str) -> None:
    up = dockyard.run(
        "run", "-d", "--name", "up", "-l", "role=web", bb, "sleep", "1000"
    ).stdout.strip()
    dockyard.run("run", "--name", "done", bb, "sh", "-c", "exit 3", check=False)

    table = dockyard.run("ps").stdout.splitlines()
    assert table[0].split() == [
        "CONTAINER",
        "ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    assert [line.split()[-1] for line in table[1:]] == ["up"]
    assert '"sleep 1000"' in table[1] and "Up " in table[1]
    everything = dockyard.run("ps", "-a").stdout
    assert "Exited (3)" in everything and "done" in everything
    # Docker's daemon quotes the arguments that hold a space
    assert "\"sh -c 'exit 3'\"" in everything
    assert dockyard.run("ps", "-aq", "--filter", "status=exited").stdout.split() != []
    assert dockyard.run("ps", "-q", "--filter", "label=role=web").stdout == f"{up[:12]}\n"
    assert dockyard.run("ps", "-aq", "--filter", "exited=3").stdout.strip() != ""
    assert dockyard.run("ps", "-aq", "--filter", "name=^do").stdout.strip() != ""
    assert dockyard.run("ps", "-aq", "--filter", "ancestor=" + bb).stdout.count("\n") == 2
    assert dockyard.run("ps", "-n", "1", "-q").stdout.count("\n") == 1
    assert dockyard.run("ps", "-lq").stdout == dockyard.run("ps", "-n", "1", "-q").stdout
    assert dockyard.run("ps", "-q", "--no-trunc").stdout == f"{up}\n"
    assert dockyard.run("ps", "--format", "{{.Names}} {{.State}}").stdout == "up running\n"
    sized = dockyard.run("ps", "-s").stdout.splitlines()
    assert sized[0].endswith("SIZE") and "(virtual " in sized[1]
    bad = dockyard.run("ps", "--filter", "color=blue", check=False)
    assert bad.returncode == 1 and "Invalid filter 'color'" in bad.stderr
    bad_status = dockyard.run("ps", "--filter", "status=bogus", check=False)
    assert "Invalid filter 'status=bogus'" in bad_status.stderr
    assert dockyard.run("ps", "-aq", "--filter", "is-task=true").stdout == ""
    assert dockyard.run("ps", "-aq", "--filter", "is-task=false").stdout.count("\n") == 2


def test_inspect_has_dockers_keys(dockyard: Dockyard, bb: str) -> None:
    cid = dockyard.run(
        "run", "-d", "--name", "seen", "-e", "X=1", "--memory", "32m", "-v", "vol:/vol", bb,
        "sleep", "1000",
    ).stdout.strip()  # fmt: skip
    data = json.loads(dockyard.run("inspect", "seen").stdout)

    assert len(data) == 1
    c = data[0]
    for key in ("Id", "Created", "Path", "Args", "State", "Image", "Name", "HostConfig",
                "Mounts", "Config", "LogPath", "Driver", "NetworkSettings"):  # fmt: skip
        assert key in c
    assert c["Id"] == cid and c["Name"] == "/seen" and c["Path"] == "sleep"
    assert c["Args"] == ["1000"] and c["Image"].startswith("sha256:")
    assert c["State"]["Running"] is True and c["State"]["Status"] == "running"
    assert "X=1" in c["Config"]["Env"] and c["Config"]["Image"] == bb
    assert c["HostConfig"]["Memory"] == 32 << 20
    assert c["Mounts"][0]["Type"] == "volume" and c["Mounts"][0]["Name"] == "vol"
    # Docker's HostConfig: every key, zero-valued when unset; its omitempty ones left out
    wanted = ("BlkioWeightDevice", "BlkioDeviceReadBps", "CpuRealtimePeriod", "CpuCount",
              "DeviceCgroupRules", "DeviceRequests", "IOMaximumBandwidth", "Ulimits")  # fmt: skip
    for key in wanted:
        assert key in c["HostConfig"], key
    assert c["HostConfig"]["Ulimits"] == [] and c["HostConfig"]["BlkioWeightDevice"] == []
    for key in ("Init", "Tmpfs", "Sysctls", "Mounts"):
        assert key not in c["HostConfig"], key
    assert (
        dockyard.run("inspect", "-f", "{{.State.Status}} {{.Name}}", "seen").stdout
        == "running /seen\n"
    )
    image = json.loads(dockyard.run("inspect", bb).stdout)[0]
    assert image["Id"] == c["Image"]
    missing = dockyard.run("inspect", "nothing-here", check=False)
    assert missing.returncode == 1 and "No such object: nothing-here" in missing.stderr


def test_inspect_places_each_mount_as_docker_does(
    dockyard: Dockyard, bb: str, tmp_path: Path
) -> None:
    """-v in HostConfig.Binds, --tmpfs in HostConfig.Tmpfs, --mount in HostConfig.Mounts
    (with Docker's TmpfsOptions); .Mounts lists all but --tmpfs."""
    dockyard.run(
        "create", "--name", "placed", "-v", "vol1:/v1", "-v", f"{tmp_path}:/h:ro",
        "--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700",
        "--mount", "type=volume,source=v9,target=/v9,readonly",
        "--tmpfs", "/run:size=2m", bb,
    )  # fmt: skip
    c = dockyard.inspect("placed")
    host = c["HostConfig"]
    assert host["Binds"] == ["vol1:/v1", f"{tmp_path}:/h:ro"]  # type: ignore[index]
    assert host["Tmpfs"] == {"/run": "size=2m"}  # type: ignore[index]
    assert host["Mounts"] == [  # type: ignore[index]
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o700}},
        {"Type": "volume", "Source": "v9", "Target": "/v9", "ReadOnly": True},
    ]
    listed = {m["Destination"]: m for m in c["Mounts"]}  # type: ignore[attr-defined]
    assert sorted(listed) == ["/h", "/t", "/v1", "/v9"]
    assert listed["/t"] == {
        "Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "", "RW": True,
        "Propagation": "",
    }  # fmt: skip

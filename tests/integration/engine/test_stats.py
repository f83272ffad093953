"""``stats`` through the CLI and ``Container.stats`` through the Python API, on real
containers, with Dockyard's runtime and with runc."""

from __future__ import annotations

import json
import re
import subprocess
import time

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client
from tests.support.procs import reaped
from tests.support.wait import read_until, wait_for

COLUMNS = [
    "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS",
]  # fmt: skip
SPIN = "while :; do :; done"
# 24 MiB held in /dev/shm: memory the container keeps, not reclaimable file cache
HOLD = "head -c 25165824 /dev/zero > /dev/shm/hold; sleep 1000"


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_no_stream_shows_dockers_columns_for_running_containers(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    spin = dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "spin", "--memory", "64m",
        engine_images.busybox, "sh", "-c", SPIN,
    ).stdout.strip()  # fmt: skip
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "hold", "--pids-limit", "20",
        "--network", "none",
        engine_images.busybox, "sh", "-c", f"sleep 1000 & sleep 1000 & {HOLD}",
    )  # fmt: skip
    dockyard.run("create", "--name", "idle", engine_images.busybox, "true")
    wait_for(
        lambda: (
            dockyard.run("exec", "hold", "stat", "-c", "%s", "/dev/shm/hold").stdout == "25165824\n"
        ),
        "the hold container to write its 24 MiB",
    )

    started = time.monotonic()
    out = dockyard.run("stats", "--no-stream").stdout.splitlines()
    took = time.monotonic() - started
    assert 0.9 < took < 60, "two samples a second apart, as Docker's daemon takes them"
    assert _columns(out[0]) == COLUMNS
    rows = {cols[1]: cols for cols in map(_columns, out[1:])}
    assert set(rows) == {"spin", "hold"}  # running ones only, without -a
    assert rows["spin"][0] == spin[:12]
    # a spinning shell: much of a core, or its share of two cores that a load of 10 or
    # more (other tests) leaves it; never more than the two cores
    assert 1.0 < float(rows["spin"][2].rstrip("%")) < 220.0
    assert rows["spin"][3].endswith(" / 64MiB")
    used, _, limit = rows["hold"][3].partition(" / ")
    assert used.endswith("MiB") and float(used[:-3]) >= 24, rows["hold"]
    assert limit.endswith("GiB")  # no limit: the host's memory
    assert rows["hold"][5] == "0B / 0B"  # --network none: no interface to count, as Docker
    assert rows["hold"][7] == "3"  # two sleeps, and the shell that execs the last one

    everything = dockyard.run("stats", "--no-stream", "-a", "--no-trunc").stdout.splitlines()
    idle = next(_columns(line) for line in everything if " idle " in line)
    assert len(idle[0]) == 64
    assert idle[2:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"]


def test_named_containers_formats_and_unknown_names(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    box = dockyard.run(
        "run", "-d", "--name", "web", engine_images.busybox, "sleep", "1000"
    ).stdout.strip()
    docs = [
        json.loads(line)
        for line in dockyard.run(
            "stats", "--no-stream", "--format", "{{json .}}", "web"
        ).stdout.splitlines()
    ]
    assert len(docs) == 1
    assert list(docs[0]) == [
        "BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs",
    ]  # fmt: skip
    assert docs[0]["Container"] == "web" and docs[0]["ID"] == box[:12]
    assert docs[0]["Name"] == "web" and docs[0]["PIDs"] == "1"
    table = dockyard.run(
        "stats", "--no-stream", "--format", "table {{.Container}}\t{{.PIDs}}", box[:6]
    ).stdout
    assert table == f"CONTAINER   PIDS\n{box[:6]}      1\n"
    missing = dockyard.run("stats", "--no-stream", "web", "nope", check=False)
    assert missing.returncode == 1
    assert missing.stderr == "Error response from daemon: No such container: nope\n"
    assert missing.stdout == ""


def test_streaming_redraws_and_shows_a_stopped_container_as_dashes(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("run", "-d", "--name", "brief", engine_images.busybox, "sleep", "1000")
    proc = dockyard.popen("stats", "brief", stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def frames_of(got: bytes) -> list[str]:
        return got.decode(errors="replace").split("\033[2J\033[H")[1:]

    with reaped(proc):
        assert proc.stdout is not None
        # two frames of the running container (a frame is whole once the next begins)
        seen = read_until(proc.stdout, lambda got: len(frames_of(got)) >= 3, "three frames")
        dockyard.run("kill", "brief")
        seen = read_until(
            proc.stdout, lambda got: "-- / --" in frames_of(got)[-2], "a frame of dashes", got=seen
        )
        proc.terminate()
        rest, _err = proc.communicate(timeout=30)
    frames = frames_of(seen + rest)
    assert len(frames) >= 4, frames
    assert all(_columns(frame.splitlines()[0]) == COLUMNS for frame in frames[:-1])
    assert _columns(frames[0].splitlines()[1])[1] == "brief"
    last = _columns(frames[-2].splitlines()[1])  # the last whole one (-1 may be cut short)
    assert last[1:] == ["brief", "--", "-- / --", "--", "--", "--", "--"]


def test_net_io_counts_the_containers_own_interfaces(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    """The default bridge network: eth0's counters, from the container's namespace."""
    script = "ping -c 3 -s 1000 -W 1 $(ip route | awk '/default/ {print $3}'); sleep 1000"
    dockyard.run("run", "-d", "--name", "talker", engine_images.busybox, "sh", "-c", script)
    wait_for(lambda: "packets received" in dockyard.run("logs", "talker").stdout, "the three pings")
    client = dockyard_client(dockyard)
    try:
        doc = client.containers.get("talker").stats(stream=False, one_shot=True)
    finally:
        client.close()
    assert set(doc["networks"]) == {"eth0"}  # loopback is not counted
    eth0 = doc["networks"]["eth0"]
    assert eth0["tx_bytes"] >= 3000 and eth0["rx_bytes"] >= 3000  # three 1 kB pings, answered
    assert eth0["tx_packets"] >= 3
    row = _columns(dockyard.run("stats", "--no-stream", "talker").stdout.splitlines()[1])
    rx, _, tx = row[5].partition(" / ")
    assert rx.endswith("kB") and tx.endswith("kB")


def test_network_host_reports_no_networks(dockyard: Dockyard, engine_images: EngineImages) -> None:
    client = dockyard_client(dockyard)
    try:
        host = client.containers.run(
            engine_images.busybox, "sleep 1000", detach=True, network_mode="host"
        )
        doc = host.stats(stream=False, one_shot=True)
        assert "networks" not in doc  # not the host's interfaces: Docker shows none
        host.remove(force=True)
    finally:
        client.close()


def test_the_python_api_gives_dockers_json(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    client = dockyard_client(dockyard)
    try:
        box = client.containers.run(
            engine_images.busybox, ["sh", "-c", SPIN], detach=True, mem_limit="64m",
            runtime=runtime,
        )  # fmt: skip
        doc = box.stats(stream=False)
        for key in ("read", "preread", "cpu_stats", "precpu_stats", "memory_stats"):
            assert key in doc
        for key in ("blkio_stats", "pids_stats", "name", "id"):
            assert key in doc
        assert doc["id"] == box.id and doc["name"] == f"/{box.name}"
        assert doc["precpu_stats"]["system_cpu_usage"] < doc["cpu_stats"]["system_cpu_usage"]
        assert doc["memory_stats"]["limit"] == 64 * 1024 * 1024
        assert doc["pids_stats"]["current"] == 1

        stream = box.stats(decode=True)
        first, second = next(stream), next(stream)
        assert first["preread"] == "0001-01-01T00:00:00Z"
        assert second["precpu_stats"] == first["cpu_stats"]
        assert second["preread"] == first["read"]
        raw = next(box.stats())
        assert isinstance(raw, bytes) and json.loads(raw)["id"] == box.id

        box.kill()
        box.wait()
        stopped = box.stats(stream=False)
        assert stopped["read"] == "0001-01-01T00:00:00Z" and stopped["memory_stats"] == {}
        box.remove()
    finally:
        client.close()

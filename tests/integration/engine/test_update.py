"""``update``: new limits on a live container through the OCI runtime (Dockyard's and
runc's), kept in the record (inspect) and the bundle (a restart keeps them)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client

from dockyard.cgroups.manager import manager_for


def _cgroup_file(dockyard: Dockyard, box: str, controller: str, name: str) -> str:
    """A file of the container's cgroup; v1 names are read from v2's files on cgroup v2."""
    manager = manager_for(f"{dockyard.cgroup_parent}/{box}", box)
    paths = manager.paths()
    if set(paths) != {""}:
        return Path(paths[controller], name).read_text().strip()
    directory = Path(paths[""])

    def read(file: str) -> str:
        return (directory / file).read_text().strip()

    if name == "memory.limit_in_bytes":
        return read("memory.max")
    if name == "memory.memsw.limit_in_bytes":  # v2 limits swap alone
        return str(int(read("memory.max")) + int(read("memory.swap.max")))
    if name == "memory.soft_limit_in_bytes":
        return read("memory.low")
    if name == "cpu.cfs_quota_us":
        quota = read("cpu.max").split()[0]
        return "-1" if quota == "max" else quota
    if name == "cpu.shares":
        return read("cpu.weight")  # see _shares
    return read(name)


def _shares(dockyard: Dockyard, box: str, shares: int) -> str:
    """What the cgroup shows for ``--cpu-shares``: v2's cpu.weight as runc converts it."""
    paths = manager_for(f"{dockyard.cgroup_parent}/{box}", box).paths()
    if set(paths) != {""}:
        return str(shares)
    return str(1 + (shares - 2) * 9999 // 262142)


def _host(dockyard: Dockyard, name: str) -> dict[str, object]:
    return dockyard.inspect(name)["HostConfig"]  # type: ignore[return-value]


def test_update_a_running_container_and_keep_it_across_a_restart(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    box = dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "web", "--memory", "64m",
        engine_images.busybox, "sleep", "1000",
    ).stdout.strip()  # fmt: skip
    out = dockyard.run(
        "update", "--memory", "96m", "--memory-swap", "200m", "--memory-reservation", "32m",
        "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "5", "web",
    ).stdout  # fmt: skip
    assert out == "web\n"

    def limits() -> list[str]:
        return [
            _cgroup_file(dockyard, box, "memory", "memory.limit_in_bytes"),
            _cgroup_file(dockyard, box, "memory", "memory.memsw.limit_in_bytes"),
            _cgroup_file(dockyard, box, "memory", "memory.soft_limit_in_bytes"),
            _cgroup_file(dockyard, box, "cpu", "cpu.cfs_quota_us"),
            _cgroup_file(dockyard, box, "cpu", "cpu.shares"),
            _cgroup_file(dockyard, box, "cpuset", "cpuset.cpus"),
            _cgroup_file(dockyard, box, "pids", "pids.max"),
        ]

    shares = _shares(dockyard, box, 512)
    expected = [str(96 << 20), str(200 << 20), str(32 << 20), "50000", shares, "0", "5"]
    assert limits() == expected
    host = _host(dockyard, "web")
    assert (host["Memory"], host["MemorySwap"], host["MemoryReservation"]) == (
        96 << 20, 200 << 20, 32 << 20,
    )  # fmt: skip
    assert (host["NanoCpus"], host["CpuShares"], host["CpusetCpus"], host["PidsLimit"]) == (
        500_000_000, 512, "0", 5,
    )  # fmt: skip
    dockyard.run("restart", "-t", "0", "web")
    assert limits() == expected
    events = dockyard.run(
        "events", "--since", "5m", "--until", "0s", "-f", "event=update", "-f", "container=web"
    ).stdout
    assert len(events.splitlines()) == 1


def test_a_stopped_container_gets_its_new_limits_when_it_starts(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    box = dockyard.run(
        "create", "--runtime", runtime, "--name", "later", engine_images.busybox, "sleep", "1000"
    ).stdout.strip()
    assert dockyard.run("update", "--pids-limit", "10", "later").stdout == "later\n"
    assert _host(dockyard, "later")["PidsLimit"] == 10
    dockyard.run("start", "later")
    assert _cgroup_file(dockyard, box, "pids", "pids.max") == "10"
    # sleep 1000 and the exec's shell hold two of the ten: eight more forks, not twelve.
    # (Ten, not three: runc's exec helper is a Go program whose threads count as pids
    # until it becomes the shell; with three it died at random, "read init-p".)
    forks = dockyard.run(
        "exec", "later", "sh", "-c", "for i in $(seq 12); do sleep 5 & done; wait", check=False
    )
    assert "can't fork" in forks.stderr or "Resource temporarily unavailable" in forks.stderr
    dockyard.run("update", "--pids-limit", "-1", "later")
    assert _cgroup_file(dockyard, box, "pids", "pids.max") == "max"
    assert _host(dockyard, "later")["PidsLimit"] in (None, 0)


def test_update_refusals_are_dockers(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run(
        "run", "-d", "--name", "box", "--memory", "64m", engine_images.busybox, "sleep", "1000"
    )
    above_swap = dockyard.run("update", "--memory", "200m", "box", check=False)
    assert above_swap.returncode == 1
    box_id = dockyard.inspect("box")["Id"]
    assert above_swap.stderr == (
        f"Error response from daemon: Cannot update container {box_id}: Memory limit should "
        "be smaller than already set memoryswap limit, update the memoryswap at the same time\n"
    )
    none = dockyard.run("update", "box", check=False)
    assert (none.returncode, none.stderr) == (
        1, "you must provide one or more flags when using this command\n",
    )  # fmt: skip
    tiny = dockyard.run("update", "--memory", "1m", "box", check=False)
    assert tiny.stderr == "Error response from daemon: Minimum memory limit allowed is 6MB\n"
    cpus = dockyard.run("update", "--cpuset-cpus", "0-4095", "box", check=False)
    assert "Requested CPUs are not available - requested 0-4095, available: " in cpus.stderr
    missing = dockyard.run("update", "--cpus", "1", "nope", "box", check=False)
    assert missing.returncode == 1
    assert missing.stdout == "box\n"
    assert missing.stderr == "Error response from daemon: No such container: nope\n"
    assert _host(dockyard, "box")["Memory"] == 64 << 20  # the refusals changed nothing


def test_the_python_api_updates(dockyard: Dockyard, engine_images: EngineImages) -> None:
    client = dockyard_client(dockyard)
    try:
        box = client.containers.run(engine_images.busybox, "sleep 1000", detach=True)
        assert box.update(mem_limit="48m", memswap_limit=-1, cpu_quota=25000) == {"Warnings": []}
        box.reload()
        assert box.attrs["HostConfig"]["Memory"] == 48 << 20
        assert box.attrs["HostConfig"]["MemorySwap"] == -1
        assert box.attrs["HostConfig"]["NanoCpus"] == 250_000_000
        assert _cgroup_file(dockyard, box.id, "memory", "memory.limit_in_bytes") == str(48 << 20)
        assert _cgroup_file(dockyard, box.id, "cpu", "cpu.cfs_quota_us") == "25000"
        box.remove(force=True)
    finally:
        client.close()


def test_update_restart_policy(dockyard: Dockyard, engine_images: EngineImages) -> None:
    import time

    dockyard.run("create", "--name", "flaky", engine_images.busybox, "sh", "-c", "echo ran; exit 1")
    assert dockyard.run("update", "--restart", "on-failure:2", "flaky").stdout == "flaky\n"
    policy = _host(dockyard, "flaky")["RestartPolicy"]
    assert policy == {"Name": "on-failure", "MaximumRetryCount": 2}
    dockyard.run("start", "flaky")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = dockyard.inspect("flaky")
        if state["State"]["Status"] == "exited" and state["RestartCount"] == 2:  # type: ignore[index]
            break
        time.sleep(0.2)
    assert dockyard.inspect("flaky")["RestartCount"] == 2
    assert dockyard.run("logs", "flaky").stdout == "ran\n" * 3  # the first run and two restarts

    dockyard.run("create", "--rm", "--name", "gone", engine_images.busybox, "true")
    refused = dockyard.run("update", "--restart", "always", "gone", check=False)
    assert refused.returncode == 1
    gone_id = dockyard.inspect("gone")["Id"]
    assert refused.stderr == (
        f"Error response from daemon: Cannot update container {gone_id}: Restart policy "
        "cannot be updated because AutoRemove is enabled for the container\n"
    )
    bad = dockyard.run("update", "--restart", "sometimes", "gone", check=False)
    assert bad.returncode != 0 and "invalid restart policy" in bad.stderr

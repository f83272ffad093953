"""Health checks with no daemon and no systemd: the container's monitor runs them on its
own timer, joining the container's namespaces and cgroups with its process's security
context, and keeps State.Health; ``ps`` and ``inspect`` show it. On Dockyard's runtime
and on runc."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages, _busybox_layer
from tests.integration.image.builder import Image, write_layout
from tests.support.wait import wait_for

SECOND = 1_000_000_000


@pytest.fixture(scope="module")
def healthy_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image whose HEALTHCHECK passes while /tmp/ready exists (checked every 300 ms)."""
    work = tmp_path_factory.mktemp("healthy-image")
    image = Image(
        [_busybox_layer(work)],  # type: ignore[list-item]
        cmd=["sh", "-c", "touch /tmp/ready; exec sleep 1000"],
        extra={
            "Healthcheck": {
                "Test": ["CMD-SHELL", "cat /tmp/ready && echo ready"],
                "Interval": 300_000_000,
                "Retries": 2,
            }
        },
    )
    return write_layout(work / "layout", {"docker.io/library/healthy:latest": [image]})


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def health(dockyard: Dockyard, name: str) -> dict[str, object]:
    found = dockyard.inspect(name)["State"]
    assert isinstance(found, dict)
    return found.get("Health")  # type: ignore[no-any-return]


def shown(dockyard: Dockyard, name: str) -> str:
    return dockyard.run(
        "ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Status}}"
    ).stdout.strip()


def test_a_check_failing_after_a_file_is_removed_turns_unhealthy_with_no_cli_running(
    dockyard: Dockyard, bb: str, runtime: str
) -> None:
    import json
    import os

    interval, retries = 0.5, 2
    dockyard.run(
        "run", "-d", "--name", "web", "--runtime", runtime,
        "--health-cmd", "cat /tmp/ready", "--health-interval", f"{int(interval * 1000)}ms",
        "--health-retries", str(retries), bb, "sh", "-c", "touch /tmp/ready; exec sleep 1000",
    )  # fmt: skip
    wait_for(lambda: health(dockyard, "web")["Status"] == "healthy", "healthy", timeout=30)
    assert shown(dockyard, "web").endswith("(healthy)")
    found = dockyard.inspect("web")
    pid, cid = found["State"]["Pid"], found["Id"]  # type: ignore[index]
    state = dockyard.run_root / "c" / str(cid) / "health.json"

    # From here no dockyard command runs: the file goes (through /proc, from the host),
    # and the monitor's own timer finds out; the test only reads the monitor's file.
    removed = time.monotonic()
    os.unlink(f"/proc/{pid}/root/tmp/ready")
    deadline = removed + 60
    while json.loads(state.read_text())["Status"] != "unhealthy":
        assert time.monotonic() < deadline, f"still not unhealthy: {state.read_text()}"
        time.sleep(0.02)
    took = time.monotonic() - removed

    # the first failing check comes within one interval, the second one interval later
    # (each check's own time and a loaded machine's delays on top: up to 3 s allowed)
    assert interval * (retries - 1) <= took <= interval * retries + 3.0, took
    now = health(dockyard, "web")
    assert (now["Status"], now["FailingStreak"]) == ("unhealthy", retries)
    log = now["Log"]
    assert isinstance(log, list) and [r["ExitCode"] for r in log[-2:]] == [1, 1]
    assert log[-1]["Output"] == "cat: can't open '/tmp/ready': No such file or directory\n"
    assert log[0]["ExitCode"] == 0 and log[0]["Output"] == ""
    # the checks ran on time: the timer restarts after each, as Docker's
    starts = [_seconds(r["Start"]) for r in log]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(interval * 0.9 <= gap <= interval + 2.0 for gap in gaps), gaps
    assert shown(dockyard, "web").endswith("(unhealthy)")
    listed = dockyard.run("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}").stdout
    assert listed == "web\n"
    assert dockyard.run("ps", "--filter", "health=healthy", "-q").stdout == ""


def _seconds(rfc3339: object) -> float:
    from dockyard.engine.clock import parse_ns

    return parse_ns(str(rfc3339)) / SECOND


def test_the_images_healthcheck_the_flags_over_it_and_no_healthcheck(
    dockyard: Dockyard, healthy_layout: Path
) -> None:
    dockyard.run("load", "-i", str(healthy_layout))

    dockyard.run("run", "-d", "--name", "from-image", "healthy")
    dockyard.run(
        "run", "-d", "--name", "overridden", "--health-cmd", "exit 1", "--health-retries", "1",
        "healthy",
    )  # fmt: skip
    dockyard.run("run", "-d", "--name", "unchecked", "--no-healthcheck", "healthy")

    wait_for(lambda: health(dockyard, "from-image")["Status"] == "healthy", "healthy", timeout=30)
    wait_for(
        lambda: health(dockyard, "overridden")["Status"] == "unhealthy", "unhealthy", timeout=30
    )
    entry = health(dockyard, "from-image")["Log"][0]  # type: ignore[index]
    assert (entry["ExitCode"], entry["Output"]) == (0, "ready\n")
    assert dockyard.inspect("from-image")["Config"]["Healthcheck"] == {  # type: ignore[index]
        "Test": ["CMD-SHELL", "cat /tmp/ready && echo ready"],
        "Interval": 300_000_000,
        "Retries": 2,
    }
    # the flags win field by field; the image's interval stays
    assert dockyard.inspect("overridden")["Config"]["Healthcheck"] == {  # type: ignore[index]
        "Test": ["CMD-SHELL", "exit 1"],
        "Interval": 300_000_000,
        "Retries": 1,
    }
    assert health(dockyard, "unchecked") is None
    # Docker merges the rest of the image's fields under NONE too
    assert dockyard.inspect("unchecked")["Config"]["Healthcheck"] == {  # type: ignore[index]
        "Test": ["NONE"],
        "Interval": 300_000_000,
        "Retries": 2,
    }
    assert shown(dockyard, "unchecked").startswith("Up ")
    assert not shown(dockyard, "unchecked").endswith(")")
    listed = dockyard.run("ps", "--filter", "health=none", "--format", "{{.Names}}").stdout
    assert listed == "unchecked\n"


def test_failures_in_the_start_period_do_not_count(dockyard: Dockyard, bb: str) -> None:
    import json

    # a start period long enough for a few CLIs on a loaded machine
    period = 12
    cid = dockyard.run(
        "run", "-d", "--name", "slow", "--health-cmd", "exit 1",
        "--health-start-period", f"{period}s", "--health-start-interval", "200ms",
        "--health-interval", "1s", "--health-retries", "1", bb, "sleep", "1000",
    ).stdout.strip()  # fmt: skip
    state = dockyard.run_root / "c" / cid / "health.json"

    def early_checks() -> dict[str, object] | None:
        # the monitor's own file: no CLI start-up between the checks and the look
        found = json.loads(state.read_text()) if state.exists() else {"Log": []}
        return found if len(found["Log"]) >= 3 else None

    early = wait_for(early_checks, "checks", timeout=30)
    started = _seconds(dockyard.inspect("slow")["State"]["StartedAt"])  # type: ignore[index]

    # every 200 ms while starting, and none of them counted
    assert all(_seconds(r["Start"]) < started + period for r in early["Log"])  # type: ignore[attr-defined]
    assert (early["Status"], early["FailingStreak"]) == ("starting", 0)
    assert shown(dockyard, "slow").endswith("(health: starting)")
    assert dockyard.run("ps", "--filter", "health=starting", "-q").stdout != ""
    wait_for(lambda: health(dockyard, "slow")["Status"] == "unhealthy", "unhealthy", timeout=30)


def test_a_check_that_takes_too_long_fails_with_dockers_message(
    dockyard: Dockyard, bb: str
) -> None:
    dockyard.run(
        "run", "-d", "--name", "stuck", "--health-cmd", "echo begun; exec sleep 10",
        "--health-timeout", "300ms", "--health-interval", "500ms", bb, "sleep", "1000",
    )  # fmt: skip
    wait_for(lambda: health(dockyard, "stuck")["Log"], "a check", timeout=30)

    entry = health(dockyard, "stuck")["Log"][0]  # type: ignore[index]
    assert entry["ExitCode"] == -1
    # what it printed before the timeout follows Docker's words (a loaded machine may
    # not have run the echo within 300 ms)
    assert entry["Output"] in (
        "Health check exceeded timeout (300ms): begun\n",
        "Health check exceeded timeout (300ms)",
    )
    took = _seconds(entry["End"]) - _seconds(entry["Start"])
    # killed at 0.3 s, however loaded the machine: the monitor's deadline is in whole ms
    # of CLOCK_MONOTONIC, Start and End are CLOCK_REALTIME stamps (0.29997 s was seen)
    assert 0.29 <= took < 5.0


def test_the_check_runs_as_the_container_does(dockyard: Dockyard, bb: str, runtime: str) -> None:
    """Same user, groups, capabilities, no_new_privileges, seccomp filter, cgroups,
    namespaces and working directory as the container's process (as docker exec's)."""
    fields = "grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status"
    namespaces = "; ".join(f"readlink /proc/self/ns/{kind}" for kind in ("pid", "mnt", "net"))
    dockyard.run(
        "run", "-d", "--name", "same", "--runtime", runtime, "-u", "1000:1000",
        "--group-add", "44", "-w", "/tmp", "--cap-drop", "chown", "--security-opt",
        "no-new-privileges", "--health-cmd",
        f"{fields}; echo; pwd; echo; cat /proc/self/cgroup; echo; {namespaces}; echo $HOSTNAME",
        "--health-interval", "300ms", bb, "sleep", "1000",
    )  # fmt: skip
    wait_for(lambda: health(dockyard, "same")["Log"], "a check", timeout=30)
    output = str(health(dockyard, "same")["Log"][0]["Output"])  # type: ignore[index]
    pid = dockyard.inspect("same")["State"]["Pid"]  # type: ignore[index]
    cid = str(dockyard.inspect("same")["Id"])

    status, cwd, cgroups, rest = output.split("\n\n")
    ours = [
        line
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.split(":")[0] in _FIELDS
    ]
    assert status.splitlines() == ours
    assert "NoNewPrivs:\t1" in ours and "Seccomp:\t2" in ours and "Uid:\t1000\t" in ours[0]
    assert cwd == "/tmp"
    assert cgroups.splitlines() == Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    *links, hostname, _ = rest.split("\n")
    assert links == [str(Path(f"/proc/{pid}/ns/{k}").readlink()) for k in ("pid", "mnt", "net")]
    assert hostname == cid[:12]


_FIELDS = {
    "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
    "NoNewPrivs", "Seccomp", "Seccomp_filters",
}  # fmt: skip


def test_health_across_pause_stop_and_start(dockyard: Dockyard, bb: str) -> None:
    dockyard.run(
        "run", "-d", "--name", "cycle", "--health-cmd", "true", "--health-interval", "200ms",
        bb, "sleep", "1000",
    )  # fmt: skip
    wait_for(lambda: len(health(dockyard, "cycle")["Log"]) == 5, "five checks", timeout=30)  # type: ignore[arg-type]
    time.sleep(0.5)
    assert len(health(dockyard, "cycle")["Log"]) == 5  # the last five only  # type: ignore[arg-type]

    dockyard.run("pause", "cycle")
    # Docker stops the checks (the monitor is told through its FIFO)
    wait_for(lambda: health(dockyard, "cycle")["Status"] == "unhealthy", "unhealthy")
    before = health(dockyard, "cycle")["Log"]
    time.sleep(0.6)
    assert health(dockyard, "cycle")["Log"] == before
    dockyard.run("unpause", "cycle")
    wait_for(lambda: health(dockyard, "cycle")["Status"] == "healthy", "checks again", timeout=30)

    dockyard.run("stop", "-t", "0", "cycle")
    stopped = health(dockyard, "cycle")
    assert stopped["Status"] == "unhealthy" and len(stopped["Log"]) == 5  # type: ignore[arg-type]
    dockyard.run("start", "cycle")
    restarted = health(dockyard, "cycle")
    assert restarted["Status"] in ("starting", "healthy")  # healthy once a check ran
    assert restarted["FailingStreak"] == 0
    # the log outlives the run, as Docker's: the new results come after the old ones
    log, old = restarted["Log"], stopped["Log"]
    new = [r for r in log if r not in old]  # type: ignore[attr-defined]
    assert log == [*old[len(new) :], *new]  # type: ignore[index]
    wait_for(lambda: health(dockyard, "cycle")["Status"] == "healthy", "healthy", timeout=30)


def test_a_command_that_cannot_run_and_the_python_api(dockyard: Dockyard, bb: str) -> None:
    from tests.integration.engine.test_api import dockyard_client

    with dockyard_client(dockyard) as client:
        box = client.containers.run(
            bb,
            ["sleep", "1000"],
            detach=True,
            name="api",
            healthcheck={"test": ["CMD", "no-such-check"], "interval": 200_000_000, "retries": 1},
        )
        wait_for(lambda: health(dockyard, "api")["Status"] == "unhealthy", "unhealthy", timeout=30)
        box.reload()
        assert box.health == "unhealthy"
        entry = box.attrs["State"]["Health"]["Log"][0]
        assert entry["ExitCode"] == -1
        assert 'exec: "no-such-check": executable file not found in $PATH' in entry["Output"]
        assert box.attrs["Config"]["Healthcheck"]["Test"] == ["CMD", "no-such-check"]


def test_bad_health_options_are_refused_as_docker_refuses_them(dockyard: Dockyard, bb: str) -> None:
    cases = {
        ("--no-healthcheck", "--health-cmd", "true"): (
            "--no-healthcheck conflicts with --health-* options"
        ),
        ("--health-interval", "1x"): 'time: unknown unit "x" in duration "1x"',
        ("--health-interval", "5"): 'time: missing unit in duration "5"',
        ("--health-timeout", "100us"): "Timeout in Healthcheck cannot be less than 1ms",
        ("--health-retries", "-1"): "--health-retries cannot be negative",
    }
    for flags, message in cases.items():
        result = dockyard.run("run", "-d", *flags, bb, "true", check=False)
        assert result.returncode == 125, flags
        assert message in result.stderr, (flags, result.stderr)
    assert dockyard.ids() == []


def test_each_change_of_health_is_an_event(dockyard: Dockyard, bb: str) -> None:
    import os

    since = f"{time.time() - 1:.3f}"
    dockyard.run(
        "run", "-d", "--name", "evented", "--health-cmd", "cat /tmp/ready",
        "--health-interval", "200ms", "--health-retries", "1", "--label", "tier=web",
        bb, "sh", "-c", "touch /tmp/ready; exec sleep 1000",
    )  # fmt: skip
    wait_for(lambda: health(dockyard, "evented")["Status"] == "healthy", "healthy", timeout=30)
    pid = dockyard.inspect("evented")["State"]["Pid"]  # type: ignore[index]
    os.unlink(f"/proc/{pid}/root/tmp/ready")
    wait_for(lambda: health(dockyard, "evented")["Status"] == "unhealthy", "unhealthy", 30)

    def events() -> list[str]:
        return dockyard.run(
            "events", "--since", since, "--until", f"{time.time():.3f}",
            "--filter", "event=health_status", "--format",
            "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.tier}}",
        ).stdout.splitlines()  # fmt: skip

    # the monitor runs the event's command after writing its state: it may lag a little
    wait_for(lambda: len(events()) == 2, "two health_status events", timeout=30)
    assert events() == [
        "health_status: healthy evented web",
        "health_status: unhealthy evented web",
    ]

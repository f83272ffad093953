"""``events``: a follower started before the actions, the log read after the fact,
filters, Docker's text and JSON, the Python API, and who writes ``die``."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import time
from collections.abc import Callable

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client

# the action may hold spaces ("exec_start: sh -c ls"): the actor is the last word before
# the attributes
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) (\w+) (.+?) (\S+)( \((.*)\))?$"
)


class Follower:
    """``dockyard events ARGS`` in the background; its lines as they come.

    It returns once the follower is following: it has shown a ``volume create`` made
    after it started (it shows only events written after it subscribed), so whatever
    the test does next comes after its subscription, however slow its start-up was
    on a loaded machine. Those volume lines are not kept in ``lines``; ARGS must let
    volume events through."""

    def __init__(self, dockyard: Dockyard, *args: str, **popen: object) -> None:
        self.proc = dockyard.popen(
            "events", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
        )
        self.lines: list[str] = []
        self._buffer = b""
        try:
            self._subscribed(dockyard)
        except BaseException:
            self.stop()
            raise

    def _subscribed(self, dockyard: Dockyard) -> None:
        deadline = time.monotonic() + 120
        for attempt in itertools.count():
            # one made before the subscription is never shown: then another one
            probe = f"follower-ready-{attempt}"
            dockyard.run("volume", "create", probe)
            if self._read(lambda seen, p=probe: any(p in line.split() for line in seen), 5):
                self.lines.clear()
                return
            assert time.monotonic() < deadline, "the follower shows nothing: " + "\n".join(
                self.lines
            )

    def _read(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        import selectors

        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if selector.select(left):
                    chunk = self.proc.stdout.read1(65536)  # type: ignore[attr-defined]
                    assert chunk, f"the follower ended: {self.proc.stderr.read()!r}"  # type: ignore[union-attr]
                    self._buffer += chunk
                    *done, self._buffer = self._buffer.split(b"\n")
                    self.lines += [d.decode() for d in done]
        return True

    def until(self, predicate: Callable[[list[str]], bool], timeout: float = 60) -> list[str]:
        seen = self._read(predicate, timeout)
        assert seen, "timed out; the follower saw:\n" + "\n".join(self.lines)
        return self.lines

    def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
        self.proc.communicate(timeout=30)


def _actions(lines: list[str], actor: str = "") -> list[str]:
    found = []
    for line in lines:
        match = LINE.match(line)
        assert match, f"not Docker's event line: {line!r}"
        if not actor or match.group(4) == actor:
            found.append(f"{match.group(2)} {match.group(3)}")
    return found


def _attributes(line: str) -> dict[str, str]:
    match = LINE.match(line)
    assert match and match.group(6)
    return dict(pair.split("=", 1) for pair in match.group(6).split(", "))


def test_a_follower_started_first_sees_a_containers_life(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    follower = Follower(dockyard)
    try:
        box = dockyard.run(
            "run", "-d", "--runtime", runtime, "--name", "web", "-l", "team=blue",
            engine_images.busybox, "sleep", "1000",
        ).stdout.strip()  # fmt: skip
        dockyard.run("pause", "web")
        dockyard.run("unpause", "web")
        dockyard.run("kill", "-s", "USR1", "web")  # sleep as pid 1 ignores it
        dockyard.run("stop", "-t", "1", "web")
        dockyard.run("rm", "web")
        lines = follower.until(lambda seen: "container destroy" in " ".join(_actions(seen)))
    finally:
        follower.stop()
    assert _actions(lines, box) == [
        "container create",
        "container start",
        "container pause",
        "container unpause",
        "container kill",
        "container kill",  # stop: the stop signal
        "container kill",  # and SIGKILL after the timeout
        "container die",
        "container stop",
        "container destroy",
    ]
    mine = [line for line in lines if LINE.match(line).group(4) == box]  # type: ignore[union-attr]
    assert _attributes(mine[0]) == {"image": engine_images.busybox, "name": "web", "team": "blue"}
    assert _attributes(mine[4])["signal"] == "10"
    assert [_attributes(line)["signal"] for line in mine[5:7]] == ["15", "9"]
    die = _attributes(mine[7])
    assert die["exitCode"] == "137" and die["execDuration"].isdigit()


def test_die_is_recorded_with_no_cli_running(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    """The monitor's exit command writes it: nobody waits for this container."""
    box = dockyard.run(
        "run", "-d", "--runtime", runtime, engine_images.busybox, "sh", "-c", "sleep 0.3; exit 7"
    ).stdout.strip()
    deadline = time.monotonic() + 60
    while True:
        found = dockyard.run(
            "events", "--since", "1m", "--until", "0s", "--filter", f"container={box}",
            "--filter", "event=die",
        ).stdout  # fmt: skip
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    (line,) = found.splitlines()
    assert _attributes(line)["exitCode"] == "7"
    inspect = dockyard.inspect(box)
    finished = inspect["State"]["FinishedAt"]  # type: ignore[index]
    # the event is stamped when the container ended, not when someone noticed
    stamp = json.loads(
        dockyard.run(
            "events",
            "--since",
            "1m",
            "--until",
            "0s",
            "--filter",
            f"container={box}",
            "--filter",
            "event=die",
            "--format",
            "{{json .}}",
        ).stdout
    )["timeNano"]
    from dockyard.engine.clock import parse_ns

    assert stamp == parse_ns(str(finished))


def test_the_log_is_read_after_the_fact_with_filters_and_formats(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("volume", "create", "keep")
    dockyard.run("run", "--name", "one", "-l", "tier=db", engine_images.busybox, "true")
    two = dockyard.run(
        "run", "--rm", "--name", "two", engine_images.busybox, "sh", "-c", "exit 3", check=False
    )
    assert two.returncode == 3
    dockyard.run("volume", "rm", "keep")

    # nothing given: only new events, and --until in the past ends at once
    everything = [
        line
        for line in dockyard.run("events", "--since", "10m", "--until", "0s").stdout.splitlines()
        if " network " not in line  # the default network's connect and disconnect
    ]
    assert _actions(everything) == [
        "volume create",
        "image pull",  # run of an image not in the store yet
        "container create",
        "container attach",  # a foreground run attaches, as Docker's CLI does
        "container start",
        "container die",
        "container create",
        "container attach",
        "container start",
        "container die",
        "container destroy",
        "volume destroy",
    ]
    by_name = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "-f", "container=two"
    ).stdout.splitlines()
    assert _actions(by_name) == [
        "container create", "container attach", "container start", "container die",
        "container destroy",
    ]  # fmt: skip
    assert _attributes(by_name[3])["exitCode"] == "3"
    dies = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "--filter", "event=die",
        "--filter", "event=destroy", "--filter", "type=container",
    ).stdout.splitlines()  # fmt: skip
    assert _actions(dies) == ["container die", "container die", "container destroy"]
    labelled = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "--filter", "label=tier=db"
    ).stdout.splitlines()
    assert len(labelled) == 4 and all("name=one" in line for line in labelled)
    volumes = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "--filter", "volume=keep"
    ).stdout.splitlines()
    assert _actions(volumes) == ["volume create", "volume destroy"]
    assert _attributes(volumes[0]) == {"driver": "local"}
    by_image = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "--filter", f"image={engine_images.busybox}"
    ).stdout.splitlines()
    assert _actions(by_image)[0] == "image pull" and len(by_image) == 10

    docs = [
        json.loads(line)
        for line in dockyard.run(
            "events",
            "--since",
            "10m",
            "--until",
            "0s",
            "--format",
            "{{json .}}",
            "-f",
            "container=one",
            "-f",
            "event=create",
        ).stdout.splitlines()
    ]
    (doc,) = docs
    assert list(doc) == [
        "status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano",
    ]  # fmt: skip
    assert doc["Type"] == "container" and doc["Action"] == "create" == doc["status"]
    assert doc["Actor"]["ID"] == doc["id"] and doc["from"] == engine_images.busybox
    assert doc["Actor"]["Attributes"] == {
        "image": engine_images.busybox, "name": "one", "tier": "db",
    }  # fmt: skip
    assert doc["scope"] == "local" and doc["time"] == doc["timeNano"] // 10**9
    same = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "--format", "json",
        "-f", "container=one", "-f", "event=create",
    ).stdout  # fmt: skip
    assert json.loads(same) == doc
    fields = dockyard.run(
        "events", "--since", "10m", "--until", "0s", "-f", "container=one", "-f", "event=start",
        "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Status}} {{.From}}",
    ).stdout  # fmt: skip
    assert fields == f"container start one start {engine_images.busybox}\n"


def test_bad_filters_formats_and_times_are_one_line_with_dockers_status(
    dockyard: Dockyard,
) -> None:
    bad_key = dockyard.run("events", "--filter", "colour=red", check=False)
    assert bad_key.returncode == 1
    assert bad_key.stderr == "Error response from daemon: invalid filter 'colour'\n"
    no_value = dockyard.run("events", "--filter", "container", check=False)
    assert no_value.returncode == 125
    assert no_value.stderr.startswith(
        'invalid argument "container" for "-f, --filter" flag: bad format of filter'
    )
    bad_field = dockyard.run("events", "--format", "{{.Nope}}", check=False)
    assert bad_field.returncode == 64
    assert bad_field.stderr.startswith("Error parsing format: template: ")
    assert "can't evaluate field Nope in type events.Message" in bad_field.stderr
    unclosed = dockyard.run("events", "--format", "{{.Type", check=False)
    assert unclosed.returncode == 64
    backwards = dockyard.run("events", "--since", "10s", "--until", "1m", check=False)
    assert backwards.returncode == 1
    assert "cannot be after `until` time" in backwards.stderr
    assert "Traceback" not in backwards.stderr + bad_field.stderr + bad_key.stderr


def test_until_in_the_future_ends_the_follow_when_reached(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    # far enough ahead for both CLIs' start-ups on a loaded machine
    until = time.time() + 8
    proc = dockyard.popen("events", "--until", f"{until:.3f}", stdout=subprocess.PIPE)
    dockyard.run("volume", "create", "soon")
    assert time.time() < until, "the machine is too slow for this test's window"
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert time.time() >= until  # it ended when the time came, not before
    assert _actions(out.decode().splitlines()) == ["volume create"]


def test_events_from_many_processes_at_once_all_reach_a_follower(dockyard: Dockyard) -> None:
    follower = Follower(dockyard, "--filter", "type=volume")
    try:
        procs = [
            dockyard.popen("volume", "create", f"v{i}", stdout=subprocess.DEVNULL)
            for i in range(12)
        ]
        assert all(p.wait(60) == 0 for p in procs)
        lines = follower.until(lambda seen: len(seen) >= 12)
    finally:
        follower.stop()
    assert sorted(line.split()[3] for line in lines) == sorted(f"v{i}" for i in range(12))
    for i in range(12):
        dockyard.run("volume", "rm", f"v{i}")


def test_an_oom_kill_is_an_oom_event_before_die(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    script = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}"
    run = dockyard.run(
        "run", "--runtime", runtime, "--memory", "32m", "--memory-swap", "32m",
        "--name", "hog", engine_images.busybox, "sh", "-c", script, check=False,
    )  # fmt: skip
    assert run.returncode == 137, run.stderr
    lines = dockyard.run(
        "events", "--since", "5m", "--until", "0s", "--filter", "container=hog"
    ).stdout.splitlines()
    assert _actions(lines)[-2:] == ["container oom", "container die"]
    assert _attributes(lines[-1])["exitCode"] == "137"


def test_image_events(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("pull", "-q", engine_images.busybox)
    image_id = dockyard.run("image", "inspect", "-f", "{{.Id}}", engine_images.busybox).stdout
    image_id = image_id.strip()
    dockyard.run("tag", engine_images.busybox, "mine:one")
    dockyard.run("rmi", "mine:one")
    # its last name: the image goes, with its tag and its digest, then its layers (as
    # Docker's rmi says)
    removed = dockyard.run("rmi", engine_images.busybox).stdout
    assert [line.split(":")[0] for line in removed.splitlines()][:3] == [
        "Untagged", "Untagged", "Deleted",
    ]  # fmt: skip
    lines = dockyard.run(
        "events", "--since", "5m", "--until", "0s", "--filter", "type=image"
    ).stdout.splitlines()
    # as Docker's daemon: an untag per name removed, then delete
    assert _actions(lines) == [
        "image pull", "image tag", "image untag", "image untag", "image untag", "image delete",
    ]  # fmt: skip
    pull, tag, untag, *_, delete = lines
    assert LINE.match(pull).group(4) == f"{engine_images.busybox}:latest"  # type: ignore[union-attr]
    assert _attributes(pull)["name"] == engine_images.busybox
    assert LINE.match(tag).group(4) == image_id  # type: ignore[union-attr]
    assert _attributes(tag)["name"] == "mine:one"
    assert _attributes(untag)["name"] == image_id
    assert LINE.match(delete).group(4) == image_id  # type: ignore[union-attr]
    assert _attributes(delete) == {"name": image_id}


def test_the_python_api_reads_and_follows(dockyard: Dockyard, engine_images: EngineImages) -> None:
    client = dockyard_client(dockyard)
    try:
        stream = client.events(decode=True, filters={"type": "container", "event": ["start"]})
        box = client.containers.run(engine_images.busybox, "true", detach=True, name="apiev")
        first = next(stream)
        stream.close()
        assert first["Action"] == "start" and first["id"] == box.id
        assert first["Actor"]["Attributes"]["name"] == "apiev"
        box.wait()
        past = list(
            client.events(since=time.time() - 60, until=time.time(), filters={"type": "container"})
        )
        assert all(isinstance(item, bytes) and item.endswith(b"\n") for item in past)
        actions = [json.loads(item)["Action"] for item in past]
        assert actions[:3] == ["create", "start", "die"]
        box.remove()
    finally:
        client.close()


def test_a_follower_ends_quietly_on_ctrl_c_and_sigterm(dockyard: Dockyard) -> None:
    import signal

    def default_sigint() -> None:  # an ignored SIGINT would be inherited from the test runner
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        # following (not still starting up, with Python's default handlers)
        follower = Follower(dockyard, preexec_fn=default_sigint)
        follower.proc.send_signal(sig)
        _out, err = follower.proc.communicate(timeout=30)
        assert follower.proc.returncode == status and err == b"", err


def test_network_and_exec_events(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("network", "create", "evnet")
    box = dockyard.run(
        "run", "-d", "--network", "evnet", "--name", "netbox", engine_images.busybox,
        "sleep", "1000",
    ).stdout.strip()  # fmt: skip
    assert dockyard.run("exec", "netbox", "sh", "-c", "exit 5", check=False).returncode == 5
    dockyard.run("rm", "-f", "netbox")
    dockyard.run("network", "rm", "evnet")
    lines = dockyard.run(
        "events", "--since", "5m", "--until", "0s", "--filter", "type=network",
        "--filter", "type=container",
    ).stdout.splitlines()  # fmt: skip
    actions = [a for a in _actions(lines) if a != "image pull"]
    assert actions == [
        "network create",
        "container create",
        "network connect",
        "container start",
        "container exec_create: sh -c exit 5",
        "container exec_start: sh -c exit 5",
        "container exec_die",
        "container kill",
        "container die",
        "network disconnect",
        "container destroy",
        "network destroy",
    ]
    by_action = dict(zip(actions, lines, strict=True))
    connect = _attributes(by_action["network connect"])
    assert connect == {"container": box, "name": "evnet", "type": "bridge"}
    exec_die = _attributes(by_action["container exec_die"])
    assert exec_die["exitCode"] == "5"
    assert (
        exec_die["execID"] == _attributes(by_action["container exec_start: sh -c exit 5"])["execID"]
    )


def test_network_none_and_host_are_connected_as_dockers_null_and_host(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    for mode in ("none", "host"):
        dockyard.run("run", "--rm", "--network", mode, engine_images.busybox, "true")
    lines = dockyard.run(
        "events", "--since", "5m", "--until", "0s", "--filter", "type=network"
    ).stdout.splitlines()
    assert _actions(lines) == ["network connect", "network disconnect"] * 2
    assert [_attributes(line)["name"] for line in lines] == ["none", "none", "host", "host"]
    assert [_attributes(line)["type"] for line in lines] == ["null", "null", "host", "host"]

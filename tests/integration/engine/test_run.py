"""``dockyard run`` as a user types it: output, exit codes, pulls, --rm, -d."""

from __future__ import annotations

from pathlib import Path

from tests.integration.engine.conftest import Dockyard, EngineImages


def test_run_prints_the_output_and_keeps_stdout_and_stderr_apart(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    result = dockyard.run(
        "run", "--rm", engine_images.busybox, "sh", "-c", "echo out; echo err >&2"
    )

    assert result.stdout == "out\n"
    assert result.stderr.endswith("err\n")


def test_a_missing_image_is_pulled_with_dockers_messages_on_stderr(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    result = dockyard.run("run", "--rm", engine_images.busybox, "echo", "hi")

    assert result.stdout == "hi\n"
    assert f"Unable to find image '{engine_images.busybox}:latest' locally" in result.stderr
    assert "latest: Pulling from busybox" in result.stderr
    assert f"Status: Downloaded newer image for {engine_images.busybox}:latest" in result.stderr


def _layer_lines(text: str) -> dict[str, list[str]]:
    """Docker's per-layer lines of a pull not on a terminal: short digest -> statuses."""
    import re

    found: dict[str, list[str]] = {}
    for key, status in re.findall(r"^([0-9a-f]{12}): (.+)$", text, re.M):
        found.setdefault(key, []).append(status)
    return found


def test_a_pull_not_on_a_terminal_says_what_each_layer_does_as_dockers_cli(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    fresh = ["Pulling fs layer", "Verifying Checksum", "Download complete", "Pull complete"]
    first = dockyard.run("run", "--rm", engine_images.busybox, "true").stderr
    lines = first.splitlines()
    assert lines[:2] == [
        f"Unable to find image '{engine_images.busybox}:latest' locally",
        "latest: Pulling from busybox",
    ]
    assert list(_layer_lines(first).values()) == [fresh]  # one layer
    assert lines[-2].startswith("Digest: sha256:")
    # the volume image is busybox's layer and one more: the first is there already
    second = dockyard.run("pull", engine_images.volume).stdout
    assert list(_layer_lines(second).values()) == [["Already exists"], fresh]
    assert list(_layer_lines(first)) == list(_layer_lines(second))[:1]
    # -q: none of it
    dockyard.run("rmi", engine_images.volume)
    assert (
        dockyard.run("pull", "-q", engine_images.volume).stdout
        == f"{engine_images.volume}:latest\n"
    )


def test_the_containers_exit_status_is_the_clis(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    three = dockyard.run("run", "--rm", engine_images.busybox, "sh", "-c", "exit 3", check=False)
    assert three.returncode == 3
    # the init itself killed by a signal: 128 + its number
    dockyard.run("run", "-d", "--name", "victim", engine_images.busybox, "sleep", "1000")
    dockyard.run("kill", "victim")
    assert dockyard.run("wait", "victim").stdout == "137\n"
    assert dockyard.inspect("victim")["State"]["ExitCode"] == 137  # type: ignore[index]


def test_dockers_exit_codes_for_what_cannot_run(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    missing = dockyard.run("run", "--rm", engine_images.busybox, "no-such-command", check=False)
    bad_flag = dockyard.run("run", "--no-such-flag", engine_images.busybox, check=False)
    no_image = dockyard.run(
        "run", "--rm", "--pull", "never", f"{engine_images.registry}/nothing", check=False
    )

    assert missing.returncode == 127, missing.stderr
    assert "executable file not found" in missing.stderr
    assert bad_flag.returncode == 125
    assert "unknown flag: --no-such-flag" in bad_flag.stderr
    assert no_image.returncode == 125
    # Docker's daemon's words: the name normalised, :latest added
    assert f"No such image: {engine_images.registry}/nothing:latest" in no_image.stderr
    for result in (missing, no_image):
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_run_rm_leaves_nothing(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("pull", engine_images.busybox)

    dockyard.run("run", "--rm", engine_images.busybox, "true")
    dockyard.run("run", "--rm", engine_images.busybox, "no-such-command", check=False)

    assert dockyard.ids() == []
    assert list((dockyard.root / "containers").iterdir()) == []
    assert list((dockyard.root / "snapshots").iterdir()) == []


def test_run_d_prints_the_id_and_the_container_outlives_the_cli(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    result = dockyard.run("run", "-d", "--name", "sleeper", engine_images.busybox, "sleep", "1000")
    container_id = result.stdout.strip()

    assert len(container_id) == 64 and all(c in "0123456789abcdef" for c in container_id)
    state = dockyard.inspect("sleeper")["State"]
    assert state["Status"] == "running"  # type: ignore[index]
    assert dockyard.run("ps", "-q").stdout.split() == [container_id[:12]]


def test_pull_never_and_always(dockyard: Dockyard, engine_images: EngineImages) -> None:
    refused = dockyard.run("run", "--pull", "never", engine_images.busybox, "true", check=False)
    assert refused.returncode == 125

    dockyard.run("pull", engine_images.busybox)
    again = dockyard.run("run", "--rm", "--pull", "always", engine_images.busybox, "true")
    assert "Pulling from busybox" in again.stderr
    assert "Status: Image is up to date" in again.stderr

    quiet = dockyard.run("run", "--rm", engine_images.busybox, "true")
    assert quiet.stderr == ""


def test_a_program_that_ends_at_once_starts_every_time(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    """The runtime's start once looked for the init after releasing it: a quick
    program, already reaped by its monitor, made about one start in six fail."""
    dockyard.run("pull", engine_images.busybox)

    for _ in range(25):
        dockyard.run("run", "--rm", engine_images.busybox, "true")


def test_a_detached_rm_container_is_removed_by_its_monitor_when_it_ends(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    from tests.support.wait import wait_for

    dockyard.run("pull", engine_images.busybox)
    cid = dockyard.run("run", "-d", "--rm", engine_images.busybox, "sleep", "0.2").stdout.strip()
    assert len(cid) == 64

    wait_for(lambda: dockyard.ids() == [], "the exit command to remove it", timeout=60)
    failed = dockyard.run("run", "-d", "--rm", engine_images.busybox, "nope", check=False)
    assert failed.returncode == 127 and dockyard.ids() == []


def test_the_last_containers_removal_takes_the_cgroup_parent_with_it(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    """Docker leaves /docker behind; a daemonless engine leaves nothing once empty."""
    from tests.integration.engine.conftest import CGROUP_V1_ROOT

    def parents() -> list[Path]:
        rel = dockyard.cgroup_parent.strip("/")
        return [h / rel for h in [CGROUP_V1_ROOT, *CGROUP_V1_ROOT.iterdir()] if (h / rel).is_dir()]

    dockyard.run("run", "-d", "--name", "one", "--runtime", runtime, engine_images.busybox,
                 "sleep", "1000")  # fmt: skip
    dockyard.run("run", "-d", "--name", "two", "--runtime", runtime, engine_images.busybox,
                 "sleep", "1000")  # fmt: skip
    assert parents()
    dockyard.run("rm", "-f", "one")
    assert parents(), "another container still uses the parent"
    dockyard.run("rm", "-f", "two")
    assert parents() == []
    dockyard.run("run", "--rm", "--runtime", runtime, engine_images.busybox, "true")
    assert parents() == []

"""``--runtime``: the same container verbs through runc (or any runc-like binary), with
the same results as through Dockyard's own runtime. (RUNTIME=runc runs the whole
engine suite on runc; these run both in every session.)"""

from __future__ import annotations

import shutil

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages

RUNTIMES = ["dockyard", "runc"]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    if request.param != "dockyard" and not shutil.which(request.param):
        pytest.skip(f"needs {request.param}")
    return str(request.param)


def test_the_lifecycle_is_the_same_on_each_runtime(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    bb = engine_images.busybox
    dockyard.run("pull", bb)
    rt = ("--runtime", runtime)

    out = dockyard.run(
        "run", "--rm", *rt, bb, "sh", "-c", "echo out; echo err >&2; exit 5", check=False
    )
    assert (out.returncode, out.stdout, out.stderr) == (5, "out\n", "err\n")
    missing = dockyard.run("run", "--rm", *rt, bb, "no-such-command", check=False)
    assert missing.returncode == 127
    dockyard.run(
        "run",
        "-d",
        "--name",
        "lived",
        *rt,
        "-v",
        "v:/v",
        bb,
        "sh",
        "-c",
        "echo hi > /v/f; echo up; exec sleep 1000",
    )
    assert dockyard.inspect("lived")["HostConfig"]["Runtime"] == runtime  # type: ignore[index]
    assert dockyard.inspect("lived")["State"]["Status"] == "running"  # type: ignore[index]
    dockyard.run("stop", "-t", "1", "lived")
    assert dockyard.run("wait", "lived").stdout == "137\n"
    assert dockyard.run("logs", "lived").stdout == "up\n"
    dockyard.run("start", "lived")
    assert dockyard.inspect("lived")["State"]["Status"] == "running"  # type: ignore[index]
    dockyard.run("rm", "-f", "lived")
    assert dockyard.run("run", "--rm", *rt, "-v", "v:/v", bb, "cat", "/v/f").stdout == "hi\n"


def test_an_unknown_runtime_is_one_clear_error(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    result = dockyard.run(
        "run", "--rm", "--runtime", "nosuchruntime", engine_images.busybox, "true", check=False
    )

    assert result.returncode == 125
    assert "unknown or invalid runtime name: nosuchruntime" in result.stderr
    assert dockyard.ids() == []

"""Registries that misbehave: each failure is one clear line, never a traceback or a hang."""

from __future__ import annotations

import email.utils
import itertools
import os
import time
from collections.abc import Callable

import pytest

from tests.integration.image.builder import Image, file_entry, make_layer, sha256, tar_entries
from tests.integration.image.conftest import Dockyard, one_line_error
from tests.integration.image.fakes import Handler, Hook, Seen, answer, fake_registry

pytestmark = pytest.mark.integration


def test_a_manifest_nested_100k_deep_is_one_line(dockyard: Dockyard) -> None:
    with fake_registry(manifest_raw=b"[" * 100_000) as fake:
        result = dockyard.run("pull", f"{fake.host}/deep/img:1", check=False)

    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "manifest" in line and "nested too deeply" in line


def small_image() -> Image:
    return Image([make_layer(tar_entries([file_entry("hello", os.urandom(8000))]))])


def stalls(part: str, size: int, drip: float | None) -> Hook:
    """A hook: GETs of ``part`` get headers for ``size`` bytes, then nothing, or a byte
    every ``drip`` seconds."""

    def hook(handler: Handler, seen: Seen) -> bool:
        if seen.method != "GET" or part not in seen.path:
            return False
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        handler.wfile.flush()
        while drip is not None and not seen.stopping.wait(drip):
            handler.wfile.write(b"x")
            handler.wfile.flush()
        seen.stopping.wait()
        return True

    return hook


@pytest.mark.parametrize(
    ("what", "drip", "expected"),
    [
        ("manifest", None, "the registry sent nothing for 2 s"),
        ("layer", None, "the registry sent nothing for 2 s"),
        ("layer", 0.05, "stalled: "),
    ],
    ids=["manifest-silent", "layer-silent", "layer-drip-fed"],
)
def test_a_stalled_transfer_ends_at_the_deadline_in_one_line(
    dockyard: Dockyard, what: str, drip: float | None, expected: str
) -> None:
    image = small_image()
    layer = image.layers[0]
    part, size = ("/manifests/", 1000) if what == "manifest" else (layer.digest, len(layer.blob))
    with fake_registry(image, stalls(part, size, drip)) as fake:
        dockyard.env["DOCKYARD_REGISTRY_STALL_TIMEOUT"] = "2"
        started = time.monotonic()
        result = dockyard.run("pull", f"{fake.host}/slow/img:1", check=False, timeout=60)
        elapsed = time.monotonic() - started

    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert expected in line and "DOCKYARD_REGISTRY_STALL_TIMEOUT" in line
    # one stall, not retried or resumed (the same registry stalls again); the bound leaves
    # room for a CLI's start-up on a loaded machine, and a drip-fed layer would take minutes
    assert elapsed < 30
    assert len(fake.seen("GET", part)) == 1
    assert "slow/img" not in dockyard.run("images").stdout
    assert list((dockyard.root / "tmp").iterdir()) == []  # no half-written layer left


def fails_first(part: str, statuses: list[int], retry_after: str | Callable[[], str] = "") -> Hook:
    """A hook: the first GETs of ``part`` are answered with ``statuses``, one each."""
    left = list(statuses)

    def hook(handler: Handler, seen: Seen) -> bool:
        if seen.method != "GET" or part not in seen.path or not left:
            return False
        headers = {"Content-Type": "application/json"}
        if retry_after:
            headers["Retry-After"] = retry_after if isinstance(retry_after, str) else retry_after()
        body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
        answer(handler, left.pop(0), body, headers)
        return True

    return hook


def gaps(requests: list[Seen]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(requests)]


@pytest.mark.parametrize("what", ["manifest", "config", "layer"])
def test_429_and_5xx_are_retried_after_the_wait_the_registry_asks(
    dockyard: Dockyard, what: str
) -> None:
    image = small_image()
    part = {
        "manifest": "/manifests/",
        "config": sha256(image.config()),
        "layer": image.layers[0].digest,
    }[what]
    with fake_registry(image, fails_first(part, [429, 503], retry_after="1")) as fake:
        dockyard.run("pull", f"{fake.host}/busy/img:1")

    tries = fake.seen("GET", part)
    assert len(tries) == 3
    assert all(gap >= 0.95 for gap in gaps(tries)), gaps(tries)
    assert (
        dockyard.run("image", "inspect", "-f", "{{.Id}}", f"{fake.host}/busy/img:1").stdout.strip()
        == image.id
    )


def test_retry_after_as_an_http_date_is_honoured(dockyard: Dockyard) -> None:
    image = small_image()

    def when() -> str:  # at the time of the answer: 3 s ahead, in whole seconds
        return email.utils.formatdate(time.time() + 3, usegmt=True)

    with fake_registry(image, fails_first("/manifests/", [503], retry_after=when)) as fake:
        dockyard.run("pull", f"{fake.host}/busy/img:1")

    first, second = fake.seen("GET", "/manifests/")
    assert second.at - first.at >= 1.9  # the date has whole seconds: 2 to 3 s from now


def test_without_retry_after_the_waits_back_off(dockyard: Dockyard) -> None:
    image = small_image()
    with fake_registry(image, fails_first("/manifests/", [500, 502, 504])) as fake:
        dockyard.run("pull", f"{fake.host}/busy/img:1")

    waits = gaps(fake.seen("GET", "/manifests/"))
    assert len(waits) == 3
    assert 0.35 < waits[0] < waits[2] and waits[2] > 1.5, waits  # 0.5, 1, 2 s, give or take


def test_a_registry_that_stays_busy_fails_in_one_line(dockyard: Dockyard) -> None:
    image = small_image()
    dockyard.env["DOCKYARD_REGISTRY_RETRIES"] = "2"
    with fake_registry(image, fails_first("/manifests/", [503] * 10, retry_after="0")) as fake:
        result = dockyard.run("pull", f"{fake.host}/busy/img:1", check=False)

    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert "TOOMANYREQUESTS: slow down" in line and "3 attempts" in line
    assert len(fake.seen("GET", "/manifests/")) == 3


def test_a_retry_after_beyond_the_longest_wait_fails_at_once(dockyard: Dockyard) -> None:
    image = small_image()
    with fake_registry(image, fails_first("/manifests/", [429], retry_after="3600")) as fake:
        started = time.monotonic()
        result = dockyard.run("pull", f"{fake.host}/busy/img:1", check=False)

    assert time.monotonic() - started < 30  # not the hour asked for (nor the CLI's timeout)
    line = one_line_error(result.stderr)
    assert "429" in line or "TOOMANYREQUESTS" in line
    assert "the registry asks to retry after 3600" in line
    assert len(fake.seen("GET", "/manifests/")) == 1

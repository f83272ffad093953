"""Pushes: a failed blob upload starts again; a blob is streamed, never held whole in memory.

The registry is the real one, behind a `FakeRegistry` that passes requests
on and spoils the first upload of a layer on cue (fakes.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.image.builder import file_entry, tar_entries
from tests.integration.image.conftest import DOCKYARD, Dockyard, Registry
from tests.integration.image.fakes import Handler, Hook, Seen, answer, fake_registry

pytestmark = pytest.mark.integration


def random_image(dockyard: Dockyard, tmp_path: Path, name: str, size: int) -> None:
    """An image of one layer of ``size`` random bytes."""
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(tar_entries([file_entry("random", os.urandom(size))]))
    dockyard.run("import", str(rootfs), name)


def spoils_first_upload(how: str) -> Hook:
    """A hook: the first closing PUT of an upload fails, ``503`` or by hanging up mid-body."""
    done: list[str] = []

    def hook(handler: Handler, seen: Seen) -> bool:
        if done or seen.method != "PUT" or "/blobs/uploads/" not in seen.path:
            return False
        done.append(seen.path)
        length = int(seen.headers.get("Content-Length") or 0)
        if how == "503":
            handler.rfile.read(length)
            body = b'{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}'
            answer(handler, 503, body, {"Content-Type": "application/json"})
        else:  # the link drops with most of the body still to come
            handler.rfile.read(min(length, 64 << 10))
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
        return True

    return hook


@pytest.mark.parametrize("how", ["503", "hang-up"])
def test_a_failed_blob_upload_is_started_again(
    dockyard: Dockyard, registry: Registry, tmp_path: Path, how: str
) -> None:
    with fake_registry(hook=spoils_first_upload(how), upstream=registry.host) as fake:
        name = f"{fake.host}/upload/{how}:1"
        random_image(dockyard, tmp_path, name, 4 << 20)
        expected = dockyard.run("image", "inspect", "-f", "{{.Id}}", name).stdout

        dockyard.run("push", name)

    puts = fake.seen("PUT", "/blobs/uploads/")
    assert len(fake.seen("POST", "/blobs/uploads/")) == len(puts) == 3  # layer twice, config
    assert puts[0].path.split("digest=")[1] == puts[1].path.split("digest=")[1]
    direct = f"{registry.host}/upload/{how}:1"
    dockyard.run("rmi", name)
    dockyard.run("pull", direct)
    assert dockyard.run("image", "inspect", "-f", "{{.Id}}", direct).stdout == expected


# Runs the command from a small middle process: a child forked straight from pytest
# would report pytest's own peak, which Linux carries over into the child's accounting.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def max_rss_kib(dockyard: Dockyard, *args: str) -> int:
    """The peak resident set of one ``dockyard`` command, from the kernel's accounting."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", _MEASURE, str(DOCKYARD), *args],
        env=dockyard.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_a_blob_is_streamed_up_not_read_whole(
    dockyard: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    small, big = f"{registry.host}/stream/small:1", f"{registry.host}/stream/big:1"
    random_image(dockyard, tmp_path, small, 64 << 10)
    random_image(dockyard, tmp_path, big, 24 << 20)  # below the chunk size: one PUT

    baseline = max_rss_kib(dockyard, "push", "-q", small)
    peak = max_rss_kib(dockyard, "push", "-q", big)

    assert peak - baseline < 8 << 10, (baseline, peak)  # KiB: far less than the 24 MiB blob

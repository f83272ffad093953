"""Nothing of a container's network outlives it: a crashed monitor, a CLI killed -9 while it
runs a container, and what ``system check`` and ``network prune`` then find and remove."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.engine.conftest import Dockyard
from tests.support import netleaks
from tests.support.wait import wait_for


def _network_state(dockyard: Dockyard) -> tuple[list[str], list[str], str]:
    """(veths in the default bridge, namespace files, the publish rules' text)."""
    veths = [n for n, m in netleaks.interfaces().items() if m == dockyard.bridge]
    netns_dir = dockyard.run_root / "netns"
    files = sorted(p.name for p in netns_dir.iterdir()) if netns_dir.exists() else []
    rules = "".join(
        body for body in netleaks.nft_tables().values() if f'"{dockyard.bridge}"' in body
    )
    return veths, files, rules


def test_a_crashed_container_is_cleaned_by_system_check(dockyard: Dockyard, net_image: str) -> None:
    """Its monitor and processes SIGKILLed: nobody ran its cleanup. ``system check`` marks
    it exited and removes its veth, namespace file and port rules."""
    dockyard.run("run", "-d", "--name", "crash", "-p", "127.0.0.1::80", net_image, "sleep", "1000")
    cid = str(dockyard.inspect("crash")["Id"])
    pid = int(dockyard.inspect("crash")["State"]["Pid"])  # type: ignore[index]
    monitor = int((dockyard.run_root / "c" / cid / "monitor.pid").read_text())
    veths, files, rules = _network_state(dockyard)
    assert len(veths) == 1 and files == [cid] and cid in rules

    os.kill(monitor, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), "the container's init to go", timeout=10)
    check = dockyard.run("system", "check", check=False)

    assert "repaired" in check.stdout, check.stdout + check.stderr
    wait_for(lambda: _network_state(dockyard)[:2] == ([], []), "the veth to go", timeout=10)
    assert cid not in _network_state(dockyard)[2]
    assert dockyard.inspect("crash")["State"]["Status"] == "exited"  # type: ignore[index]
    again = dockyard.run("system", "check")
    assert "network namespace" not in again.stdout and "interface" not in again.stdout


def test_a_cli_killed_during_run_leaves_nothing_once_removed(
    dockyard: Dockyard, net_image: str
) -> None:
    """SIGKILL at a random moment of ``run -p``; then ``rm -f`` (or the monitor's own
    cleanup) and ``system check`` leave no interface, namespace, rule or lease."""
    dockyard.run("pull", net_image)
    rng = random.Random(os.getpid())
    for i in range(6):
        cli = dockyard.popen(
            "run", "--name", f"k{i}", "-p", "127.0.0.1::80", net_image, "sh", "-c", "sleep 0.3",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.0, 0.4))
        cli.send_signal(signal.SIGKILL)
        cli.wait()
    time.sleep(1)
    dockyard.run("system", "check", check=False)
    ids = dockyard.ids()
    if ids:
        dockyard.run("rm", "-f", *ids)
    dockyard.run("system", "check")
    wait_for(lambda: _network_state(dockyard)[:2] == ([], []), "no veth or netns", timeout=10)
    assert '"dnat": {' not in _network_state(dockyard)[2]  # no DNAT statement: no port rule
    # every lease went with its container: a new one gets the first address again
    first = dockyard.env["DOCKYARD_BIP"].split("/")[0].rsplit(".", 1)
    out = dockyard.run("run", "--rm", net_image, "ip", "-4", "-o", "addr", "show", "eth0").stdout
    assert f"{first[0]}.{int(first[1]) + 1}/24" in out


def test_a_start_killed_after_claiming_its_ports_does_not_block_the_next(
    dockyard: Dockyard, net_image: str
) -> None:
    """The rows a killed start left (its host ports) are its own: the next start takes them
    back rather than calling the port allocated."""
    import socket
    import sqlite3

    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
    cid = dockyard.run(
        "create", "--name", "again", "-p", f"{port}:80", net_image, "sleep", "100"
    ).stdout.strip()
    db = sqlite3.connect(dockyard.root / "engine.db")
    with db:
        db.execute("INSERT INTO published VALUES (?, 'tcp', '0.0.0.0', ?, 80)", (cid, port))
    db.close()

    dockyard.run("start", "again")

    assert dockyard.run("port", "again").stdout == f"80/tcp -> 0.0.0.0:{port}\n"

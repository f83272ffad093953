"""Nothing of a container's network outlives it: a crashed monitor, a CLI killed -9 while it
runs a container, and what ``system check`` and ``network prune`` then find and remove."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.engine.conftest import Dockyard
from tests.integration.network.conftest import PAGE
from tests.support import leaks, netleaks
from tests.support.wait import wait_for


def _network_state(dockyard: Dockyard, bridge: str = "") -> tuple[list[str], list[str], str]:
    """(veths in the bridge, default: the engine's default one; namespace files; the
    publish rules' text)."""
    bridge = bridge or dockyard.bridge
    veths = [n for n, m in netleaks.interfaces().items() if m == bridge]
    netns_dir = dockyard.run_root / "netns"
    files = sorted(p.name for p in netns_dir.iterdir()) if netns_dir.exists() else []
    rules = "".join(body for body in netleaks.nft_tables().values() if f'"{bridge}"' in body)
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


@pytest.mark.parametrize("network", ["bridge", "user"])
def test_a_cli_killed_during_run_leaves_nothing_once_removed(
    dockyard: Dockyard, net_image: str, network: str
) -> None:
    """SIGKILL at a random moment of ``run -p``; then ``rm -f`` (or the monitor's own
    cleanup) and ``system check`` leave no interface, namespace, rule or lease, and on a
    user-defined network no DNS name or resolver."""
    dockyard.run("pull", net_image)
    if network == "user":
        subnet = netleaks.free_subnet()
        dockyard.run("network", "create", "--subnet", subnet, "app")
        first = subnet.rsplit(".", 1)[0] + ".2"
        bridge = "dy-" + dockyard.run("network", "inspect", "-f", "{{.Id}}", "app").stdout[:12]
    else:
        base = dockyard.env["DOCKYARD_BIP"].split("/")[0].rsplit(".", 1)
        first = f"{base[0]}.{int(base[1]) + 1}"
        bridge = dockyard.bridge
    net = "app" if network == "user" else "bridge"
    rng = random.Random(os.getpid())
    for i in range(6):
        cli = dockyard.popen(
            "run", "--name", f"k{i}", "--network", net, "-p", "127.0.0.1::80", net_image,
            "sh", "-c", "sleep 0.3", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
    wait_for(
        lambda: _network_state(dockyard, bridge)[:2] == ([], []), "no veth or netns", timeout=30
    )
    assert '"dnat": {' not in _network_state(dockyard, bridge)[2]  # no DNAT: no port rule
    # no resolver runs, no container is a member of the DNS any more
    assert leaks.resolvers(f"{dockyard.run_root}/") == {}
    members = list((dockyard.run_root / "dns").glob("*/members/*"))
    assert members == [], members
    # every lease went with its container: a new one gets the first address again
    out = dockyard.run(
        "run", "--rm", "--network", net, net_image, "ip", "-4", "-o", "addr", "show", "eth0"
    ).stdout
    assert f" {first}/24" in out, out


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


def test_system_check_leaves_a_container_that_is_starting_alone(
    dockyard: Dockyard, net_image: str, tmp_path: Path
) -> None:
    """A start wires the namespace, veth, rules and DNS name under the container's lock
    before its status says running: ``system check`` and ``network prune`` meeting it
    then must not take it for a leftover (they once tore its namespace down, and the
    start failed). The start is held inside the runtime's ``start`` (runc behind a
    wrapper), everything wired, until the checks are done."""
    import shutil

    runc = shutil.which("runc")
    if runc is None:
        pytest.skip("needs runc (apt-get install runc) to hold a start half-way")
    hold = tmp_path / "hold"
    hold.mkdir()
    wrapper = tmp_path / "held-runc"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# runc, its start held until the test says go (at most 120 s)\n"
        "for arg; do\n"
        '  if [ "$arg" = start ]; then\n'
        f"    : > {hold}/waiting; i=0\n"
        f"    while [ ! -e {hold}/go ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done\n"
        "    break\n"
        "  fi\n"
        "done\n"
        f'exec {runc} "$@"\n'
    )
    wrapper.chmod(0o755)
    dockyard.run("network", "create", "--subnet", netleaks.free_subnet(), "app")
    dockyard.run("pull", net_image)
    cli = dockyard.popen(
        "run", "-d", "--runtime", str(wrapper), "--name", "slow", "--network", "app",
        "-p", "127.0.0.1::80", net_image, "httpd", "-f", "-p", "80", "-h", "/www",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for((hold / "waiting").exists, "the start to reach the runtime's start", timeout=90)
        cid = str(dockyard.inspect("slow")["Id"])
        assert dockyard.inspect("slow")["State"]["Status"] == "created"  # type: ignore[index]
        check = dockyard.run("system", "check", check=False)
        prune = dockyard.run("network", "prune", "-f", check=False)
        assert (dockyard.run_root / "netns" / cid).exists()
    finally:
        (hold / "go").touch()
        out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err.decode()
    assert "network namespace" not in check.stdout, check.stdout
    assert "app" not in prune.stdout  # in use: kept
    # all of its network works: its address, its published port, its name on app
    address = dockyard.inspect("slow")["NetworkSettings"]["Networks"]["app"]["IPAddress"]  # type: ignore[index]
    eth0 = dockyard.run("exec", "slow", "ip", "-4", "-o", "addr", "show", "eth0").stdout
    assert f"{address}/" in eth0
    port = dockyard.run("port", "slow", "80").stdout.strip().rpartition(":")[2]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
        assert answer.read() == PAGE
    ping = dockyard.run(
        "run", "--rm", "--network", "app", net_image, "ping", "-c1", "-W5", "slow", check=False
    )
    assert f"({address})" in ping.stdout and "1 packets received" in ping.stdout, ping.stdout
    assert out.decode().strip() == cid
    dockyard.run("rm", "-f", "slow")


def test_runs_beside_system_checks_keep_their_network(dockyard: Dockyard, net_image: str) -> None:
    """Twelve ``run -d -p`` on a user network, six at a time, while two loops of ``system
    check`` repair whatever they find: every run succeeds, each container reaches its
    neighbour by name, and each published port answers (before the fixes, checks took
    the namespaces, veths and port rules of containers starting beside them)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tests.integration.network.test_ports import _get

    dockyard.run("network", "create", "--subnet", netleaks.free_subnet(), "app")
    dockyard.run("pull", net_image)
    stop = threading.Event()
    checks: list[str] = []

    def check_until_stopped() -> None:
        while not stop.is_set():
            checks.append(dockyard.run("system", "check", check=False).stdout)

    def start(i: int) -> subprocess.CompletedProcess[str]:
        return dockyard.run(
            "run", "-d", "--name", f"c{i}", "--network", "app", "-p", "127.0.0.1::80",
            net_image, "httpd", "-f", "-p", "80", "-h", "/www", check=False,
        )  # fmt: skip

    checkers = [threading.Thread(target=check_until_stopped) for _ in range(2)]
    for thread in checkers:
        thread.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(start, range(12)))
    finally:
        stop.set()
        for thread in checkers:
            thread.join()
    assert checks and all(r.returncode == 0 for r in results), [r.stderr for r in results]
    # nothing of theirs was even taken for a leftover (the check's first pass once
    # listed what its repair pass then kept)
    words = ("interface", "port rules", "namespace", "DNS membership")
    wrong = [c for c in checks if any(word in c for word in words)]
    assert wrong == [], wrong
    for i in range(12):
        ping = dockyard.run("exec", f"c{i}", "ping", "-c1", "-W5", f"c{(i + 1) % 12}", check=False)
        assert "1 packets received" in ping.stdout, (i, ping.stdout, ping.stderr)
        port = dockyard.run("port", f"c{i}", "80").stdout.strip().rpartition(":")[2]
        assert _get(f"http://127.0.0.1:{port}/") == PAGE

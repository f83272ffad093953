"""DNS between containers: on a user-defined network each finds the others by name, alias,
short id and hostname at 127.0.0.11, over UDP and TCP; other names go to the host's resolvers
(a fake one on this machine here); the default bridge resolves no names, as Docker's.

Checked from inside the containers: busybox's nslookup and ping, and ``dnsq`` (dnsq.c)
where the answer's flags or TCP matter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.engine.conftest import Dockyard
from tests.support import leaks, netleaks
from tests.support.dns import FakeUpstream
from tests.support.wait import wait_for


def _ip(dockyard: Dockyard, name: str, network: str) -> str:
    networks = dockyard.inspect(name)["NetworkSettings"]["Networks"]  # type: ignore[index]
    return str(networks[network]["IPAddress"])


def _net(dockyard: Dockyard, name: str, *options: str) -> None:
    dockyard.run("network", "create", "--subnet", netleaks.free_subnet(), *options, name)


def _sleeper(dockyard: Dockyard, image: str, name: str, *options: str) -> None:
    dockyard.run("run", "-d", "--name", name, *options, image, "sleep", "600")


class Dnsq:
    """dnsq's answer: the rcode, the TC flag and the answers' values."""

    def __init__(self, out: str) -> None:
        lines = out.splitlines()
        self.text = out
        self.error = lines[0] if lines and lines[0].startswith("error") else ""
        fields = dict(w.split("=", 1) for w in lines[0].split()) if lines and not self.error else {}
        self.rcode = fields.get("rcode", "")
        self.tc = fields.get("tc") == "1"
        self.values = [line.split()[1] for line in lines[1:] if line.split()]
        self.types = [line.split()[0] for line in lines[1:] if line.split()]


def _dnsq(dockyard: Dockyard, container: str, *args: str) -> Dnsq:
    out = dockyard.run("exec", container, "dnsq", *args, check=False)
    return Dnsq(out.stdout)


def _resolvers(dockyard: Dockyard) -> dict[int, str]:
    return leaks.resolvers(str(dockyard.run_root) + "/")


@pytest.fixture
def upstream(dockyard: Dockyard) -> Iterator[FakeUpstream]:
    """A DNS server on a loopback address, made the host's resolver for this engine."""
    server = FakeUpstream()
    server.names["example.test"] = ["192.0.2.7"]
    server.names["big.test"] = [f"198.51.100.{i}" for i in range(1, 41)]
    server.truncate_udp.add("big.test")
    path = dockyard.root.parent / "upstream-resolv.conf"
    path.write_text(f"# the test's\nnameserver {server.address}\n")
    dockyard.env["DOCKYARD_RESOLV_CONF"] = str(path)
    yield server
    server.close()


def test_containers_find_each_other_by_name_alias_and_short_id(
    dockyard: Dockyard, net_image: str, runtime: str, upstream: FakeUpstream
) -> None:
    _net(dockyard, "app")
    for name, alias in (("web1", "web"), ("web2", "web"), ("db", "database")):
        dockyard.run(
            "run", "-d", "--runtime", runtime, "--name", name, "--network", "app",
            "--network-alias", alias, "--hostname", f"{name}-host", net_image, "sleep", "600",
        )  # fmt: skip
    ips = {name: _ip(dockyard, name, "app") for name in ("web1", "web2", "db")}
    db_id = str(dockyard.inspect("db")["Id"])[:12]
    reverse = ".".join(reversed(ips["db"].split("."))) + ".in-addr.arpa"

    out = dockyard.run(
        "run", "--rm", "--runtime", runtime, "--network", "app", net_image, "sh", "-c",
        "cat /etc/resolv.conf; echo ===; nslookup db; echo ===; ping -c1 -W3 database; echo ===; "
        f"dnsq {db_id}; dnsq -t database; dnsq db-host; dnsq -t web; dnsq DB.app; dnsq db AAAA; "
        f"dnsq {reverse} PTR; echo ===; for i in $(seq 20); do dnsq web | sed -n 2p; done",
        check=False,
    )  # fmt: skip

    assert out.returncode == 0, out.stdout + out.stderr
    resolv, nslookup, ping, answers, rounds = out.stdout.split("===\n")
    assert [ln for ln in resolv.splitlines() if ln.startswith(("nameserver", "options"))] == [
        "nameserver 127.0.0.11",
        "options ndots:0",
    ]
    assert "127.0.0.11" in nslookup and f"Address: {ips['db']}" in nslookup
    assert f"({ips['db']})" in ping and "1 packets received" in ping
    blocks = answers.split("rcode=")[1:]
    by_id, by_tcp, by_host, pool, qualified, aaaa, ptr = (Dnsq("rcode=" + b) for b in blocks)
    for answer in (by_id, by_tcp, by_host, qualified):
        assert (answer.rcode, answer.values) == ("NOERROR", [ips["db"]]), answer.text
    assert sorted(pool.values) == sorted([ips["web1"], ips["web2"]])
    assert (aaaa.rcode, aaaa.values) == ("NOERROR", [])  # a name of ours: not forwarded
    assert (ptr.rcode, ptr.values) == ("NOERROR", ["db.app."])
    firsts = {line.split()[1] for line in rounds.splitlines()}
    assert firsts == {ips["web1"], ips["web2"]}  # round robin: each comes first at times
    assert upstream.questions() == []  # every one of them answered locally
    inspected = dockyard.inspect("db")["NetworkSettings"]["Networks"]["app"]  # type: ignore[index]
    assert inspected["DNSNames"] == ["db", "database", db_id, "db-host"]


def test_names_follow_connect_disconnect_rename_stop_and_rm(
    dockyard: Dockyard, net_image: str, upstream: FakeUpstream
) -> None:
    _net(dockyard, "app")
    _net(dockyard, "other")
    _sleeper(dockyard, net_image, "client", "--network", "app")
    _sleeper(dockyard, net_image, "late", "--network", "other")
    assert _dnsq(dockyard, "client", "late").rcode == "NXDOMAIN"  # not on app: forwarded
    assert upstream.questions() == ["late"]

    dockyard.run("network", "connect", "--alias", "latecomer", "app", "late")
    late_ip = _ip(dockyard, "late", "app")
    assert _dnsq(dockyard, "client", "late").values == [late_ip]
    assert _dnsq(dockyard, "client", "-t", "latecomer").values == [late_ip]
    assert _dnsq(dockyard, "late", "client").values == [_ip(dockyard, "client", "app")]

    dockyard.run("rename", "late", "later")
    assert _dnsq(dockyard, "client", "later").values == [late_ip]
    assert _dnsq(dockyard, "client", "late").rcode == "NXDOMAIN"

    dockyard.run("network", "disconnect", "app", "later")
    assert _dnsq(dockyard, "client", "later").rcode == "NXDOMAIN"
    assert _dnsq(dockyard, "client", "latecomer").rcode == "NXDOMAIN"

    _sleeper(dockyard, net_image, "napper", "--network", "app")
    assert _dnsq(dockyard, "client", "napper").rcode == "NOERROR"
    dockyard.run("stop", "-t", "0", "napper")
    assert _dnsq(dockyard, "client", "napper").rcode == "NXDOMAIN"
    dockyard.run("start", "napper")  # a new namespace: the resolver listens in it again
    assert _dnsq(dockyard, "napper", "-t", "client").values == [_ip(dockyard, "client", "app")]
    assert _dnsq(dockyard, "client", "napper").values == [_ip(dockyard, "napper", "app")]

    dockyard.run("rm", "-f", "napper")
    assert _dnsq(dockyard, "client", "napper").rcode == "NXDOMAIN"


def test_names_on_another_network_do_not_resolve(
    dockyard: Dockyard, net_image: str, upstream: FakeUpstream
) -> None:
    _net(dockyard, "red")
    _net(dockyard, "blue")
    _sleeper(dockyard, net_image, "xi", "--network", "red")
    _sleeper(dockyard, net_image, "yu", "--network", "blue")
    _sleeper(dockyard, net_image, "both", "--network", "red")
    dockyard.run("network", "connect", "blue", "both")

    for name in ("yu", "yu.blue"):
        assert _dnsq(dockyard, "xi", name).rcode == "NXDOMAIN"
        assert _dnsq(dockyard, "xi", "-t", name).rcode == "NXDOMAIN"
    assert sorted(set(upstream.questions())) == ["yu", "yu.blue"]  # forwarded, never answered
    assert _dnsq(dockyard, "xi", "both").values == [_ip(dockyard, "both", "red")]
    assert _dnsq(dockyard, "yu", "both").values == [_ip(dockyard, "both", "blue")]
    assert _dnsq(dockyard, "both", "xi").values == [_ip(dockyard, "xi", "red")]
    assert _dnsq(dockyard, "both", "yu.blue").values == [_ip(dockyard, "yu", "blue")]
    assert _dnsq(dockyard, "both", "xi.blue").rcode == "NXDOMAIN"  # xi is not on blue


def test_other_names_go_to_the_hosts_resolvers(
    dockyard: Dockyard, net_image: str, upstream: FakeUpstream
) -> None:
    _net(dockyard, "app")
    _sleeper(dockyard, net_image, "box", "--network", "app")

    out = dockyard.run("exec", "box", "nslookup", "example.test", check=False).stdout
    assert "Address: 192.0.2.7" in out
    assert _dnsq(dockyard, "box", "example.test").values == ["192.0.2.7"]
    assert _dnsq(dockyard, "box", "-t", "example.test").values == ["192.0.2.7"]
    assert ("tcp", "example.test", "A") in upstream.asked  # TCP asked over TCP
    assert _dnsq(dockyard, "box", "missing.test").rcode == "NXDOMAIN"
    # too big for UDP: the truncated answer comes back as it is, the client asks over TCP
    udp = _dnsq(dockyard, "box", "big.test")
    assert udp.tc and udp.values == []
    tcp = _dnsq(dockyard, "box", "-t", "big.test")
    assert not tcp.tc and len(tcp.values) == 40

    # --dns: that server instead of the host's, behind the same 127.0.0.11
    own = FakeUpstream()
    try:
        own.names["mine.test"] = ["192.0.2.99"]
        _sleeper(dockyard, net_image, "picky", "--network", "app", "--dns", own.address)
        resolv = dockyard.run("exec", "picky", "cat", "/etc/resolv.conf").stdout
        assert "nameserver 127.0.0.11" in resolv and own.address not in resolv
        assert _dnsq(dockyard, "picky", "mine.test").values == ["192.0.2.99"]
        assert _dnsq(dockyard, "picky", "box").values == [_ip(dockyard, "box", "app")]
        assert "mine.test" not in upstream.questions()
    finally:
        own.close()

    # --internal: nothing forwarded (SERVFAIL, as Docker), local names still answered
    _net(dockyard, "closed", "--internal")
    _sleeper(dockyard, net_image, "hermit", "--network", "closed")
    _sleeper(dockyard, net_image, "monk", "--network", "closed")
    asked = len(upstream.asked)
    assert _dnsq(dockyard, "hermit", "example.test").rcode == "SERVFAIL"
    assert _dnsq(dockyard, "hermit", "monk").values == [_ip(dockyard, "monk", "closed")]
    assert len(upstream.asked) == asked


def test_the_default_bridge_resolves_no_names(dockyard: Dockyard, net_image: str) -> None:
    _sleeper(dockyard, net_image, "peer")
    gateway = dockyard.env["DOCKYARD_BIP"].split("/")[0]
    fake = FakeUpstream(gateway)  # the bridge's address: reachable from its containers
    try:
        _sleeper(dockyard, net_image, "client", "--dns", gateway)
        resolv = dockyard.run("exec", "client", "cat", "/etc/resolv.conf").stdout
        assert "127.0.0.11" not in resolv and f"nameserver {gateway}" in resolv
        for args in (("-s", "127.0.0.11", "peer"), ("-t", "-s", "127.0.0.11", "peer")):
            assert _dnsq(dockyard, "client", *args).error  # nobody listens there
        lookup = dockyard.run("exec", "client", "nslookup", "peer", check=False)
        assert _ip(dockyard, "peer", "bridge") not in lookup.stdout
        assert "peer" in fake.questions()  # an ordinary name for the client's resolvers
    finally:
        fake.close()
    assert _resolvers(dockyard) == {}  # no resolver runs for the default bridge


def test_twenty_containers_on_one_network_at_once(
    dockyard: Dockyard, net_image: str, upstream: FakeUpstream
) -> None:
    _net(dockyard, "crowd")
    dockyard.run("pull", net_image)

    def start(i: int) -> subprocess.CompletedProcess[str]:
        return dockyard.run(
            "run", "-d", "--name", f"c{i}", "--network", "crowd", "--network-alias", "pool",
            net_image, "sleep", "600", check=False,
        )  # fmt: skip

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(start, range(20)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    ips = {_ip(dockyard, f"c{i}", "crowd") for i in range(20)}
    assert len(ips) == 20 and len(_resolvers(dockyard)) == 1

    assert set(_dnsq(dockyard, "c0", "-t", "pool").values) == ips
    assert set(_dnsq(dockyard, "c7", "pool").values) == ips  # 20 answers fit in 512 bytes
    names = " ".join(f"c{i}" for i in range(20))
    out = dockyard.run(
        "exec", "c13", "sh", "-c", f"for n in {names}; do dnsq $n | sed -n 2p; done"
    ).stdout
    assert {line.split()[1] for line in out.splitlines()} == ips

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda i: dockyard.run("rm", "-f", f"c{i}"), range(20)))
    assert _resolvers(dockyard) == {}
    assert not (Path(dockyard.run_root) / "dns").exists() or not any(
        (d / "ctl").exists() for d in (Path(dockyard.run_root) / "dns").iterdir()
    )


def test_the_resolver_lives_with_its_containers_and_system_check_repairs_it(
    dockyard: Dockyard, net_image: str, upstream: FakeUpstream
) -> None:
    _net(dockyard, "app")
    _sleeper(dockyard, net_image, "plain")  # the default bridge: no resolver
    assert _resolvers(dockyard) == {}
    _sleeper(dockyard, net_image, "one", "--network", "app")
    _sleeper(dockyard, net_image, "two", "--network", "app")
    (pid,) = _resolvers(dockyard)

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _resolvers(dockyard) == {}, "the resolver to die", timeout=10)
    assert _dnsq(dockyard, "one", "two").error  # nobody answers any more
    check = dockyard.run("system", "check", "--no-repair", check=False)
    assert "DNS resolver not running for 2 container(s)" in check.stdout, check.stdout
    dockyard.run("system", "check", check=False)
    assert _dnsq(dockyard, "one", "two").values == [_ip(dockyard, "two", "app")]
    assert len(_resolvers(dockyard)) == 1

    # a container that crashed (monitor and init killed) keeps its name until system check
    cid = str(dockyard.inspect("two")["Id"])
    init = int(dockyard.inspect("two")["State"]["Pid"])  # type: ignore[index]
    monitor = int((dockyard.run_root / "c" / cid / "monitor.pid").read_text())
    os.kill(monitor, signal.SIGKILL)
    os.kill(init, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{init}").exists(), "its init to go", timeout=10)
    dockyard.run("system", "check", check=False)
    assert _dnsq(dockyard, "one", "two").rcode == "NXDOMAIN"

    dockyard.run("rm", "-f", "one")
    assert _resolvers(dockyard) == {}  # the last user gone: so is the resolver
    report = dockyard.run("system", "check", "--no-repair", check=False).stdout
    assert "DNS" not in report, report
    state = json.loads(dockyard.run("network", "inspect", "app").stdout)[0]
    assert state["Containers"] == {}


def test_a_restart_policy_s_restart_is_found_by_name_again(
    dockyard: Dockyard, net_image: str, upstream: FakeUpstream
) -> None:
    """The only container on its network exits (its resolver ends with it) and its
    restart policy starts it again from a monitor's timer, not from a CLI: the restart
    starts a resolver that answers it, and nothing of it outlives the container."""
    _net(dockyard, "app")
    volume = dockyard.run("volume", "create").stdout.strip()
    dockyard.run(
        "run", "-d", "--name", "phoenix", "--network", "app", "--restart", "on-failure",
        "-v", f"{volume}:/data", net_image, "sh", "-c",
        "if [ -e /data/ran ]; then exec sleep 600; fi; touch /data/ran; exit 3",
    )  # fmt: skip

    def restarted() -> bool:
        state = dockyard.inspect("phoenix")
        # (Running is true while it waits to restart too, as Docker's)
        return bool(state["RestartCount"] == 1 and state["State"]["Status"] == "running")  # type: ignore[index]

    wait_for(restarted, "the restart policy's restart", timeout=60)
    address = _ip(dockyard, "phoenix", "app")
    wait_for(lambda: len(_resolvers(dockyard)) == 1, "its resolver", timeout=30)
    assert _dnsq(dockyard, "phoenix", "phoenix").values == [address]
    assert _dnsq(dockyard, "phoenix", "-t", "phoenix").values == [address]
    dockyard.run("rm", "-f", "phoenix")
    assert _resolvers(dockyard) == {}

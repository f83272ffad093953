"""The embedded DNS without root: the records' text, the control replies, the names Docker
gives an endpoint, where forwarded names go, and the resolver's binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dockyard.engine import etc_files
from dockyard.engine.net_dns import _ndots_set, dns_names, user_network
from dockyard.engine.net_etc import resolver_for
from dockyard.engine.network_types import EndpointRecord, NetworkRecord
from dockyard.engine.types import ContainerConfig, ContainerRecord
from dockyard.errors import HostError
from dockyard.network import dns
from dockyard.network.dns.control import _parse
from dockyard.network.dns.records import HEADER, DnsClient, DnsEntry, DnsNetwork, render


def test_records_are_tab_separated_lines_the_resolver_reads() -> None:
    text = render(
        [DnsNetwork("n1", "front")],
        [DnsEntry("n1", "10.0.0.2", ["web", "Web", "alias", "bad name", "", "a,b", "web"])],
        [
            DnsClient("c1", "/run/netns/c1", ["n1"], ["10.0.0.53", "::1", "a", "b", "c"]),
            DnsClient("c2", "/run/netns/c2", [], [], forward=False, ndots=True),
            DnsClient("c3", "/run/netns/c3", ["n1"], [], forward=False),
        ],
    )
    assert text.splitlines() == [
        HEADER,
        "N\tn1\tfront",
        "A\tn1\t10.0.0.2\tweb\talias",  # names the format cannot carry, and repeats, dropped
        "C\tc1\t/run/netns/c1\tf\tn1\t10.0.0.53,::1,a",  # three upstream servers at most
        "C\tc2\t/run/netns/c2\tn\t-\t-",
        "C\tc3\t/run/netns/c3\t-\tn1\t-",
    ]


def test_control_replies() -> None:
    reply = _parse("ok 2\nfail abc cannot enter it: no\nexit 77\n")
    assert (reply.served, reply.failed, reply.exited) == (2, {"abc": "cannot enter it: no"}, 77)
    with pytest.raises(HostError, match="refused a command: unknown command"):
        _parse("error unknown command\n")


def _rec(name: str, hostname: str) -> ContainerRecord:
    return ContainerRecord(
        id="abcdef0123456789" * 4,
        name=name,
        image_id="sha256:" + "0" * 64,
        created="2026-01-01T00:00:00Z",
        status="running",
        config=ContainerConfig(image="busybox", hostname=hostname),
    )


def test_an_endpoint_answers_to_dockers_dns_names() -> None:
    ep = EndpointRecord("n", "c", "e", "10.0.0.2", aliases=["web", "box"])
    assert dns_names(_rec("box", "abcdef012345"), ep) == ["box", "web", "abcdef012345"]
    assert dns_names(_rec("box", "host1"), ep) == ["box", "web", "abcdef012345", "host1"]


def test_only_user_defined_bridges_get_the_resolver() -> None:
    user = NetworkRecord("1", "app", "bridge", "now", subnet="10.0.0.0/24")
    default = NetworkRecord("2", "bridge", "bridge", "now", subnet="172.17.0.0/16", default=True)
    host = NetworkRecord("3", "host", "host", "now")
    assert [user_network(n) for n in (user, default, host)] == [True, False, False]
    assert [resolver_for(n) for n in (user, default)] == [dns.ADDRESS, ""]
    assert dns.ADDRESS == "127.0.0.11"


def test_ndots_set_by_the_user() -> None:
    assert _ndots_set(["ndots:2"]) and _ndots_set(["edns0", "ndots:1"]) and _ndots_set(["ndots:0"])
    assert not _ndots_set(["timeout:2"]) and not _ndots_set(["ndots:x"]) and not _ndots_set([])


def test_forwarded_names_go_to_the_configured_host_resolvers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# test\nnameserver 127.0.0.1\nnameserver 10.1.1.1\nsearch corp\n")
    monkeypatch.setenv("DOCKYARD_RESOLV_CONF", str(conf))
    # the resolver reaches loopback resolvers from the host: they are kept for it...
    assert etc_files.host_nameservers() == ["127.0.0.1", "10.1.1.1"]
    # ...but not in a default bridge container's own file, where they would be its own
    assert etc_files.resolv_conf(False).splitlines() == [
        "# test",
        "nameserver 10.1.1.1",
        "search corp",
    ]
    conf.write_text("search corp\n")
    assert etc_files.host_nameservers() == ["8.8.8.8", "8.8.4.4"]  # Docker's fallbacks
    monkeypatch.delenv("DOCKYARD_RESOLV_CONF")
    assert etc_files.host_resolv_path() == "/etc/resolv.conf"


def test_the_resolver_is_built_once_per_source(tmp_path: Path) -> None:
    path = Path(dns.binary(str(tmp_path)))
    assert path.name.startswith("dockyard-resolver-") and path.parent == tmp_path
    assert dns.binary(str(tmp_path)) == str(path)
    usage = subprocess.run([path, "--help"], capture_output=True, text=True, check=True)
    assert usage.stdout.startswith("usage: dockyard-resolver")
    bad = subprocess.run([path, "--dir", "relative", "--ctl-fd", "3"], capture_output=True)
    assert bad.returncode == 2

"""/etc/hosts and resolv.conf with networks: --add-host, --dns*, the embedded resolver's hook."""

from __future__ import annotations

from pathlib import Path

from dockyard.engine import etc_files
from dockyard.engine.net_etc import parse_add_host


def test_hosts_lists_added_hosts_then_the_container(tmp_path: Path) -> None:
    text = etc_files.hosts("box", False, "10.0.0.2", extra=[("10.1.2.3", "db")])
    lines = text.splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost"
    assert lines[-2:] == ["10.1.2.3\tdb", "10.0.0.2\tbox"]


def test_resolv_conf_overrides(tmp_path: Path) -> None:
    host = tmp_path / "resolv.conf"
    host.write_text("nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch corp\noptions edns0\n")
    plain = etc_files.resolv_conf(False, str(host))
    assert "127.0.0.53" not in plain and "nameserver 10.0.0.1" in plain
    custom = etc_files.resolv_conf(
        False, str(host), dns=["9.9.9.9"], search=["a.example"], options=["ndots:3"]
    )
    assert custom.splitlines() == ["nameserver 9.9.9.9", "search a.example", "options ndots:3"]
    resolver = etc_files.resolv_conf(False, str(host), resolver="127.0.0.11")
    assert resolver.splitlines() == ["search corp", "nameserver 127.0.0.11", "options ndots:0"]


def test_add_host_forms() -> None:
    assert parse_add_host("db:10.0.0.5") == ("db", "10.0.0.5")
    assert parse_add_host("db=10.0.0.5") == ("db", "10.0.0.5")
    assert parse_add_host("gw:host-gateway") == ("gw", "host-gateway")


def test_bad_add_host_is_refused() -> None:
    import pytest

    from dockyard.errors import InvalidArgument

    for bad in ("nohost", "db:", "db:not-an-ip"):
        with pytest.raises(InvalidArgument):
            parse_add_host(bad)

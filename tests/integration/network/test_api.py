"""Networks through the Python API, as docker-py's: client.networks and run's network kwargs."""

from __future__ import annotations

import socket

import pytest

import dockyard as api
from tests.integration.engine.conftest import Dockyard
from tests.integration.engine.test_api import dockyard_client
from tests.integration.network.conftest import PAGE
from tests.integration.network.test_ports import _get
from tests.support import netleaks


def test_networks_and_ports_through_the_api(dockyard: Dockyard, net_image: str) -> None:
    with dockyard_client(dockyard) as client:
        subnet = netleaks.free_subnet()
        net = client.networks.create(
            "apinet", ipam={"Config": [{"Subnet": subnet}]}, labels={"team": "net"}
        )
        assert net.name == "apinet" and net.attrs["IPAM"]["Config"][0]["Subnet"] == subnet
        assert [n.name for n in client.networks.list(filters={"label": "team=net"})] == ["apinet"]
        with socket.socket() as s:
            s.bind(("0.0.0.0", 0))
            port = s.getsockname()[1]
        web = client.containers.run(
            net_image, ["httpd", "-f", "-p", "80", "-h", "/www"], detach=True, network="apinet",
            ports={"80/tcp": ("127.0.0.1", port)}, extra_hosts={"db": "10.9.8.7"},
            dns=["10.0.0.53"],
        )  # fmt: skip
        try:
            assert _get(f"http://127.0.0.1:{port}/") == PAGE  # retried until httpd listens
            web.reload()
            settings = web.attrs["NetworkSettings"]
            assert settings["Ports"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
            assert settings["Networks"]["apinet"]["IPAddress"].startswith(subnet[:-5])
            net.reload()
            assert list(net.attrs["Containers"]) == [web.id]
            other = client.networks.create("apinet2")
            other.connect(web, aliases=["w2"])
            web.reload()
            assert set(web.attrs["NetworkSettings"]["Networks"]) == {"apinet", "apinet2"}
            # the embedded DNS: on apinet2 it has its name and the alias given there
            address = web.attrs["NetworkSettings"]["Networks"]["apinet2"]["IPAddress"]
            asked = client.containers.run(
                net_image, ["sh", "-c", f"dnsq {web.name}; dnsq w2; dnsq -t w2"],
                network="apinet2", remove=True,
            )  # fmt: skip
            assert asked.decode().count(f"\nA {address} ") == 3, asked
            other.disconnect(web)
            other.remove()
            with pytest.raises(api.APIError):
                net.remove()  # a container is on it
        finally:
            web.remove(force=True)
        assert client.networks.prune() == {"NetworksDeleted": ["apinet"]}
        with pytest.raises(api.NotFound):
            client.networks.get("apinet")

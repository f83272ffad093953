"""The registry client's settings: environment, Retry-After, backoff, NO_PROXY rules."""

from __future__ import annotations

import email.utils
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.image.options import ClientOptions
from dockyard.image.proxy import Proxy, ProxySettings, proxy_for
from dockyard.image.response import RateWatch, TransferStalled
from dockyard.image.retry import backoff, retry_after


def test_defaults_are_sane_and_the_environment_overrides_them() -> None:
    default = ClientOptions.from_env({})
    assert default == ClientOptions()
    assert 10 <= default.stall_timeout <= 120 and default.min_rate > 0 and default.retries > 0
    assert default.certs_dir == Path("/etc/docker/certs.d")
    env = {
        "DOCKYARD_REGISTRY_STALL_TIMEOUT": "2.5",
        "DOCKYARD_REGISTRY_MIN_RATE": "0",
        "DOCKYARD_REGISTRY_RETRIES": "1",
        "DOCKYARD_REGISTRY_MAX_WAIT": "5",
        "DOCKYARD_CERTS_DIR": "/tmp/certs",
        "https_proxy": "proxy:3128",
        "NO_PROXY": "internal",
    }
    options = ClientOptions.from_env(env)
    assert (options.stall_timeout, options.min_rate, options.retries, options.max_wait) == (
        2.5,
        0,
        1,
        5,
    )
    assert options.certs_dir == Path("/tmp/certs")
    assert options.proxies == ProxySettings("", "proxy:3128", "internal")


@pytest.mark.parametrize("value", ["soon", "-1", "0", "nan", "inf"])
def test_a_bad_stall_timeout_is_one_clear_error(value: str) -> None:
    with pytest.raises(InvalidArgument, match="DOCKYARD_REGISTRY_STALL_TIMEOUT"):
        ClientOptions.from_env({"DOCKYARD_REGISTRY_STALL_TIMEOUT": value})


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = 1_700_000_000.0
    assert retry_after("7", now) == 7.0
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after("Tue, 14 Nov 2023 22:13:20 -0000", now) == 0.0
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0  # the past
    assert retry_after("", now) is None
    assert retry_after("in a while", now) is None


def test_backoff_doubles_up_to_a_ceiling() -> None:
    options = ClientOptions()
    waits = [backoff(n, options) for n in range(8)]
    assert 0.4 <= waits[0] <= 0.6 and 0.8 <= waits[1] <= 1.2
    assert all(w <= options.max_backoff * 1.2 for w in waits)


def test_rate_watch_passes_a_steady_body_and_stops_a_trickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [0.0]
    monkeypatch.setattr("dockyard.image.response.time.monotonic", lambda: clock[0])
    steady = RateWatch(10, 100, "blob")
    for _ in range(100):
        clock[0] += 1
        steady.feed(150)  # 150 B/s, above the minimum, window after window
    clock[0] = 0.0
    trickle = RateWatch(10, 100, "blob")
    with pytest.raises(TransferStalled, match="blob: stalled: 90 bytes in 10 s"):
        for _ in range(100):
            clock[0] += 1
            trickle.feed(9)


PROXIES = ProxySettings(http="http://web-proxy:8080", https="sec-proxy:3128")


@pytest.mark.parametrize(
    ("scheme", "netloc", "no_proxy", "expected"),
    [
        ("https", "registry.example:5000", "", "sec-proxy"),
        ("http", "registry.example", "", "web-proxy"),
        ("https", "localhost:5000", "", None),  # loopback never goes through a proxy
        ("https", "127.0.0.1:5000", "", None),
        ("https", "[::1]:5000", "", None),
        ("https", "registry.example", "*", None),
        ("https", "registry.example", "other, registry.example", None),
        ("https", "sub.registry.example", "registry.example", None),  # subdomains too
        ("https", "registry.example", ".registry.example", "sec-proxy"),  # subdomains only
        ("https", "sub.registry.example", "*.registry.example", None),
        ("https", "notregistry.example", "registry.example", "sec-proxy"),
        ("https", "registry.example:5000", "registry.example:5000", None),
        ("https", "registry.example:5001", "registry.example:5000", "sec-proxy"),
        ("https", "registry.example", "registry.example:443", None),  # the default port
        ("https", "10.1.2.3:5000", "10.0.0.0/8", None),
        ("https", "11.1.2.3:5000", "10.0.0.0/8", "sec-proxy"),
        ("https", "[fd00::1]:5000", "fd00::/8", None),
        ("https", "10.1.2.3", "10.1.2.3", None),
        ("https", "REGISTRY.example", "registry.EXAMPLE", None),
    ],
)
def test_which_requests_go_through_the_proxy(
    scheme: str, netloc: str, no_proxy: str, expected: str | None
) -> None:
    settings = ProxySettings(PROXIES.http, PROXIES.https, no_proxy)
    proxy = proxy_for(scheme, netloc, settings)
    assert (proxy.host if proxy else None) == expected


def test_proxy_urls_and_their_credentials() -> None:
    assert ProxySettings.from_env({"http_proxy": "a:1", "HTTP_PROXY": "b:2"}).http == "b:2"
    settings = ProxySettings(https="http://us%40r:p%3Ass@proxy.example:3128")
    assert proxy_for("https", "r.example", settings) == Proxy(
        "proxy.example", 3128, "Basic dXNAcjpwOnNz"
    )
    assert proxy_for("https", "r.example", ProxySettings(https="proxy")) == Proxy("proxy", 80)
    with pytest.raises(Unsupported, match="only http:// proxies"):
        proxy_for("https", "r.example", ProxySettings(https="socks5://proxy:1080"))
    assert proxy_for("https", "r.example", ProxySettings(http="proxy:1")) is None

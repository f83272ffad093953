"""/etc/hosts, /etc/hostname and /etc/resolv.conf as the engine writes them for a container.

Docker writes these three files per container and bind-mounts them over
the image's; so do we. In its own network namespace a container gets the
standard localhost entries and the host's resolvers minus the loopback
ones (they would point into the container's own loopback), falling back to
public resolvers when none is left, as Docker does; on the host's network
it gets the host's files as they are.
"""

from __future__ import annotations

HOSTS_DEFAULT = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")
HOST_RESOLV = "/etc/resolv.conf"
#: where systemd-resolved keeps the real upstream servers when /etc/resolv.conf
#: names its 127.0.0.53 stub (Docker reads this one then)
RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def hosts(
    hostname: str, host_network: bool, address: str = "", host_file: str = "/etc/hosts"
) -> str:
    if host_network:
        return _read(host_file)
    text = HOSTS_DEFAULT
    if address:
        text += f"{address}\t{hostname}\n"
    return text


def hostname_file(hostname: str) -> str:
    return f"{hostname}\n"


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "0:0:0:0:0:0:0:1")


def resolv_conf(host_network: bool, host_file: str = HOST_RESOLV) -> str:
    text = _read(host_file)
    if host_network:
        return text
    lines = text.splitlines()
    servers = [
        ln.split()[1] for ln in lines if ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1
    ]
    if servers and all(s == "127.0.0.53" for s in servers) and host_file == HOST_RESOLV:
        upstream = _read(RESOLVED_UPSTREAM)
        if upstream:
            lines = upstream.splitlines()
    kept = []
    for line in lines:
        words = line.split()
        if words[:1] == ["nameserver"] and len(words) > 1 and _is_loopback(words[1]):
            continue
        kept.append(line)
    if not any(ln.split()[:1] == ["nameserver"] for ln in kept):
        kept += [f"nameserver {s}" for s in FALLBACK_NAMESERVERS]
    return "\n".join(kept) + "\n"

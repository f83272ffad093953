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
#: another file to read the host's resolvers from (tests point it at fake ones)
RESOLV_ENV = b"DOCKYARD_RESOLV_CONF"
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
    hostname: str,
    host_network: bool,
    address: str = "",
    host_file: str = "/etc/hosts",
    extra: list[tuple[str, str]] | None = None,
) -> str:
    """Docker's order: the standard entries, ``--add-host``'s, then the container's own."""
    text = _read(host_file) if host_network else HOSTS_DEFAULT
    for ip, name in extra or []:
        text += f"{ip}\t{name}\n"
    if address and not host_network:
        text += f"{address}\t{hostname}\n"
    return text


def hostname_file(hostname: str) -> str:
    return f"{hostname}\n"


def host_resolv_path() -> str:
    """The host's resolv.conf: ``DOCKYARD_RESOLV_CONF`` if set, else /etc/resolv.conf."""
    import posix

    value = posix.environ.get(RESOLV_ENV)
    return value.decode() if value else HOST_RESOLV


def _servers(lines: list[str]) -> list[str]:
    return [
        ln.split()[1] for ln in lines if ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1
    ]


def _host_lines(host_file: str) -> list[str]:
    """The host file's lines; systemd-resolved's upstream file when it names only the
    127.0.0.53 stub (Docker reads that one then)."""
    lines = _read(host_file).splitlines()
    servers = _servers(lines)
    if servers and all(s == "127.0.0.53" for s in servers) and host_file == HOST_RESOLV:
        upstream = _read(RESOLVED_UPSTREAM)
        if upstream:
            return upstream.splitlines()
    return lines


def host_nameservers(host_file: str = "") -> list[str]:
    """Where the embedded resolver forwards: the host's resolvers, loopback ones too (it
    reaches them from the host's namespace), else Docker's fallbacks."""
    return _servers(_host_lines(host_file or host_resolv_path())) or list(FALLBACK_NAMESERVERS)


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "0:0:0:0:0:0:0:1")


def resolv_conf(
    host_network: bool,
    host_file: str = "",
    dns: list[str] | None = None,
    search: list[str] | None = None,
    options: list[str] | None = None,
    resolver: str = "",
) -> str:
    """The host's file (its loopback resolvers dropped off the host's network), with
    ``--dns``, ``--dns-search`` and ``--dns-option`` replacing what they name, as Docker
    does; ``resolver`` (the embedded DNS's address) takes the nameservers' place."""
    host_file = host_file or host_resolv_path()
    if dns or search or options or resolver:
        return _override(resolv_conf(host_network, host_file), dns, search, options, resolver)
    if host_network:
        return _read(host_file)
    lines = _host_lines(host_file)
    kept = []
    for line in lines:
        words = line.split()
        if words[:1] == ["nameserver"] and len(words) > 1 and _is_loopback(words[1]):
            continue
        kept.append(line)
    if not any(ln.split()[:1] == ["nameserver"] for ln in kept):
        kept += [f"nameserver {s}" for s in FALLBACK_NAMESERVERS]
    return "\n".join(kept) + "\n"


def _override(
    base: str,
    dns: list[str] | None,
    search: list[str] | None,
    options: list[str] | None,
    resolver: str,
) -> str:
    lines = base.splitlines()
    keep = []
    for line in lines:
        word = line.split()[:1]
        if word == ["nameserver"] and (dns or resolver):
            continue
        if word in (["search"], ["domain"]) and search:
            continue
        if word == ["options"] and (options or resolver):
            continue
        keep.append(line)
    if resolver:
        keep.append(f"nameserver {resolver}")
    else:
        keep += [f"nameserver {s}" for s in dns or []]
    if search and search != ["."]:
        keep.append("search " + " ".join(search))
    opts = list(options or [])
    if resolver and not any(o.startswith("ndots:") for o in opts):
        opts.insert(0, "ndots:0")
    if opts:
        keep.append("options " + " ".join(opts))
    return "\n".join(keep) + "\n"

"""What the monitor needs to run a container's health checks: the probe file.

Health checks run on the container's monitor's own timer, in C, with no
runtime process and no Python (docs/monitor.md, "Health checks"). At each
start the engine writes, in the container's run directory:

- ``health.probe``: NUL-separated key/value pairs: the timings (Docker's
  defaults for zeros), the command (CMD-SHELL through ``/bin/sh -c``), and
  the process it runs as, which is what ``docker exec`` would run
  (`engine.exec.process_spec`: the container's user and groups, working
  directory, environment, capabilities, no_new_privileges, rlimits,
  oom_score_adj, umask);
- ``health.bpf``: the container's seccomp profile compiled to the BPF the
  runtime loads (through the runtime's own cache), with its flags.

The monitor joins the init's cgroups and namespaces itself, so that one
file serves every runtime (runc too).
"""

from __future__ import annotations

import posix

from dockyard.engine import health_config
from dockyard.errors import Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

PROBE_FILE = "health.probe"
STATE_FILE = "health.json"
BPF_FILE = "health.bpf"
CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def wanted(rec: ContainerRecord) -> bool:
    return health_config.probe(rec.config.healthcheck) is not None


def write(engine: Engine, rec: ContainerRecord) -> None:
    """The probe file (and filter) for this start, in the container's run directory.

    What cannot be described (a user the image lacks, say) does not stop the
    start: as Docker's checks would, each check fails with the reason."""
    from dockyard.errors import DockyardError

    argv = health_config.probe(rec.config.healthcheck)
    if argv is None:
        return
    config = rec.config.healthcheck
    assert config is not None
    pairs: list[tuple[str, str]] = [
        ("interval", str(config.interval or health_config.DEFAULT_INTERVAL)),
        ("timeout", str(config.timeout or health_config.DEFAULT_TIMEOUT)),
        ("start-period", str(config.start_period)),
        ("start-interval", str(config.start_interval or health_config.DEFAULT_START_INTERVAL)),
        ("retries", str(config.retries or health_config.DEFAULT_RETRIES)),
        (
            "timeout-text",
            health_config.format_duration(config.timeout or health_config.DEFAULT_TIMEOUT),
        ),
    ]
    run = engine.paths.run_dir(rec.id)
    try:
        pairs += _process(engine, rec, argv, run)
    except (DockyardError, OSError, ValueError) as exc:
        pairs.append(("error", str(exc) or type(exc).__name__))
    data = b"".join(
        k.encode() + b"\0" + v.encode(errors="surrogateescape") + b"\0" for k, v in pairs
    )
    _write(f"{run}/{PROBE_FILE}", data)


def _process(
    engine: Engine, rec: ContainerRecord, argv: list[str], run: str
) -> list[tuple[str, str]]:
    """The check's process: docker exec's for the container, and its seccomp filter."""
    from dockyard.engine.exec import ExecRequest, process_spec
    from dockyard.oci import jsonio

    process = process_spec(engine, rec, ExecRequest(cmd=argv))
    pairs = [("arg", a) for a in process["args"]]
    pairs += [("env", e) for e in process.get("env") or []]
    pairs += _user(process)
    pairs += _capabilities(process)
    if process.get("noNewPrivileges"):
        pairs.append(("nnp", "1"))
    pairs += _rlimits(process)
    if process.get("oomScoreAdj") is not None:
        pairs.append(("oom-score-adj", str(int(process["oomScoreAdj"]))))
    with open(f"{engine.paths.container_dir(rec.id)}/config.json", "rb") as f:
        bundle = jsonio.loads(f.read())
    seccomp = (bundle.get("linux") or {}).get("seccomp")
    if seccomp:
        late = bool(process.get("noNewPrivileges"))
        pairs += _seccomp(engine, seccomp, f"{run}/{BPF_FILE}", late)
    return pairs


def monitor_options(engine: Engine, rec: ContainerRecord) -> list[str]:
    """The monitor's health options for this container ([] without a check)."""
    if not wanted(rec):
        return []
    from dockyard.engine.launch import dockyard_command

    run = engine.paths.run_dir(rec.id)
    opts = ["--health-probe", f"{run}/{PROBE_FILE}", "--health-state", f"{run}/{STATE_FILE}"]
    # each change of status is an event: the status is appended to this command
    event = [*dockyard_command(), "--root", engine.paths.root, "--run-root", engine.paths.run_root]
    event += ["container", "health-event", rec.id]
    for arg in event:
        opts += ["--health-command", arg]
    return opts


def _user(process: dict[str, Any]) -> list[tuple[str, str]]:
    user = process.get("user") or {}
    pairs = [
        ("cwd", str(process.get("cwd") or "/")),
        ("uid", str(int(user.get("uid", 0)))),
        ("gid", str(int(user.get("gid", 0)))),
        ("set-groups", "1"),  # runc's setgroups: the monitor's own groups never leak in
    ]
    pairs += [("group", str(int(g))) for g in user.get("additionalGids") or []]
    if user.get("umask") is not None:
        pairs.append(("umask", format(int(user["umask"]), "o")))
    return pairs


def _capabilities(process: dict[str, Any]) -> list[tuple[str, str]]:
    from dockyard.linux.capabilities import CAPABILITIES

    caps = process.get("capabilities")
    if caps is None:
        return []
    masks = []
    for name in CAP_SETS:
        mask = 0
        for cap in caps.get(name) or []:
            number = CAPABILITIES.get(cap)
            if number is not None:  # unknown to us: the runtime ignores it too
                mask |= 1 << number
        masks.append(format(mask, "x"))
    return [("caps", " ".join(masks))]


def _rlimits(process: dict[str, Any]) -> list[tuple[str, str]]:
    from dockyard.linux.libc import RLIMITS

    pairs = []
    for limit in process.get("rlimits") or []:
        number = RLIMITS.get(str(limit.get("type")))
        if number is None:
            continue
        soft, hard = int(limit.get("soft", 0)), int(limit.get("hard", 0))
        pairs.append(("rlimit", f"{number} {soft & (2**64 - 1)} {hard & (2**64 - 1)}"))
    return pairs


def _seccomp(engine: Engine, raw: Any, path: str, late: bool) -> list[tuple[str, str]]:
    """The filter as the runtime compiles it, through the runtime's cache of programs."""
    from dockyard.oci.seccomp import parse_seccomp
    from dockyard.runtime.seccomp import CACHE_DIR, cached_bpf, kernel_flags, preload

    seccomp = parse_seccomp(raw)
    if seccomp is None:
        return []
    if seccomp.notifies:
        raise Unsupported(
            "a health check cannot run under a seccomp profile that notifies (SCMP_ACT_NOTIFY)"
        )
    preload(seccomp)
    cache = f"{engine.paths.runtime_root}/{CACHE_DIR}"
    try:
        _make_dir(cache)
        fd = posix.open(cache, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError:
        fd = None
    try:
        # cached_bpf finds its cache at ../<CACHE_DIR> from the descriptor it is given
        program = cached_bpf(seccomp, fd)
    finally:
        if fd is not None:
            posix.close(fd)
    _write(path, program)
    pairs = [("seccomp", path), ("seccomp-flags", str(kernel_flags(seccomp)))]
    if late:
        pairs.append(("seccomp-late", "1"))
    return pairs


def _make_dir(path: str) -> None:
    from dockyard.engine.bundle import make_dir

    make_dir(path, 0o700)


def _write(path: str, data: bytes) -> None:
    fd = posix.open(path, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC | posix.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[posix.write(fd, view) :]
    finally:
        posix.close(fd)

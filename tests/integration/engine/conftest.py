"""Fixtures for the engine tests: test images in the session's registry, a CLI with its own roots.

Every test gets its own store root, run root and cgroup parent (under
``dockyard-test-<session>``, so the session's leak check recognises them).
After the test every container it made is force-removed through the CLI,
then the test fails if anything is left: a monitor, a mount, a cgroup, a
run directory, a record.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_directory,
    tar_entries,
    write_layout,
)
from tests.integration.image.conftest import Dockyard as ImageTestsDockyard
from tests.support import leaks, netleaks
from tests.support.registry import Registry
from tests.support.rootfs import build_rootfs
from tests.support.runtime import runtime_under_test

REPO = Path(__file__).resolve().parents[3]
DOCKYARD = Path(sys.executable).parent / "dockyard"
CGROUP_V1_ROOT = Path("/sys/fs/cgroup")

pytestmark = [pytest.mark.integration]


@dataclass
class EngineImages:
    """Names of the test images in the session's registry."""

    registry: str
    busybox: str  # busybox, Cmd sh
    volume: str  # busybox + /data (a VOLUME) holding seed.txt, owned 1000:1000, mode 640
    configured: str  # Entrypoint, Cmd, User, WorkingDir, Env, StopSignal, Labels set


def _busybox_layer(work: Path) -> object:
    return make_layer(tar_directory(build_rootfs(work / "rootfs")))


@pytest.fixture(scope="session")
def engine_images(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> EngineImages:
    if not Path("/usr/bin/skopeo").exists():
        pytest.skip("needs skopeo (apt-get install skopeo)")
    work = tmp_path_factory.mktemp("engine-images")
    base = _busybox_layer(work)
    seed_dir = dir_entry("data", 0o755)
    seed_dir.uid = seed_dir.gid = 1000
    seed, data = file_entry("data/seed.txt", b"seeded from the image\n", 0o640)
    seed.uid = seed.gid = 1000
    volume_layer = make_layer(tar_entries([seed_dir, (seed, data)]))
    images = {
        "busybox": Image([base], cmd=["sh"]),  # type: ignore[list-item]
        "volume": Image(
            [base, volume_layer],  # type: ignore[list-item]
            cmd=["sh"],
            extra={"Volumes": {"/data": {}}},
        ),
        "configured": Image(
            [base],  # type: ignore[list-item]
            cmd=["default-arg"],
            env=["PATH=/usr/local/bin:/bin", "FROM_IMAGE=yes"],
            labels={"from": "image"},
            extra={
                "Entrypoint": ["/bin/echo", "entry"],
                "User": "test",
                "WorkingDir": "/work/dir",
                "StopSignal": "SIGUSR1",
            },
        ),
    }
    layout = write_layout(
        work / "layout", {f"docker.io/library/{k}:{k}": [v] for k, v in images.items()}
    )
    for name in images:
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"oci:{layout}:{name}",
                f"docker://{registry.host}/{name}:latest",
            ],
            check=True,
            capture_output=True,
        )
    host = registry.host
    return EngineImages(host, f"{host}/busybox", f"{host}/volume", f"{host}/configured")


def default_runtime() -> str:
    """dockyard (in-process) unless RUNTIME names another: then its path."""
    name, path = runtime_under_test()
    return "dockyard" if name == "dockyard" else path


class Dockyard(ImageTestsDockyard):
    """The ``dockyard`` CLI with a store, a run root and a cgroup parent of its own."""

    def __init__(
        self, root: Path, run_root: Path, cgroup_parent: str, registry: str, session: str = ""
    ) -> None:
        super().__init__(root, root.parent / "config")
        self.run_root = run_root
        self.cgroup_parent = cgroup_parent
        # a default bridge, subnet and address pool of its own (tests/support/netleaks.py)
        self.bridge = netleaks.bridge_name(session or secrets.token_hex(4))
        self.env.update(
            # RUNTIME=runc (or a path) runs every engine test on that runtime
            DOCKYARD_DEFAULT_RUNTIME=default_runtime(),
            DOCKYARD_RUN_ROOT=str(run_root),
            DOCKYARD_CGROUP_PARENT=cgroup_parent,
            DOCKYARD_INSECURE_REGISTRIES=registry,
            DOCKYARD_BRIDGE=self.bridge,
            DOCKYARD_BIP=netleaks.free_subnet().replace(".0/", ".1/"),
            DOCKYARD_ADDRESS_POOLS=netleaks.free_subnet(16) + ":24",
            # the host's resolvers, for the embedded DNS to forward to: one on this
            # machine where nothing answers, so a test never sends a query elsewhere
            DOCKYARD_RESOLV_CONF=str(_quiet_resolv_conf(root.parent)),
        )

    def popen(self, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:  # type: ignore[override]
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            [str(DOCKYARD), *args], env=self.env, **kwargs
        )

    def ids(self) -> list[str]:
        return self.run("ps", "-aq", "--no-trunc").stdout.split()

    def inspect(self, name: str) -> dict[str, object]:
        import json

        data = json.loads(self.run("inspect", "--type", "container", name).stdout)
        return data[0]  # type: ignore[no-any-return]


#: a loopback address where no DNS server listens (tests/support/dns.py avoids it)
QUIET_RESOLVER = "127.53.0.1"


def _quiet_resolv_conf(directory: Path) -> Path:
    path = directory / "host-resolv.conf"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(f"nameserver {QUIET_RESOLVER}\n")
    return path


@pytest.fixture(scope="session")
def cgroup_parent(session_marker: str) -> str:
    return f"/{leaks.CGROUP_NAME_PART}-engine-{session_marker}"


def monitors_of(dy: Dockyard) -> dict[int, str]:
    """Processes whose command line names the run root: monitors, exit commands,
    restart timers (``--run-root DIR``, hence no trailing slash)."""
    return leaks.processes_mentioning(str(dy.run_root), exclude=leaks.ancestors(os.getpid()))


def leftovers(dy: Dockyard) -> list[str]:
    """What a test's containers left behind after they were all removed."""
    found = []
    for mount in leaks.mounts_under(dy.root.parent):
        found.append(f"mount: {mount}")
    monitors = monitors_of(dy)
    found += [f"process: {d}" for d in monitors.values()]
    c_dir = dy.run_root / "c"
    if c_dir.exists():
        found += [f"run dir: {p}" for p in c_dir.iterdir()]
    runtime_dir = dy.run_root / "runtime"
    if runtime_dir.exists():
        found += [
            f"runtime state: {p}" for p in runtime_dir.iterdir() if not p.name.startswith(".")
        ]
    exec_dir = dy.run_root / "exec"
    if exec_dir.exists():
        found += [f"exec session: {p}" for p in exec_dir.iterdir()]
    snapshots = dy.root / "snapshots"
    if snapshots.exists():
        found += [f"snapshot: {p}" for p in snapshots.iterdir()]
    for kind, directory in (
        ("container directory", dy.root / "containers"),
        ("lock file", dy.run_root / "locks"),  # a container's is named by its id alone
    ):
        if directory.exists():
            found += [f"{kind}: {p}" for p in directory.iterdir() if len(p.name) == 64]
    # v1 and hybrid: a hierarchy per controller (and unified); v2: the root itself
    for hierarchy in [CGROUP_V1_ROOT, *CGROUP_V1_ROOT.iterdir()]:
        parent = hierarchy / dy.cgroup_parent.strip("/")
        if parent.is_dir():
            found += [f"cgroup: {p}" for p in parent.iterdir() if p.is_dir()]
    if (dy.root / "engine.db").exists():
        found += [f"record: {i}" for i in dy.ids()]
        found += [f"system check: {p}" for p in engine_problems(dy)]
    return found


def engine_problems(dy: Dockyard) -> list[str]:
    """What `system check --no-repair` finds wrong with the engine (in this process)."""
    from dockyard.engine.check import check
    from dockyard.engine.engine import Engine

    engine = Engine(str(dy.root), str(dy.run_root), [], dy.cgroup_parent)
    try:
        return check(engine, repair=False).problems
    finally:
        engine.close()


def _wait_for_monitors(dy: Dockyard, deadline: float) -> None:
    """Exit commands (cleanup) run after a container ends: give them time to finish."""
    while time.monotonic() < deadline:
        if not monitors_of(dy):
            return
        time.sleep(0.05)


@pytest.fixture
def dockyard(
    tmp_path: Path, engine_images: EngineImages, cgroup_parent: str, session_marker: str
) -> Iterator[Dockyard]:
    if os.geteuid() != 0:
        pytest.skip("needs root (containers, mounts, cgroups)")
    dy = Dockyard(
        tmp_path / "root", tmp_path / "run", cgroup_parent, engine_images.registry, session_marker
    )
    yield dy
    if (dy.root / "engine.db").exists():
        ids = dy.ids()
        if ids:
            dy.run("rm", "-f", "-v", *ids, check=False)
    _wait_for_monitors(dy, time.monotonic() + 10)
    bridges = _bridges(dy)
    _wait_for_veths(bridges, time.monotonic() + 30)
    found = leftovers(dy)
    found += network_leftovers(dy, bridges)
    if found:
        leaks.kill_processes(monitors_of(dy))
        leaks.unmount(leaks.mounts_under(dy.root.parent))
        pytest.fail("the engine left behind:\n" + "\n".join(found))


def _bridges(dy: Dockyard) -> set[str]:
    """The engine's bridges: its default one and one per network it made."""
    if not (dy.root / "engine.db").exists():
        return set()
    ids = dy.run("network", "ls", "-q", "--no-trunc", check=False).stdout.split()
    return {dy.bridge} | {f"dy-{i[:12]}" for i in ids}


def _wait_for_veths(bridges: set[str], deadline: float) -> None:
    """The kernel dismantles a removed container's namespace, its veths with it, in the
    background: some 40 ms, seconds on a loaded machine. Until then `system check`
    rightly counts them as interfaces no running container owns."""
    while bridges and time.monotonic() < deadline:
        if not any(master in bridges for master in netleaks.interfaces().values()):
            return
        time.sleep(0.05)


def network_leftovers(dy: Dockyard, bridges: set[str]) -> list[str]:
    """After its containers are gone: ``network prune``, then the default bridge and its
    table removed; anything else of the engine's networks (``bridges``) is a leak
    (removed too)."""
    if not (dy.root / "engine.db").exists():
        return []
    dy.run("network", "prune", "-f", check=False)
    # the kernel removes a container's veths with its namespace, in the background
    deadline = time.monotonic() + 5
    while True:
        names, tables = netleaks.engine_leftovers(bridges, dy.run_root)
        if names == [dy.bridge] or not names or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    bodies = netleaks.nft_tables()
    leaked = [n for n in names if n != dy.bridge]
    leaked += [f"nft table {t}" for t in tables if f'"{dy.bridge}"' not in bodies.get(t, "")]
    netleaks.remove([dy.bridge, *(n for n in names if not n.startswith("netns"))], tables)
    return [f"network: {n}" for n in leaked]


@pytest.fixture(scope="session", autouse=True)
def remove_cgroup_parent(cgroup_parent: str) -> Iterator[None]:
    yield
    for hierarchy in CGROUP_V1_ROOT.iterdir():
        parent = hierarchy / cgroup_parent.strip("/")
        if parent.is_dir():
            try:
                parent.rmdir()
            except OSError:
                pass


@pytest.fixture
def token() -> str:
    return secrets.token_hex(4)


@pytest.fixture(params=["dockyard", "runc"])
def runtime(request: pytest.FixtureRequest) -> str:
    """``--runtime``: Dockyard's own (in-process) and runc (a binary): both must behave alike."""
    import shutil

    if request.param != "dockyard" and shutil.which(request.param) is None:
        pytest.skip(f"needs {request.param} (apt-get install {request.param})")
    return str(request.param)


def attached_clients(dy: Dockyard, name: str) -> int:
    """How many attach clients the container's monitor holds: its sockets less the
    listening one (its other descriptors are /dev/null, pipes or a pty, a FIFO and a
    signalfd)."""
    run = dy.run_root / "c" / str(dy.inspect(name)["Id"])
    monitor = int((run / "monitor.pid").read_text())
    sockets = 0
    for fd in Path(f"/proc/{monitor}/fd").iterdir():
        try:
            sockets += os.readlink(fd).startswith("socket:")
        except FileNotFoundError:
            pass
    return max(0, sockets - 1)

"""``exec``: run another process inside a created or running container."""

from __future__ import annotations

import posix

from dockyard.errors import HostError, InvalidArgument, NotFound
from dockyard.linux import libc as L
from dockyard.oci import jsonio
from dockyard.oci.runtime_spec import Spec
from dockyard.runtime import channel
from dockyard.runtime.state import ContainerState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ExecOptions:
    __slots__ = (
        "additional_gids",
        "args",
        "caps",
        "console_fd",
        "console_socket",
        "cwd",
        "detach",
        "env",
        "no_new_privs",
        "pid_file",
        "preserve_fds",
        "process_path",
        "tty",
        "user",
    )

    def __init__(self) -> None:
        self.process_path = ""
        self.args: list[str] = []
        self.tty = False
        self.console_socket = ""
        #: an already connected console socket (a library caller's socketpair end); taken over
        self.console_fd: int | None = None
        self.detach = False
        self.pid_file = ""
        self.preserve_fds = 0
        self.env: list[str] = []
        self.cwd = ""
        self.user = ""
        self.additional_gids: list[int] = []
        self.caps: list[str] = []
        self.no_new_privs = False


def build_process(state: ContainerState, opts: ExecOptions) -> dict[str, Any]:
    """The process to run: a process.json, or the container's own with the flags applied."""
    if opts.process_path:
        try:
            with open(opts.process_path, "rb") as f:
                process: dict[str, Any] = jsonio.loads(f.read())
        except FileNotFoundError:
            raise NotFound(f"process file {opts.process_path} does not exist") from None
        except (jsonio.JSONError, UnicodeDecodeError) as exc:
            raise InvalidArgument(f"process file {opts.process_path}: {exc}") from exc
        if not isinstance(process, dict):
            raise InvalidArgument(f"process file {opts.process_path}: not a JSON object")
        return process
    if not opts.args:
        raise InvalidArgument('"exec" needs a command to run (or -p process.json)')
    # A deep copy: the container's process is the template, never changed.
    process = jsonio.loads(jsonio.dumps_compact(state.config.get("process") or {}))
    process["args"] = opts.args
    process["terminal"] = opts.tty
    process.pop("consoleSize", None)
    if opts.env:
        names = {e.partition("=")[0] for e in opts.env}
        process["env"] = [e for e in process.get("env", []) if e.partition("=")[0] not in names]
        process["env"] += opts.env
    if opts.cwd:
        process["cwd"] = opts.cwd
    user = process.setdefault("user", {})
    if opts.user:
        uid, _, gid = opts.user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            raise InvalidArgument(f"--user {opts.user!r}: expected UID[:GID] as numbers")
        user["uid"] = int(uid)
        user["gid"] = int(gid) if gid else 0
    if opts.additional_gids:
        user["additionalGids"] = opts.additional_gids
    if opts.caps:
        caps = process.setdefault("capabilities", {})
        for kind in ("bounding", "effective", "permitted"):
            present = caps.setdefault(kind, [])
            present += [c for c in opts.caps if c not in present]
    if opts.no_new_privs:
        process["noNewPrivileges"] = True
    return process


def exec_process(root: str, container_id: str, opts: ExecOptions) -> int:
    from dockyard.runtime.exec_init import exec_intermediate, open_namespaces
    from dockyard.runtime.init_config import InitConfig, preload

    state = ContainerState.load(root, container_id)
    state.require("exec")
    config = dict(state.config)
    config["process"] = build_process(state, opts)
    # runc gives an exec the container's OOM score adjustment, whatever its process.json says
    score = (state.config.get("process") or {}).get("oomScoreAdj")
    if score is not None:
        config["process"]["oomScoreAdj"] = score
    spec = Spec(config)
    if spec.process is None or not spec.process.args:
        raise InvalidArgument("the process to exec has no args")
    preload(spec)
    namespaces = open_namespaces(state.pid, [ns.type for ns in spec.linux.namespaces])
    relay_socket = None
    console_fd = opts.console_fd
    if console_fd is None and opts.console_socket:
        from dockyard.runtime.create import connect_console

        console_fd = connect_console(opts.console_socket)
    elif console_fd is None and spec.process.terminal:
        if opts.detach:
            raise InvalidArgument("exec -t -d needs --console-socket")
        from dockyard.runtime import console

        relay_socket, console_fd = console.socket_pair()
    if not opts.detach:
        L.prctl(L.PR_SET_CHILD_SUBREAPER, 1)
    ours, theirs = channel.pair()
    # The state directory: the seccomp cache is reached through it (runtime/seccomp.py).
    state_dir_fd = posix.open(state.dir, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    cfg = InitConfig(
        state.id,
        spec,
        state.bundle,
        state.rootfs,
        state_dir_fd,
        console_fd,
        opts.preserve_fds,
        False,
        True,
    )
    joins_itself = bool(state.cgroup_paths) and spec.namespace("user") is None
    if joins_itself:
        # As at create: the process joins by itself, without an RCU grace period.
        from dockyard.runtime.cgroup_join import cgroup_self_join

        cfg.cgroup_tasks, cfg.cgroup_fd = cgroup_self_join(state.cgroup_paths)
    child = posix.fork()
    if child == 0:
        ours.close()
        exec_intermediate(cfg, theirs, namespaces)
    theirs.close()
    posix.close(state_dir_fd)
    for _, fd in namespaces:
        posix.close(fd)
    if console_fd is not None:
        posix.close(console_fd)
    if cfg.cgroup_fd is not None:
        posix.close(cfg.cgroup_fd)
    try:
        pid = _drive(state, spec, ours, child, not joins_itself)
    finally:
        ours.close()
        try:
            posix.waitpid(child, 0)
        except ChildProcessError:
            pass
    if opts.pid_file:
        from dockyard.runtime.create import write_pid_file

        write_pid_file(opts.pid_file, pid)
    if opts.detach:
        return 0
    from dockyard.runtime.run import forward_signals, wait_for

    forward_signals(pid)
    if relay_socket is not None:
        from dockyard.runtime import console

        master, terminal = console.receive_master(relay_socket), console.host_terminal()
        console.copy_window_size(terminal, master)
        console.relay(master, terminal)
    return wait_for(pid)


def _drive(state: ContainerState, spec: Spec, chan: channel.Channel, child: int, move: bool) -> int:
    if move and state.cgroup_paths:  # into the container's cgroup before it forks the process
        from dockyard.cgroups.manager import manager_from_paths

        manager_from_paths(state.cgroup_paths).apply(child)
    chan.send("go")
    pid = 0
    listener_fd = ""  # a listener's descriptor, said before its pid came (rare)
    while True:
        try:
            word, arg = chan.recv()
        except channel.ChannelClosed:
            # Every copy of the channel is closed: the process exec'd (close-on-exec).
            if not pid:
                raise HostError("exec: the process exited before it started") from None
            return pid
        if word == "error":
            raise HostError(arg)
        if word == "pid":
            # Not looked for in /proc: the process goes on to exec without waiting for
            # us, so by the time a slow runtime reads this it may have run, ended and
            # been reaped by a subreaper (containerd's shim, conmon), as runc allows too.
            # Whether it started is the channel's to say: an error, or closed by the exec.
            pid = int(arg)
        elif word == "seccomp":
            listener_fd = arg
        if listener_fd and pid:
            from dockyard.runtime.seccomp_listener import hand_over

            assert spec.linux.seccomp is not None
            hand_over(spec.linux.seccomp, pid, int(listener_fd), state.oci_state())
            listener_fd = ""
            chan.send("seccompDone")

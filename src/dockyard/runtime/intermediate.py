"""The process between the runtime and the init, when one is needed.

A namespace joined by path, a new user namespace or time offsets need a
step before the init exists (``runtime/namespaces.py``): ``create`` forks
`intermediate` before the container's cgroup exists; it joins and unshares
in the right order and forks ``container_init``, then exits. It never
returns: it ends in ``_exit``.
"""

from __future__ import annotations

import posix

from dockyard.linux import libc as L
from dockyard.oci import jsonio
from dockyard.runtime import namespaces
from dockyard.runtime.cgroup_join import cgroup_self_join, join_v1_cgroups
from dockyard.runtime.container_init import container_init
from dockyard.runtime.init_config import describe, make_trampoline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from dockyard.runtime.channel import Channel
    from dockyard.runtime.init_config import InitConfig


def intermediate(cfg: InitConfig, chan: Channel) -> NoReturn:
    """While the runtime makes the container's cgroup, make the trampoline; on
    "go", join the cgroup and the namespaces and fork the init."""
    try:
        spec = cfg.spec
        make_trampoline(cfg)
        word, join = chan.recv()
        if word != "go":
            posix._exit(1)
        if join:  # the cgroup now made, to join (none: the runtime moves the init)
            cfg.cgroup_tasks, cfg.cgroup_fd = cgroup_self_join(jsonio.loads(join))
        join_v1_cgroups(cfg.cgroup_tasks)  # first: joined namespaces change how paths resolve
        cfg.cgroup_tasks = []  # the init is born in them
        namespaces.join_namespaces(spec)
        user = spec.namespace("user")
        if user is not None and not user.path:
            namespaces.enter_new_user_namespace(chan)
        namespaces.unshare_new(spec)
        pid = posix.fork() if cfg.cgroup_fd is None else L.clone(0, cfg.cgroup_fd)
        if pid == 0:
            container_init(cfg, chan)
        chan.send("pid", str(pid))
        posix._exit(0)
    except BaseException as exc:
        try:
            chan.send("error", describe(exc))
        finally:
            posix._exit(1)

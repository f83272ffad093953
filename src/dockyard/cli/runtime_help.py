"""Per-command help: ``dockyard-runtime CMD --help`` and ``dockyard-runtime help CMD``.

Loaded only when help is asked for. The options listed are the ones the
command's parser really takes (runtime_args.HelpRequested carries them);
this module holds the words.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_args import Flag

# command → (arguments, one-line summary, longer description or "")
COMMANDS: dict[str, tuple[str, str, str]] = {
    "create": (
        "ID",
        "create a container from a bundle; its process waits for start",
        "The container gets its namespaces, cgroup, mounts and root; its process\n"
        "is made but does not run the program in config.json until `start`.",
    ),
    "start": ("ID", "let a created container's process run its program", ""),
    "run": (
        "ID",
        "create and start a container, then wait for its process",
        "Without -d, the runtime stays in the foreground, passes signals on to the\n"
        "container's process, relays its terminal when process.terminal is set,\n"
        "returns its exit status and deletes the container once it exits.",
    ),
    "state": ("ID", "print a container's state (the runtime spec's state, as JSON)", ""),
    "kill": (
        "ID [SIGNAL]",
        "send a signal (default SIGTERM) to a container's init process",
        "SIGNAL is a name (KILL, SIGKILL) or a number; 0 sends nothing and only\n"
        "checks that the init is still there.",
    ),
    "delete": ("ID", "delete a stopped container (-f: any container)", ""),
    "list": ("", "list the containers under --root", ""),
    "spec": ("", "write a starter config.json in the bundle directory", ""),
    "features": ("", "print what this runtime supports (the runtime spec's features)", ""),
    "exec": (
        "ID COMMAND [ARGS...]",
        "run another process in a created or running container",
        "Give the process either as COMMAND and ARGS (the container's own process\n"
        "is the template for the rest) or whole with -p process.json. Everything\n"
        "after ID belongs to the command, its options included.",
    ),
    "pause": ("ID", "freeze every process of a running container", ""),
    "resume": ("ID", "thaw a paused container", ""),
    "ps": (
        "ID [PS OPTIONS...]",
        "list a container's processes",
        "In the table format, ps(1) runs with PS OPTIONS (default -ef) and only\n"
        "the container's processes are kept.",
    ),
    "events": ("ID", "print a container's stats and OOM kills as JSON lines", ""),
    "update": (
        "ID",
        "change the resource limits of a created, running or paused container",
        "Give new limits with the options below, or whole with -r, as the\n"
        "linux.resources object of config.json.",
    ),
}

# flag dest → (value name, what it does); commands that give one flag a
# different meaning have a (command, dest) entry.
FLAGS: dict[str | tuple[str, str], tuple[str, str]] = {
    "bundle": ("DIR", "the bundle directory, holding config.json (default: .)"),
    "pid_file": ("FILE", "write the process's pid to FILE"),
    "console_socket": ("PATH", "send the pty master to the AF_UNIX socket at PATH"),
    "no_pivot": ("", "move the root with MS_MOVE and chroot, not pivot_root"),
    "no_new_keyring": ("", "keep the caller's session keyring, do not make a new one"),
    "preserve_fds": ("N", "pass N more descriptors, from 3 on (default 0)"),
    "detach": ("", "do not wait for the container's process"),
    "keep": ("", "do not delete the container once its process exits"),
    "no_subreaper": ("", "accepted for runc's sake; changes nothing"),
    "detach_keys": ("KEYS", "accepted for runc's sake; changes nothing"),
    "force": ("", "kill the container first if it still runs (SIGKILL)"),
    "all": ("", "signal every process of the container, not just its init"),
    "format": ("FORMAT", "table or json (default table)"),
    "quiet": ("", "print the ids only"),
    "rootless": ("", "a config for an unprivileged user (user namespace, no cgroup limits)"),
    "process": ("FILE", "the whole process, as process.json"),
    "tty": ("", "give the process a terminal"),
    "env": ("NAME=VALUE", "set an environment variable (repeatable)"),
    "cwd": ("DIR", "the working directory in the container"),
    "user": ("UID[:GID]", "the user (and group) to run as"),
    "additional_gids": ("GID", "an additional group (repeatable)"),
    "cap": ("CAP", "add a capability to the process's sets (repeatable)"),
    "no_new_privs": ("", "set no_new_privs for the process"),
    "process_label": ("LABEL", "the SELinux label of the process (not supported)"),
    "apparmor": ("PROFILE", "the AppArmor profile of the process (not supported)"),
    "cgroup": ("[CONTROLLER:]PATH", "run in a sub-cgroup of the container (not supported)"),
    "stats": ("", "print the stats once and exit"),
    "interval": ("DURATION", "time between two stats (default 5s)"),
    "resources": ("FILE", "the new linux.resources as JSON, from FILE or - (stdin)"),
    "memory": ("SIZE", "memory limit (bytes, or with k, m, g)"),
    "memory_reservation": ("SIZE", "memory soft limit"),
    "memory_swap": ("SIZE", "memory plus swap limit; -1 for no limit"),
    "cpu_share": ("N", "CPU shares, relative to other containers"),
    "cpu_quota": ("USECS", "CPU time allowed per period"),
    "cpu_period": ("USECS", "CPU CFS period"),
    "cpu_rt_runtime": ("USECS", "realtime CPU time allowed per period"),
    "cpu_rt_period": ("USECS", "realtime CPU period"),
    "cpuset_cpus": ("LIST", "the CPUs to run on (0-3,6)"),
    "cpuset_mems": ("LIST", "the memory nodes to use"),
    "blkio_weight": ("N", "block I/O weight, 10 to 1000"),
    "pids_limit": ("N", "most processes the container may have"),
    "l3_cache_schema": ("SCHEMA", "Intel RDT L3 cache schema (not supported)"),
    "mem_bw_schema": ("SCHEMA", "Intel RDT memory bandwidth schema (not supported)"),
    ("spec", "bundle"): ("DIR", "where to write config.json (default: .)"),
    ("exec", "detach"): ("", "do not wait for the process"),
}


def command_help(command: str, flags: list[Flag]) -> str:
    """The help text of ``command``, listing ``flags`` (its parser's)."""
    arguments, summary, description = COMMANDS[command]
    usage = f"dockyard-runtime {command}" + (" [options]" if flags else "")
    lines = [f"usage: {usage}" + (f" {arguments}" if arguments else ""), "", summary + "."]
    if description:
        lines += ["", description]
    if flags:
        rows = []
        for flag in flags:
            metavar, text = FLAGS.get((command, flag.dest)) or FLAGS[flag.dest]
            names = ", ".join(sorted(flag.names, key=len))
            rows.append((f"{names} {metavar}" if metavar else names, text))
        width = max(len(left) for left, _ in rows)
        lines += ["", "options:"]
        lines += [f"  {left.ljust(width)}  {text}" for left, text in rows]
    return "\n".join(lines) + "\n"

"""process: args, env, cwd, user, rlimits, capabilities, noNewPrivileges,
oomScoreAdj, personality and the exit status, each read from inside."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from tests.integration.runtime.inside import (
    not_on_runc,
    probe,
    probe_lines,
    run_probe,
    status_fields,
)
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

# capability numbers (linux/capability.h)
CAP = {
    "CAP_CHOWN": 0,
    "CAP_KILL": 5,
    "CAP_NET_BIND_SERVICE": 10,
    "CAP_NET_RAW": 13,
    "CAP_SYS_CHROOT": 18,
}


def mask(*names: str) -> int:
    return sum(1 << CAP[name] for name in names)


def test_args_are_passed_as_given(runtime: Runtime, bundle: Bundle) -> None:
    result = run_in_container(
        runtime, bundle, "sh", "-c", 'for a in "$0" "$@"; do echo "[$a]"; done', "zero", "a b", ""
    )

    assert result.stdout.splitlines() == ["[zero]", "[a b]", "[]"]


def test_args_are_found_on_the_containers_path(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["env"] = ["PATH=/usr/local/bin:/bin"]

    result = run_in_container(runtime, bundle, "echo", "found")

    assert result.stdout == "found\n"


def test_env_is_the_configs(runtime: Runtime, bundle: Bundle) -> None:
    env = ["PATH=/bin", "ONE=1", "SPACED=a b  c", "EMPTY=", "HOME=/root"]
    bundle.process["env"] = env

    # env itself as the process: no shell to add PWD or SHLVL (HOME is in
    # the list because runc adds one when the config has none)
    result = run_in_container(runtime, bundle, "env")

    assert result.stdout.splitlines() == env


def test_cwd_is_the_configs(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/etc"

    assert probe(runtime, bundle, "pwd") == "/etc\n"


def test_a_missing_cwd_is_created(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/not/in/the/image"

    assert probe(runtime, bundle, "pwd") == "/not/in/the/image\n"
    assert (bundle.rootfs / "not/in/the/image").is_dir()


def test_user_uid_gid_and_additional_gids(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534]}

    lines = probe_lines(runtime, bundle, "id; grep -E '^(Uid|Gid|Groups):' /proc/self/status")

    assert lines[0] == "uid=1000(test) gid=1000(test) groups=5(tty),65534(nogroup)"
    fields = status_fields("\n".join(lines[1:]))
    assert fields["Uid"].split() == ["1000"] * 4  # real, effective, saved, fs
    assert fields["Gid"].split() == ["1000"] * 4
    assert fields["Groups"].split() == ["5", "65534"]


def test_a_uid_without_a_passwd_entry(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 4242, "gid": 4343}

    assert probe(runtime, bundle, "id -u; id -g") == "4242\n4343\n"


def test_no_additional_gids_means_no_groups(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 1000}

    assert status_fields(probe(runtime, bundle, "cat /proc/self/status"))["Groups"] == ""


@pytest.mark.parametrize(("umask", "shown"), [(0o027, "0027"), (0o077, "0077"), (0, "0000")])
def test_umask(runtime: Runtime, bundle: Bundle, umask: int, shown: str) -> None:
    bundle.process["user"]["umask"] = umask

    assert probe(runtime, bundle, "umask") == f"{shown}\n"


def test_umask_defaults_to_0022(runtime: Runtime, bundle: Bundle) -> None:
    assert probe(runtime, bundle, "umask") == "0022\n"


def limits(text: str) -> dict[str, tuple[str, str]]:
    """/proc/PID/limits as {name: (soft, hard)}."""
    found = {}
    for line in text.splitlines()[1:]:
        name, soft, hard = line[:26].strip(), line[26:47].strip(), line[47:68].strip()
        found[name] = (soft, hard)
    return found


def test_rlimits(runtime: Runtime, bundle: Bundle) -> None:
    # Under the host's hard limits: raising one needs CAP_SYS_RESOURCE, which
    # the test host's root may lack.
    nofile_hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 20000)
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": nofile_hard},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
    ]

    found = limits(probe(runtime, bundle, "cat /proc/self/limits"))

    assert found["Max open files"] == ("1000", str(nofile_hard))
    assert found["Max core file size"] == ("0", "4096")
    assert found["Max processes"] == ("500", "600")


def test_rlimits_bind_the_process(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}]

    result = run_probe(
        runtime, bundle, "ulimit -n; exec 9</dev/null && echo fd9-ok; exec 10</dev/null"
    )

    assert result.stdout.splitlines() == ["10", "fd9-ok"]
    assert result.returncode != 0


def capability_sets(runtime: Runtime, bundle: Bundle) -> dict[str, int]:
    fields = status_fields(probe(runtime, bundle, "cat /proc/self/status"))
    return {
        name: int(fields[name], 16) for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    }


# Five different sets, so each is told apart in /proc/self/status.
CAPABILITIES = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT"],
    "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
    "effective": ["CAP_CHOWN", "CAP_KILL"],
    "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_NET_BIND_SERVICE"],
}


def test_capability_sets_of_a_non_root_process(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["capabilities"] = CAPABILITIES
    bundle.process["user"] = {"uid": 1000, "gid": 1000}

    sets = capability_sets(runtime, bundle)

    # What the runtime set, after execve of a program without file
    # capabilities by a non-root user (capabilities(7)): inheritable and
    # bounding stay, permitted and effective become the ambient set.
    assert sets == {
        "CapInh": mask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
        "CapPrm": mask("CAP_NET_BIND_SERVICE"),
        "CapEff": mask("CAP_NET_BIND_SERVICE"),
        "CapBnd": mask(*CAPABILITIES["bounding"]),
        "CapAmb": mask("CAP_NET_BIND_SERVICE"),
    }


@pytest.mark.parametrize("no_new_privileges", [True, False])
def test_capability_sets_of_root(runtime: Runtime, bundle: Bundle, no_new_privileges: bool) -> None:
    bundle.process["capabilities"] = CAPABILITIES
    bundle.process["noNewPrivileges"] = no_new_privileges

    sets = capability_sets(runtime, bundle)

    # Root's execve grants bounding | inheritable (capabilities(7)); with
    # no_new_privs nothing beyond what was permitted before the execve.
    gained = mask(*CAPABILITIES["bounding"]) | mask(*CAPABILITIES["inheritable"])
    if no_new_privileges:
        gained &= mask(*CAPABILITIES["permitted"])
    assert sets == {
        "CapInh": mask(*CAPABILITIES["inheritable"]),
        "CapPrm": gained,
        "CapEff": gained,
        "CapBnd": mask(*CAPABILITIES["bounding"]),
        "CapAmb": mask(*CAPABILITIES["ambient"]),
    }


def test_capabilities_are_enforced(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["capabilities"] = {
        kind: ["CAP_KILL"] for kind in ("bounding", "permitted", "effective")
    }

    result = run_probe(runtime, bundle, "chown 1000 /tmp", writable_root=True)

    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr


@pytest.mark.parametrize(("setting", "shown"), [(True, "1"), (False, "0")])
def test_no_new_privileges(runtime: Runtime, bundle: Bundle, setting: bool, shown: str) -> None:
    bundle.process["noNewPrivileges"] = setting

    assert status_fields(probe(runtime, bundle, "cat /proc/self/status"))["NoNewPrivs"] == shown


def test_oom_score_adj(runtime: Runtime, bundle: Bundle) -> None:
    # Raising needs no privilege; lowering below our own needs CAP_SYS_RESOURCE.
    ours = int(Path("/proc/self/oom_score_adj").read_text())
    bundle.process["oomScoreAdj"] = min(ours + 123, 1000)

    assert probe(runtime, bundle, "cat /proc/self/oom_score_adj") == f"{min(ours + 123, 1000)}\n"


def test_oom_score_adj_left_out_is_inherited(runtime: Runtime, bundle: Bundle) -> None:
    ours = Path("/proc/self/oom_score_adj").read_text()

    assert probe(runtime, bundle, "cat /proc/self/oom_score_adj") == ours


@not_on_runc("linux.personality is not supported (added in runc 1.2)")
def test_personality_linux32(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}

    assert probe(runtime, bundle, "uname -m") in ("i686\n", "i386\n", "armv8l\n")


def test_personality_linux_is_the_default(runtime: Runtime, bundle: Bundle) -> None:
    assert probe(runtime, bundle, "uname -m") == f"{os.uname().machine}\n"


@pytest.mark.parametrize("status", [0, 1, 42, 255])
def test_the_exit_status_comes_back(runtime: Runtime, bundle: Bundle, status: int) -> None:
    assert run_probe(runtime, bundle, f"exit {status}").returncode == status

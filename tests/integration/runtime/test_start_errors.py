"""What fails between ``create`` and the program is reported, never lost.

The init checks what runc checks before create returns (the program, its
environment), and whatever fails after it waits for ``start`` (a hook, the
seccomp filter, the exec) reaches ``start``, which then fails saying why.
"""

from __future__ import annotations

import pytest

from tests.integration.runtime.inside import not_on_runc
from tests.support import Bundle, Runtime, requires, run_in_container
from tests.support.runtime import RuntimeCommandFailed

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

#: the kernel refuses a filter longer than this (BPF_MAXINSNS)
MAX_INSNS = 4096


def test_an_empty_environment_name_fails_create(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["args"] = ["true"]
    bundle.process["env"].append("=value")
    bundle.write()
    with pytest.raises(RuntimeCommandFailed) as failed:
        runtime.create(bundle)

    assert "empty" in failed.value.result.stderr
    assert runtime.list() == []


@not_on_runc("it starts the container; its init then fails at exec, said only on its stderr")
def test_a_nul_in_an_argument_fails_create(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["args"] = ["echo", "a\0b"]
    bundle.write()
    with pytest.raises(RuntimeCommandFailed) as failed:
        runtime.create(bundle)

    assert "process.args[1]" in failed.value.result.stderr
    assert runtime.list() == []


def test_a_filter_the_kernel_refuses_stops_the_container_saying_so(
    runtime: Runtime, bundle: Bundle
) -> None:
    # With no_new_privileges the filter goes in after start opened the exec
    # fifo (runc installs it before create returns): either verb must fail.
    rules = [
        {
            "names": ["personality"],
            "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": value, "op": "SCMP_CMP_EQ"}],
        }
        for value in range(1, MAX_INSNS + 100)
    ]
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}
    bundle.process["noNewPrivileges"] = True
    result = run_in_container(runtime, bundle, "echo", "ran")

    assert result.returncode != 0
    assert "ran" not in result.stdout
    assert "seccomp" in result.stderr, result.stderr

"""The order of the init's last steps, seen through a recording syscall layer.

A seccomp profile is written for runc, so what the init does after the
filter must be what runc's init does there: with no_new_privs nothing but
the exec; without it, the change of user and capabilities, the exec fifo
and the exec. Everything else (the executable's lookup, the descriptors,
/proc/self/setgroups, the signals, "ready") comes before the filter.
"""

from __future__ import annotations

import copy
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.errors import DockyardError
from dockyard.linux import init_calls
from dockyard.oci.default_spec import default_spec
from dockyard.oci.runtime_spec import Process, Spec
from dockyard.oci.seccomp import parse_seccomp
from dockyard.runtime import launch, process_setup
from dockyard.runtime.init_config import InitConfig
from tests.unit.runtime.recorder import (
    EXECUTABLE,
    FAKE_FD,
    MEMFD,
    Exec,
    Recorder,
    RecordingChannel,
    fake_stat,
)

seccomp_lib = pytest.importorskip("dockyard.linux.seccomp")
try:
    seccomp_lib.load_library()
except OSError as exc:  # pragma: no cover - the host lacks libseccomp2
    pytest.skip(f"libseccomp is not available: {exc}", allow_module_level=True)

from dockyard.runtime.seccomp import Program  # noqa: E402

STATE_DIR_FD = FAKE_FD + 900
TRAMPOLINE_FD = FAKE_FD + 999
TRAMPOLINE_PATH = f"/proc/self/fd/{TRAMPOLINE_FD}"
NNP = pytest.mark.parametrize("no_new_privileges", [True, False], ids=["nnp", "no-nnp"])
DENY_MKDIR = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
}
#: what runc's init calls after its filter without no_new_privs, as the
#: recorder names them ("send" and "recv" are writes and reads on the channel)
RUNC_AFTER_FILTER = {
    "prctl",
    "setgroups",
    "setgid",
    "setuid",
    "capset",
    "send",
    "recv",
    "close",
    "open",
    "write",
    "execve",
}


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    rec.files = {"/bin/true": EXECUTABLE, TRAMPOLINE_PATH: MEMFD, f"fd:{TRAMPOLINE_FD}": MEMFD}
    rec.reads = {"/proc/self/setgroups": b"allow\n"}
    monkeypatch.setattr(init_calls, "current", rec)
    return rec


@pytest.fixture
def root_fd(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    yield fd
    os.close(fd)


def make_config(
    no_new_privileges: bool = True,
    profile: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
) -> InitConfig:
    doc = copy.deepcopy(default_spec())
    doc["process"].update(
        args=["true"],
        env=["PATH=/bin"],
        noNewPrivileges=no_new_privileges,
        user=user or {"uid": 1000, "gid": 1000, "additionalGids": [20]},
    )
    spec = Spec(doc)
    assert spec.process is not None
    cfg = InitConfig("c1", spec, "/bundle", "/rootfs", STATE_DIR_FD, None, 1, False, True)
    cfg.trampoline = TRAMPOLINE_FD
    if profile is not None:
        seccomp = parse_seccomp(profile)
        assert seccomp is not None
        cfg.seccomp = Program(seccomp, spec.process)
    return cfg


def process_of(cfg: InitConfig) -> Process:
    assert cfg.spec.process is not None
    return cfg.spec.process


def run_last_steps(
    cfg: InitConfig, root_fd: int, chan: RecordingChannel, wait_for_start: bool = True
) -> launch.Handover:
    """prepare and launch, as the init runs them, up to the (recorded) exec."""
    handover = launch.Handover(chan)  # type: ignore[arg-type]
    prepared = process_setup.prepare(cfg, process_of(cfg), root_fd)
    with pytest.raises(Exec):
        launch.launch(cfg, process_of(cfg), prepared, handover, wait_for_start)  # type: ignore[arg-type]
    return handover


def position(log: list[str], prefix: str) -> int:
    return next(i for i, entry in enumerate(log) if entry.startswith(prefix))


def test_with_no_new_privs_the_filter_is_the_last_step_before_exec(
    recorder: Recorder, root_fd: int
) -> None:
    cfg = make_config(True, DENY_MKDIR)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    log = recorder.log
    assert [entry.split()[0] for entry in log[-2:]] == ["seccomp", "execve"]
    fifo = FAKE_FD + 2  # the recorder's second descriptor: /proc/self/setgroups was the first
    assert log[-5:-2] == ["open exec.fifo", f"close {STATE_DIR_FD}", f"write {fifo} 0"]
    assert log[-1] == f"execve {TRAMPOLINE_PATH} dockyard-exec /bin/true true"
    assert position(log, "prctl no_new_privs 1") < position(log, "seccomp")


@NNP
def test_what_runc_does_before_its_filter_comes_before_ours(
    recorder: Recorder, root_fd: int, no_new_privileges: bool
) -> None:
    cfg = make_config(no_new_privileges, DENY_MKDIR)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    log = recorder.log
    seccomp = position(log, "seccomp")
    for step in (
        "stat /bin/true",  # the executable found and checked
        "access /bin/true",
        "open /proc/self/setgroups",
        "close_range 4 cloexec=True",  # descriptors past stdio and the preserved one
        "set_inheritable 3 True",
        "reset_signals",
        f"stat {TRAMPOLINE_PATH}",  # how the trampoline will be reached
        "send ready",
    ):
        assert position(log, step) < seccomp, step


def test_without_no_new_privs_the_filter_goes_in_before_the_user_changes(
    recorder: Recorder, root_fd: int
) -> None:
    cfg = make_config(False, DENY_MKDIR)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    after = recorder.after("seccomp")
    assert after[:6] == [
        "prctl keepcaps 1",
        "setgroups [20]",
        "setgid 1000",
        "setuid 1000",
        "prctl keepcaps 0",
        "capset 0x20000420 0x20000420 0x0",  # CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE
    ]
    # After the filter, only what runc's init calls there too.
    assert {entry.split()[0] for entry in after} <= RUNC_AFTER_FILTER, after
    assert [entry for entry in after if entry.startswith(("open", "send"))] == [
        "send waiting",
        "open exec.fifo",
    ]


@NNP
def test_a_listener_gets_its_descriptor_while_the_runtime_listens(
    recorder: Recorder, root_fd: int, no_new_privileges: bool
) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/agent.sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
    }
    cfg = make_config(no_new_privileges, profile)
    chan = RecordingChannel(recorder, ("seccompDone", ""))
    run_last_steps(cfg, root_fd, chan)

    after = recorder.after("seccomp")
    listener = FAKE_FD + 2  # the recorder's descriptor for the filter's listener
    assert after[:3] == [f"send seccomp {listener}", "recv", f"close {listener}"]
    assert position(after, "send waiting") > 2  # the runtime was there to take it


def test_exec_keeps_its_channel_open_to_the_exec(recorder: Recorder, root_fd: int) -> None:
    # ``exec`` reads errors until the exec closes the channel; there is no fifo.
    cfg = make_config(True, DENY_MKDIR)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder), wait_for_start=False)

    assert not any(entry.startswith(("send", "close channel", "open exec")) for entry in recorder)
    assert recorder.names()[-2:] == ["seccomp", "execve"]


def test_without_a_filter_between_ready_and_waiting_the_runtime_wakes_once(
    recorder: Recorder, root_fd: int
) -> None:
    cfg = make_config(True, DENY_MKDIR)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    assert [entry for entry in recorder if entry.startswith("send")] == ["send ready waiting"]


def test_the_user_changes_with_setuid_and_setgid(recorder: Recorder, root_fd: int) -> None:
    # runc's calls: a profile written for it may lack setresuid and setresgid.
    cfg = make_config(True)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    assert "setgid 1000" in recorder.log and "setuid 1000" in recorder.log
    assert not any("setres" in entry for entry in recorder)


def test_without_proc_the_trampoline_goes_by_descriptor(recorder: Recorder, root_fd: int) -> None:
    del recorder.files[TRAMPOLINE_PATH]
    cfg = make_config(True, DENY_MKDIR)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    assert recorder.log[-1] == f"execve {TRAMPOLINE_FD} dockyard-exec /bin/true true"


def test_a_path_that_is_not_the_trampoline_is_not_taken(recorder: Recorder, root_fd: int) -> None:
    # A rootfs whose own /proc/self/fd/N is a file of the image.
    recorder.files[TRAMPOLINE_PATH] = fake_stat(stat.S_IFREG | 0o755, 12345)
    cfg = make_config(True)
    run_last_steps(cfg, root_fd, RecordingChannel(recorder))

    assert recorder.log[-1].startswith(f"execve {TRAMPOLINE_FD} ")


def test_without_proc_a_profile_refusing_execveat_is_refused_before_the_filter(
    recorder: Recorder, root_fd: int
) -> None:
    del recorder.files[TRAMPOLINE_PATH]
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["execveat"], "action": "SCMP_ACT_KILL"}],
    }
    cfg = make_config(False, profile)
    with pytest.raises(DockyardError, match="execveat"):
        process_setup.prepare(cfg, process_of(cfg), root_fd)
    assert not any(entry.startswith("seccomp") for entry in recorder)


def test_errors_go_to_create_then_to_start_before_and_after_0(recorder: Recorder) -> None:
    chan = RecordingChannel(recorder)
    handover = launch.Handover(chan)  # type: ignore[arg-type]
    handover.fail("one")
    handover.chan, handover.fifo = None, 42
    handover.fail("two")
    handover.released = True
    handover.fail("three")

    assert recorder.log == ["send error one", "write 42 Etwo", "write 42 three"]


def test_a_failed_exec_is_written_after_0(recorder: Recorder, root_fd: int) -> None:
    recorder.refused["execve"] = OSError(8, "Exec format error")
    cfg = make_config(True)
    handover = launch.Handover(RecordingChannel(recorder))  # type: ignore[arg-type]
    prepared = process_setup.prepare(cfg, process_of(cfg), root_fd)
    with pytest.raises(DockyardError) as failed:
        launch.launch(cfg, process_of(cfg), prepared, handover)
    handover.fail(str(failed.value))

    assert recorder.log[-3:] == [
        f"write {handover.fifo} 0",
        f"execve {TRAMPOLINE_PATH} dockyard-exec /bin/true true",
        f"write {handover.fifo} unable to exec /bin/true: Exec format error",
    ]


def test_a_refused_step_is_named(recorder: Recorder, root_fd: int) -> None:
    recorder.refused["setgid"] = PermissionError(1, "Operation not permitted")
    cfg = make_config(False, DENY_MKDIR)
    prepared = process_setup.prepare(cfg, process_of(cfg), root_fd)
    handover = launch.Handover(RecordingChannel(recorder))  # type: ignore[arg-type]
    with pytest.raises(DockyardError) as failed:
        launch.launch(cfg, process_of(cfg), prepared, handover)

    assert str(failed.value) == "unable to become gid 1000: Operation not permitted"


@pytest.mark.parametrize(
    ("mode", "owner", "user", "runs"),
    [
        (0o755, 0, {"uid": 1000, "gid": 1000}, True),
        (0o744, 0, {"uid": 1000, "gid": 1000}, False),
        (0o744, 1000, {"uid": 1000, "gid": 1000}, True),
        (0o754, 0, {"uid": 1000, "gid": 1000, "additionalGids": [0]}, True),
        (0o700, 1, {"uid": 0, "gid": 0}, False),  # root without CAP_DAC_OVERRIDE
        (0o644, 0, {"uid": 0, "gid": 0}, False),  # no x bit at all
    ],
)
def test_the_program_is_checked_for_the_user_it_will_run_as(
    recorder: Recorder,
    root_fd: int,
    mode: int,
    owner: int,
    user: dict[str, Any],
    runs: bool,
) -> None:
    recorder.files["/bin/true"] = fake_stat(stat.S_IFREG | mode, 10, uid=owner, gid=owner)
    cfg = make_config(True, user=user)
    if runs:
        assert process_setup.prepare(cfg, process_of(cfg), root_fd).path == "/bin/true"
    else:
        with pytest.raises(DockyardError, match='exec: "/bin/true": permission denied'):
            process_setup.prepare(cfg, process_of(cfg), root_fd)


def test_signals_are_reset_for_real() -> None:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            signal.signal(signal.SIGPIPE, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGTERM])
            init_calls.InitCalls().reset_signals()
            with open("/proc/self/status") as f:
                fields = [line for line in f if line.startswith(("SigIgn", "SigBlk"))]
            os.write(write_end, "".join(fields).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        report = f.read()
    os.waitpid(child, 0)

    assert report == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"


def test_a_directory_named_as_the_command_is_permission_denied(
    recorder: Recorder, root_fd: int
) -> None:
    """runc's LookPath answer (Docker's 126: "cannot be invoked"), not "no such file" (127)."""
    recorder.files["/etc"] = fake_stat(stat.S_IFDIR | 0o755, 11)
    cfg = make_config(True)
    process_of(cfg).args = ["/etc"]

    with pytest.raises(DockyardError, match='exec: "/etc": permission denied'):
        process_setup.prepare(cfg, process_of(cfg), root_fd)

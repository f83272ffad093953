"""Turn ``linux.seccomp`` into a BPF program and put it in place before exec.

libseccomp (``linux/seccomp.py``) resolves names on every architecture of
the profile and builds the program, as in runc and crun. We export it and
load it ourselves with seccomp(2), which gives us every filter flag the
kernel has, and lets us put runc's -ENOSYS stub in front: a syscall newer
than any the profile names gets ENOSYS instead of the default errno, so
that a libc probing for a new call (clone3, fchmodat2...) falls back to the
old one instead of failing.

Rules follow runc's: a syscall name this libseccomp does not know is
ignored; a rule whose action is the default action is dropped; a rule that
tests the same argument twice becomes one rule per test (either matches).

The program is built in the container's init before pivot_root and
installed (`Program.install`) where runc installs it: with
no_new_privileges as the last step before execve; without it (only a
process holding CAP_SYS_ADMIN may install a filter then) just before the
process gives up its user and capabilities. Either way the setup never
runs under the container's filter, and what the init does after it is no
more than runc does (``runtime/launch.py`` lists it). A listener
(SCMP_ACT_NOTIFY) gets its descriptor from the runtime
(``runtime/seccomp_listener.py``), which takes it from the init with
pidfd_getfd, as runc does.
"""

from __future__ import annotations

import errno
import posix

from dockyard.errors import HostError, InvalidSpec, Unsupported
from dockyard.linux import init_calls
from dockyard.linux import seccomp as S
from dockyard.oci import jsonio
from dockyard.oci.seccomp import ARCHES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.oci.runtime_spec import Process
    from dockyard.oci.seccomp import Seccomp

ACTIONS = {
    "SCMP_ACT_KILL": S.RET_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": S.RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": S.RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": S.RET_TRAP,
    "SCMP_ACT_ERRNO": S.RET_ERRNO,
    "SCMP_ACT_TRACE": S.RET_TRACE,
    "SCMP_ACT_ALLOW": S.RET_ALLOW,
    "SCMP_ACT_LOG": S.RET_LOG,
    "SCMP_ACT_NOTIFY": S.RET_USER_NOTIF,
}
OPERATORS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": S.FILTER_FLAG_TSYNC,
    "SECCOMP_FILTER_FLAG_LOG": S.FILTER_FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": S.FILTER_FLAG_SPEC_ALLOW,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": S.FILTER_FLAG_WAIT_KILLABLE_RECV,
}
EPERM = errno.EPERM
ENOSYS = errno.ENOSYS
# libseccomp's binary-tree layout pays off on long profiles (runc's threshold)
_OPTIMIZE_ABOVE = 32


def preload(seccomp: Seccomp) -> None:
    """Load what building and installing the filter needs, before leaving the host's root."""
    try:
        S.load_library()
    except OSError as exc:
        raise Unsupported(f"linux.seccomp needs libseccomp: {exc.strerror}") from exc
    import _blake2  # noqa: F401  (the cache's hash)


def action_code(action: str, errno_ret: int | None) -> int:
    code = ACTIONS[action]
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        code |= (EPERM if errno_ret is None else errno_ret) & 0xFFFF
    return code


def _arch_tokens(seccomp: Seccomp) -> list[int]:
    """libseccomp tokens of the profile's architectures, the native one first."""
    tokens = [S.native_arch()]
    for index, name in enumerate(seccomp.architectures):
        token = S.resolve_arch(ARCHES[name]) if ARCHES[name] else tokens[0]
        if not token:
            major, minor, micro = S.library_version()
            raise Unsupported(
                f"config.json: {seccomp.field}.architectures[{index}]: libseccomp "
                f"{major}.{minor}.{micro} does not know {name}"
            )
        if token not in tokens:
            tokens.append(token)
    return tokens


def compile_bpf(seccomp: Seccomp) -> bytes:
    """The profile as a BPF program (struct sock_filter[], host byte order)."""
    default = action_code(seccomp.default_action, seccomp.default_errno_ret)
    tokens = _arch_tokens(seccomp)
    bpf = S.Filter(default)
    try:
        for token in tokens[1:]:
            bpf.add_arch(token)
        if sum(len(rule.names) for rule in seccomp.syscalls) > _OPTIMIZE_ABOVE:
            try:
                bpf.set_attr(S.ATTR_CTL_OPTIMIZE, 2)
            except OSError:
                pass  # an older libseccomp: a linear filter works as well
        for rule in seccomp.syscalls:
            action = action_code(rule.action, rule.errno_ret)
            if action == default:
                continue
            tests = [(a.index, OPERATORS[a.op], a.value, a.value_two) for a in rule.args]
            indexes = [t[0] for t in tests]
            groups = [[t] for t in tests] if len(set(indexes)) < len(indexes) else [tests]
            for name in rule.names:
                number = S.resolve_syscall(name)
                if number == S.NR_SCMP_ERROR:
                    continue  # unknown to this libseccomp: ignored, as runc does
                for group in groups:
                    try:
                        bpf.add_rule(action, number, group)
                    except OSError as exc:
                        raise InvalidSpec(
                            rule.field, f"libseccomp refused the rule for {name}: {exc.strerror}"
                        ) from exc
        program = bpf.export_bpf()
    finally:
        bpf.release()
    if _wants_enosys_stub(seccomp):
        program = enosys_stub(_last_syscalls(seccomp, tokens)) + program
    return program


def _wants_enosys_stub(seccomp: Seccomp) -> bool:
    # Not when unknown syscalls are allowed anyway, nor when they get ENOSYS already.
    if seccomp.default_action in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"):
        return False
    return not (seccomp.default_action == "SCMP_ACT_ERRNO" and seccomp.default_errno_ret == ENOSYS)


def _last_syscalls(seccomp: Seccomp, tokens: list[int]) -> dict[int, int]:
    """The highest syscall number the profile names, per libseccomp arch token."""
    names = {name for rule in seccomp.syscalls for name in rule.names}
    last = {}
    for token in tokens:
        numbers = [S.resolve_syscall(name, token) for name in names]
        highest = max((n for n in numbers if n >= 0), default=-1)
        if highest >= 0:
            last[token] = highest
    return last


# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ = 0x15
_JGT = 0x25
_JSET = 0x45
_JA = 0x05
_RET = 0x06
_S390 = (0x16, 0x80000016)


def enosys_stub(last: dict[int, int]) -> bytes:
    """BPF that returns ENOSYS for syscalls above ``last[arch]`` and otherwise
    falls through to the program that follows it.

    Per audit arch: ``jeq arch`` / ``ld nr`` / ``jgt last -> ENOSYS``, with
    x86_64 and x32 told apart by bit 30 of the number, and s390's
    multiplexing syscall 0 (what an unknown number becomes there) sent to ENOSYS.
    """
    by_audit: dict[int, dict[int, int]] = {}
    for token, number in last.items():
        audit = S.AUDIT_ARCH_X86_64 if token == S.ARCH_X32 else token
        by_audit.setdefault(audit, {})[token] = number
    # (opcode, jt label or offset, jf label or offset, k); labels resolved below
    code: list[tuple[int, str | int, str | int, int]] = [(_LD_W_ABS, 0, 0, 4)]
    for n, (audit, highest) in enumerate(sorted(by_audit.items())):
        code.append((_JEQ, 0, f"arch{n + 1}", audit))
        code.append((_LD_W_ABS, 0, 0, 0))
        if audit in _S390:
            code.append((_JEQ, "enosys", 0, 0))
        if audit == S.AUDIT_ARCH_X86_64:
            x64, x32 = highest.get(S.AUDIT_ARCH_X86_64), highest.get(S.ARCH_X32)
            if x64 is None:  # only x32: plain x86_64 numbers go to the filter
                code.append((_JSET, 0, "filter", S.X32_SYSCALL_BIT))
                code.append((_JGT, "enosys", "filter", x32 or 0))
            elif x32 is None:
                code.append((_JSET, "filter", 0, S.X32_SYSCALL_BIT))
                code.append((_JGT, "enosys", "filter", x64))
            else:
                code.append((_JSET, 1, 0, S.X32_SYSCALL_BIT))
                code.append((_JGT, "enosys", "filter", x64))
                code.append((_JGT, "enosys", "filter", x32))
        else:
            code.append((_JGT, "enosys", "filter", max(highest.values())))
        code.append((-1, 0, 0, n + 1))  # label arch{n+1}
    code.append((_JA, 0, 0, 1))  # no arch matched: to the filter (which has its bad-arch rule)
    code.append((_RET, 0, 0, S.RET_ERRNO | ENOSYS))
    return _assemble(code)


def _assemble(code: list[tuple[int, str | int, str | int, int]]) -> bytes:
    labels: dict[str, int] = {}
    program: list[tuple[int, str | int, str | int, int]] = []
    for op, jt, jf, k in code:
        if op == -1:
            labels[f"arch{k}"] = len(program)
        else:
            program.append((op, jt, jf, k))
    labels["enosys"] = len(program) - 1
    labels["filter"] = len(program)
    out = []
    for pc, (op, jt, jf, k) in enumerate(program):
        offsets = []
        for target in (jt, jf):
            offset = labels[target] - pc - 1 if isinstance(target, str) else target
            if not 0 <= offset <= 255:
                raise ValueError(f"BPF jump of {offset} at {pc}")
            offsets.append(offset)
        out.append(S.sock_filter(op, offsets[0], offsets[1], k))
    return b"".join(out)


def kernel_flags(seccomp: Seccomp) -> int:
    """The seccomp(2) flags: the profile's, SPEC_ALLOW when it names none (runc's
    default), NEW_LISTENER when a rule notifies."""
    names = ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] if seccomp.flags is None else seccomp.flags
    flags = 0
    for name in names:
        flags |= FLAGS[name]
    if seccomp.notifies:
        # One thread only: TSYNC has nothing to sync, and the kernel refuses it
        # beside NEW_LISTENER.
        flags = (flags & ~S.FILTER_FLAG_TSYNC) | S.FILTER_FLAG_NEW_LISTENER
    else:
        flags &= ~S.FILTER_FLAG_WAIT_KILLABLE_RECV  # only means something with a listener
    return flags


def allows(seccomp: Seccomp, name: str) -> bool:
    """Does the profile let ``name`` through, whatever its arguments? (Only a
    rule without argument tests, or the default action, can say yes.)"""
    allowing = ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG")
    rules = [rule for rule in seccomp.syscalls if name in rule.names]
    if not rules:
        return seccomp.default_action in allowing
    return all(rule.action in allowing and not rule.args for rule in rules)


# ---------------------------------------------------------------- the cache

#: bump when compile_bpf makes a different program for the same profile
_CACHE_FORMAT = 1
CACHE_DIR = ".seccomp-cache"  # in the runtime's state root, beside the containers
_MAX_INSNS = 4096  # BPF_MAXINSNS


def _cache_name(seccomp: Seccomp) -> tuple[str, bytes]:
    """(file name, header) of the profile's entry: a hash of everything the program
    depends on, the profile text itself kept in the header to rule out collisions."""
    from _blake2 import blake2b

    major, minor, micro = S.library_version()
    text = jsonio.dumps_compact(seccomp.raw).encode()
    header = f"{_CACHE_FORMAT} {major}.{minor}.{micro} {posix.uname().machine} ".encode() + text
    return blake2b(header, digest_size=16).hexdigest(), header + b"\n"


def cached_bpf(seccomp: Seccomp, state_dir_fd: int | None) -> bytes:
    """compile_bpf, through a cache in the state root: every container of the
    engine runs the same few profiles, and libseccomp takes tens of ms to build
    Docker's for three architectures. Best effort: any problem means compiling."""
    if state_dir_fd is None:
        return compile_bpf(seccomp)
    name, header = _cache_name(seccomp)
    path = f"../{CACHE_DIR}/{name}"
    try:
        fd = posix.open(
            path, posix.O_RDONLY | posix.O_NOFOLLOW | posix.O_CLOEXEC, dir_fd=state_dir_fd
        )
        try:
            data = posix.read(fd, len(header) + _MAX_INSNS * 8 + 1)
        finally:
            posix.close(fd)
        program = data[len(header) :]
        if data.startswith(header) and 0 < len(program) <= _MAX_INSNS * 8 and not len(program) % 8:
            return program
    except OSError:
        pass
    program = compile_bpf(seccomp)
    _cache_store(state_dir_fd, path, header + program)
    return program


def _cache_store(state_dir_fd: int, path: str, data: bytes) -> None:
    tmp = f"{path}.{posix.getpid()}"
    try:
        try:
            posix.mkdir(f"../{CACHE_DIR}", 0o700, dir_fd=state_dir_fd)
        except FileExistsError:
            pass
        fd = posix.open(
            tmp,
            posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_CLOEXEC,
            0o600,
            dir_fd=state_dir_fd,
        )
        try:
            posix.write(fd, data)
        finally:
            posix.close(fd)
        posix.rename(tmp, path, src_dir_fd=state_dir_fd, dst_dir_fd=state_dir_fd)
    except OSError:
        try:
            posix.unlink(tmp, dir_fd=state_dir_fd)
        except OSError:
            pass


class Program:
    """A compiled filter waiting to be installed."""

    __slots__ = (
        "allows_execveat",
        "bpf",
        "field",
        "flags",
        "installed",
        "late",
        "notifies",
        "user_flags",
    )

    def __init__(self, seccomp: Seccomp, process: Process, state_dir_fd: int | None = None) -> None:
        self.field = seccomp.field
        self.bpf = cached_bpf(seccomp, state_dir_fd)
        self.flags = kernel_flags(seccomp)
        self.user_flags = seccomp.flags is not None
        #: runc's rule: with no_new_privs the filter waits until right before
        #: exec; without, it goes in while the process still has CAP_SYS_ADMIN
        self.late = process.no_new_privileges
        self.notifies = seccomp.notifies
        #: may the trampoline be started by descriptor (``trampoline.exec_target``)
        self.allows_execveat = allows(seccomp, "execveat")
        self.installed = False

    def install(self) -> int:
        """Load the filter into this process; the listener's descriptor when a
        rule notifies (the caller hands it on and closes it), else -1."""
        calls = init_calls.current
        try:
            try:
                notify_fd = calls.seccomp_filter(self.bpf, self.flags)
            except OSError as exc:
                if (
                    exc.errno != errno.EINVAL
                    or self.user_flags
                    or not self.flags & S.FILTER_FLAG_SPEC_ALLOW
                ):
                    raise
                # A kernel without SPEC_ALLOW (before 4.17): the default flag is optional.
                self.flags &= ~S.FILTER_FLAG_SPEC_ALLOW
                notify_fd = calls.seccomp_filter(self.bpf, self.flags)
        except OSError as exc:
            lacks = exc.errno == errno.EINVAL and self.flags
            hint = " (a flag this kernel lacks?)" if lacks else ""
            raise HostError(
                f"{self.field}: unable to load the seccomp filter: {exc.strerror}{hint}"
            ) from exc
        self.installed = True
        return notify_fd if self.notifies else -1

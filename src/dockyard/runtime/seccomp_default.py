"""Docker's default seccomp profile, as data, and the OCI ``linux.seccomp`` it makes.

This is the profile users expect a container engine to apply when they ask
for nothing else: moby's ``profiles/seccomp/default.json`` (moby/profiles
v0.2.3), written in our own shape. It allows about 360 syscalls to every
container; a few more only to containers holding the capability that makes
them safe (mount and unshare with CAP_SYS_ADMIN, init_module with
CAP_SYS_MODULE, ptrace with CAP_SYS_PTRACE...) or on the architecture that
has them; everything else fails with EPERM. clone is allowed without
CAP_SYS_ADMIN only when it creates no namespace, and clone3 (whose flags sit
behind a pointer that seccomp cannot read) then fails with ENOSYS so that
libc falls back to clone.

`default_seccomp` turns it into a runtime spec ``linux.seccomp`` for one
container, the way Docker's ``GetDefaultProfile`` does: the rules whose
conditions hold for the container's bounding capabilities, this machine's
architecture and kernel, and the architectures this one runs binaries of
(x86_64 also runs x86 and x32 code)::

    spec["linux"]["seccomp"] = default_seccomp(spec["process"]["capabilities"]["bounding"])

The engine applies it unless the user passes ``--security-opt seccomp=...``
(a profile file in the same JSON form as Docker's, or ``unconfined``).
The runtime does not use this module; it is not imported on the start path.
"""

from __future__ import annotations

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

DEFAULT_ACTION = "SCMP_ACT_ERRNO"
DEFAULT_ERRNO = 1  # EPERM

#: this machine's architecture (Docker's name) -> the SCMP_ARCH_* it covers
ARCHITECTURES = {
    "amd64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "arm64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
    "mips64": ("SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"),
    "mips64n32": ("SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"),
    "mipsel64": ("SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"),
    "mipsel64n32": ("SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"),
    "s390x": ("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
    "riscv64": ("SCMP_ARCH_RISCV64",),
    "loongarch64": ("SCMP_ARCH_LOONGARCH64",),
}
#: uname -m -> Docker's architecture name (the one rules test)
MACHINES = {
    "x86_64": "amd64",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
    "mips64": "mips64",
}

_ALLOWED = """
    accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown
    chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
    clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
    copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
    epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
    exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
    fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
    flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
    fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
    futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid
    geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
    getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
    getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
    gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init
    inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
    io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
    landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat
    listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr
    lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore
    mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr
    mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
    mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock
    munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2
    pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll
    ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
    pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv
    recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat
    rename renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction
    rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
    rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
    sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
    sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
    sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
    semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
    setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
    setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
    setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
    setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd
    signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64
    statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
    timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
    timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat
    uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid
    write writev
"""
#: allowed to every container
ALLOWED = _ALLOWED.split()


class Rule:
    """Syscalls allowed (or answered with ``errno``) when every condition holds.

    ``caps``: all of them in the bounding set; ``without_caps``: none of them.
    ``arches``: this architecture is one of them; ``not_arches``: it is not.
    ``min_kernel``: the running kernel is at least this (major, minor).
    ``args``: (index, operator, value) tests, all of which must match.
    """

    __slots__ = (
        "arches",
        "args",
        "caps",
        "errno",
        "min_kernel",
        "names",
        "not_arches",
        "without_caps",
    )

    def __init__(
        self,
        names: str,
        *,
        args: tuple[tuple[int, str, int], ...] = (),
        errno: int | None = None,
        caps: tuple[str, ...] = (),
        without_caps: tuple[str, ...] = (),
        arches: tuple[str, ...] = (),
        not_arches: tuple[str, ...] = (),
        min_kernel: tuple[int, int] | None = None,
    ) -> None:
        self.names = names.split()
        self.args = args
        self.errno = errno
        self.caps = caps
        self.without_caps = without_caps
        self.arches = arches
        self.not_arches = not_arches
        self.min_kernel = min_kernel

    def applies(self, caps: set[str], arch: str, kernel: tuple[int, int]) -> bool:
        return (
            all(cap in caps for cap in self.caps)
            and not any(cap in caps for cap in self.without_caps)
            and (not self.arches or arch in self.arches)
            and arch not in self.not_arches
            and (self.min_kernel is None or kernel >= self.min_kernel)
        )

    def to_oci(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"names": list(self.names)}
        if self.errno is None:
            rule["action"] = "SCMP_ACT_ALLOW"
        else:
            rule["action"] = "SCMP_ACT_ERRNO"
            rule["errnoRet"] = self.errno
        if self.args:
            rule["args"] = [{"index": i, "value": v, "op": op} for i, op, v in self.args]
        return rule


# CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may make none
_NAMESPACE_FLAGS = 0x7E020000
_ENOSYS = 38

#: allowed when their conditions hold
RULES = (
    # ptrace became safe to allow with 4.8 (seccomp is re-checked after the tracer's changes)
    Rule("process_vm_readv process_vm_writev ptrace", min_kernel=(4, 8)),
    # every socket family but AF_ALG (38) and AF_VSOCK (40)
    Rule("socket", args=((0, "SCMP_CMP_LT", 38),)),
    Rule("socket", args=((0, "SCMP_CMP_EQ", 39),)),
    Rule("socket", args=((0, "SCMP_CMP_GT", 40),)),
    # personality: only the harmless personas (PER_LINUX, PER_LINUX32, UNAME26, query)
    *(
        Rule("personality", args=((0, "SCMP_CMP_EQ", p),))
        for p in (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
    ),
    Rule("sync_file_range2 swapcontext", arches=("ppc64le",)),
    Rule(
        "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
        arches=("arm", "arm64"),
    ),
    Rule("arch_prctl", arches=("amd64", "x32")),
    Rule("modify_ldt", arches=("amd64", "x32", "x86")),
    Rule("s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr", arches=("s390", "s390x")),
    Rule("riscv_flush_icache", arches=("riscv64",)),
    Rule("open_by_handle_at", caps=("CAP_DAC_READ_SEARCH",)),
    Rule(
        "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie "
        "lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount "
        "open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog "
        "umount umount2 unshare",
        caps=("CAP_SYS_ADMIN",),
    ),
    # clone without CAP_SYS_ADMIN: no new namespaces (s390 has flags second)
    Rule(
        "clone",
        args=((0, "SCMP_CMP_MASKED_EQ", _NAMESPACE_FLAGS),),
        without_caps=("CAP_SYS_ADMIN",),
        not_arches=("s390", "s390x"),
    ),
    Rule(
        "clone",
        args=((1, "SCMP_CMP_MASKED_EQ", _NAMESPACE_FLAGS),),
        without_caps=("CAP_SYS_ADMIN",),
        arches=("s390", "s390x"),
    ),
    Rule("clone3", errno=_ENOSYS, without_caps=("CAP_SYS_ADMIN",)),
    Rule("reboot", caps=("CAP_SYS_BOOT",)),
    Rule("chroot", caps=("CAP_SYS_CHROOT",)),
    Rule("delete_module init_module finit_module", caps=("CAP_SYS_MODULE",)),
    Rule("acct", caps=("CAP_SYS_PACCT",)),
    Rule(
        "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
        caps=("CAP_SYS_PTRACE",),
    ),
    Rule("iopl ioperm", caps=("CAP_SYS_RAWIO",)),
    Rule("settimeofday stime clock_settime clock_settime64", caps=("CAP_SYS_TIME",)),
    Rule("vhangup", caps=("CAP_SYS_TTY_CONFIG",)),
    Rule("get_mempolicy mbind set_mempolicy set_mempolicy_home_node", caps=("CAP_SYS_NICE",)),
    Rule("syslog", caps=("CAP_SYSLOG",)),
    Rule("bpf", caps=("CAP_BPF",)),
    Rule("perf_event_open", caps=("CAP_PERFMON",)),
)


def machine_arch() -> str:
    """This machine's architecture, as Docker names it."""
    machine = posix.uname().machine
    return MACHINES.get(machine, machine)


def kernel_version() -> tuple[int, int]:
    parts = posix.uname().release.split("-")[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return (0, 0)


def default_seccomp(
    capabilities: Iterable[str],
    arch: str | None = None,
    kernel: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Docker's default profile as an OCI ``linux.seccomp`` for a container whose
    bounding set is ``capabilities``, on ``arch`` (Docker's name: amd64, arm64...;
    this machine's by default) and ``kernel`` (major, minor; the running one)."""
    caps = set(capabilities)
    arch = arch or machine_arch()
    kernel = kernel or kernel_version()
    syscalls = [{"names": list(ALLOWED), "action": "SCMP_ACT_ALLOW"}]
    syscalls += [rule.to_oci() for rule in RULES if rule.applies(caps, arch, kernel)]
    profile: dict[str, Any] = {
        "defaultAction": DEFAULT_ACTION,
        "defaultErrnoRet": DEFAULT_ERRNO,
        "syscalls": syscalls,
    }
    if arch in ARCHITECTURES:
        profile["architectures"] = list(ARCHITECTURES[arch])
    return profile

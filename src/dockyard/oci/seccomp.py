"""The runtime spec's ``linux.seccomp``, checked field by field.

Imported by `runtime_spec` only when a spec has ``linux.seccomp``. Every
problem names its field (``linux.seccomp.syscalls[3].action``); syscall
names are not checked here: a name unknown to this machine's libseccomp is
ignored when the filter is built, as runc does, since profiles list syscalls
of newer kernels and of other architectures.
"""

from __future__ import annotations

from dockyard.errors import InvalidSpec
from dockyard.oci.runtime_spec import _list  # runtime_spec loads this module lazily

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ACTIONS = (
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
)
#: actions that return an errno to the caller (errnoRet, defaultErrnoRet)
ERRNO_ACTIONS = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")
OPERATORS = (
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)
#: SCMP_ARCH_* -> libseccomp's name for it
ARCHES = {
    "SCMP_ARCH_NATIVE": "",
    "SCMP_ARCH_X86": "x86",
    "SCMP_ARCH_X86_64": "x86_64",
    "SCMP_ARCH_X32": "x32",
    "SCMP_ARCH_ARM": "arm",
    "SCMP_ARCH_AARCH64": "aarch64",
    "SCMP_ARCH_MIPS": "mips",
    "SCMP_ARCH_MIPS64": "mips64",
    "SCMP_ARCH_MIPS64N32": "mips64n32",
    "SCMP_ARCH_MIPSEL": "mipsel",
    "SCMP_ARCH_MIPSEL64": "mipsel64",
    "SCMP_ARCH_MIPSEL64N32": "mipsel64n32",
    "SCMP_ARCH_PPC": "ppc",
    "SCMP_ARCH_PPC64": "ppc64",
    "SCMP_ARCH_PPC64LE": "ppc64le",
    "SCMP_ARCH_S390": "s390",
    "SCMP_ARCH_S390X": "s390x",
    "SCMP_ARCH_PARISC": "parisc",
    "SCMP_ARCH_PARISC64": "parisc64",
    "SCMP_ARCH_RISCV64": "riscv64",
    "SCMP_ARCH_LOONGARCH64": "loongarch64",
    "SCMP_ARCH_M68K": "m68k",
    "SCMP_ARCH_SH": "sh",
    "SCMP_ARCH_SHEB": "sheb",
}
FLAGS = (
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
)
#: syscalls the init makes after the filter is in place but before the
#: listener can have its descriptor (it writes the descriptor's number to the
#: runtime, which hands it on): notifying them would wait forever. runc
#: refuses the same.
NOT_NOTIFIABLE = ("write",)
MAX_ARGS = 6
_U64 = 2**64


def _one_of(value: Any, allowed: tuple[str, ...] | dict[str, str], field: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidSpec(field, f"must be a {what} name")
    if value not in allowed:
        raise InvalidSpec(field, f"unknown {what} {value!r} (expected one of {', '.join(allowed)})")
    return value


def _uint(value: Any, field: str, limit: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < limit:
        raise InvalidSpec(field, f"must be an integer from 0 to {limit - 1}")
    return value


def _errno(d: dict[str, Any], key: str, field: str, action: str) -> int | None:
    if d.get(key) is None:
        return None
    value = _uint(d[key], f"{field}.{key}", 2**16)
    if action not in ERRNO_ACTIONS:
        raise InvalidSpec(
            f"{field}.{key}", f"{action} returns no errno; only {' and '.join(ERRNO_ACTIONS)} do"
        )
    return value


def _obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidSpec(field, "must be an object")
    return value


class ArgCondition:
    """One argument test. For SCMP_CMP_MASKED_EQ ``value`` is the mask and
    ``value_two`` what the masked argument must equal."""

    __slots__ = ("index", "op", "value", "value_two")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        if "index" not in d:
            raise InvalidSpec(f"{field}.index", "is required")
        self.index: int = _uint(d["index"], f"{field}.index", MAX_ARGS)
        if "value" not in d:
            raise InvalidSpec(f"{field}.value", "is required")
        self.value: int = _uint(d["value"], f"{field}.value", _U64)
        two = d.get("valueTwo")
        self.value_two: int = 0 if two is None else _uint(two, f"{field}.valueTwo", _U64)
        self.op: str = _one_of(d.get("op"), OPERATORS, f"{field}.op", "operator")


class SyscallRule:
    __slots__ = ("action", "args", "errno_ret", "field", "names")

    def __init__(self, d: dict[str, Any], field: str) -> None:
        self.field = field
        names = d.get("names")
        if not isinstance(names, list) or not names:
            raise InvalidSpec(f"{field}.names", "must be a non-empty array of syscall names")
        for i, name in enumerate(names):
            if not isinstance(name, str) or not name:
                raise InvalidSpec(f"{field}.names[{i}]", "must be a syscall name")
        self.names: list[str] = names
        self.action: str = _one_of(d.get("action"), ACTIONS, f"{field}.action", "action")
        self.errno_ret: int | None = _errno(d, "errnoRet", field, self.action)
        self.args: list[ArgCondition] = [
            ArgCondition(_obj(a, f"{field}.args[{i}]"), f"{field}.args[{i}]")
            for i, a in enumerate(_list(d, "args", field))
        ]
        if self.action == "SCMP_ACT_NOTIFY":
            for i, name in enumerate(names):
                if name in NOT_NOTIFIABLE:
                    raise InvalidSpec(
                        f"{field}.names[{i}]",
                        f"SCMP_ACT_NOTIFY cannot be used for {name}: the container's "
                        "init needs it to pass the listener its descriptor",
                    )


class Seccomp:
    """A checked ``linux.seccomp``. ``flags`` is None when the spec has none
    (the runtime then picks its default, SPEC_ALLOW, as runc does)."""

    __slots__ = (
        "architectures",
        "default_action",
        "default_errno_ret",
        "field",
        "flags",
        "listener_metadata",
        "listener_path",
        "raw",
        "syscalls",
    )

    def __init__(self, d: dict[str, Any], field: str = "linux.seccomp") -> None:
        self.field = field
        self.raw = d
        self.syscalls: list[SyscallRule] = [
            SyscallRule(_obj(s, f"{field}.syscalls[{i}]"), f"{field}.syscalls[{i}]")
            for i, s in enumerate(_list(d, "syscalls", field))
        ]
        default = d.get("defaultAction")
        self.default_action: str = _one_of(default, ACTIONS, f"{field}.defaultAction", "action")
        if default == "SCMP_ACT_NOTIFY":
            raise InvalidSpec(
                f"{field}.defaultAction",
                "SCMP_ACT_NOTIFY cannot be the default "
                "action (the runtime's own last syscalls would wait on it)",
            )
        self.default_errno_ret: int | None = _errno(
            d, "defaultErrnoRet", field, self.default_action
        )
        self.architectures: list[str] = [
            _one_of(a, ARCHES, f"{field}.architectures[{i}]", "architecture")
            for i, a in enumerate(_list(d, "architectures", field))
        ]
        flags = d.get("flags")
        self.flags: list[str] | None = (
            None
            if flags is None
            else [
                _one_of(f, FLAGS, f"{field}.flags[{i}]", "flag")
                for i, f in enumerate(_list(d, "flags", field))
            ]
        )
        for key in ("listenerPath", "listenerMetadata"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise InvalidSpec(f"{field}.{key}", "must be a string")
        self.listener_path: str = d.get("listenerPath") or ""
        self.listener_metadata: str = d.get("listenerMetadata") or ""
        if self.notifies and not self.listener_path:
            raise InvalidSpec(
                f"{field}.listenerPath", "is required when a rule uses SCMP_ACT_NOTIFY"
            )
        if self.listener_path and not self.listener_path.startswith("/"):
            raise InvalidSpec(f"{field}.listenerPath", "must be an absolute path")

    @property
    def notifies(self) -> bool:
        return any(rule.action == "SCMP_ACT_NOTIFY" for rule in self.syscalls)


def parse_seccomp(value: Any, field: str = "linux.seccomp") -> Seccomp | None:
    """The checked profile, or None when it asks for nothing (no default action
    and no rules: runc's "seccomp disabled")."""
    d = _obj(value, field)
    if not d.get("defaultAction") and not d.get("syscalls"):
        return None
    return Seccomp(d, field)

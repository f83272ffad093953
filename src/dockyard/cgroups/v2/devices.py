"""v2 devices: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE on the cgroup.

cgroup v2 has no devices files. The kernel runs the program attached to the
cgroup on each device access with ``struct bpf_cgroup_dev_ctx {u32
access_type; u32 major; u32 minor}`` (type in the low 16 bits of
access_type, the access bits in the high 16) and allows the access if the
program returns 1. The program is compiled here from the same emulator the v1
backend uses: one block per exception, then the default verdict.
"""

from __future__ import annotations

import errno
import posix
import struct

from dockyard.cgroups.devices import FIELD, WILDCARD, Emulator
from dockyard.errors import HostError, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cgroups.devices import Rule

# struct bpf_cgroup_dev_ctx values (include/uapi/linux/bpf.h)
DEV_BLOCK = 1
DEV_CHAR = 2
ACC_MKNOD = 1
ACC_READ = 2
ACC_WRITE = 4
_TYPES = {"b": DEV_BLOCK, "c": DEV_CHAR}
_ACCESS = {"m": ACC_MKNOD, "r": ACC_READ, "w": ACC_WRITE}

# opcodes: class | size/op | mode/source
LDX_W = 0x61  # BPF_LDX | BPF_W | BPF_MEM:   dst = *(u32 *)(src + off)
AND32_K = 0x54  # BPF_ALU | BPF_AND | BPF_K:  dst &= imm (32-bit)
RSH32_K = 0x74  # BPF_ALU | BPF_RSH | BPF_K:  dst >>= imm (32-bit)
MOV32_X = 0xBC  # BPF_ALU | BPF_MOV | BPF_X:  dst = src (32-bit)
MOV64_K = 0xB7  # BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
JNE_K = 0x55  # BPF_JMP | BPF_JNE | BPF_K:   if dst != imm goto pc + off
JNE_X = 0x5D  # BPF_JMP | BPF_JNE | BPF_X:   if dst != src goto pc + off
EXIT = 0x95  # BPF_JMP | BPF_EXIT:          return r0


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, dst | (src << 4), off, imm)


PROLOGUE = b"".join(
    (
        _insn(LDX_W, 2, 1, 0),  # r2 = ctx->access_type
        _insn(AND32_K, 2, imm=0xFFFF),  # r2 = device type
        _insn(LDX_W, 3, 1, 0),  # r3 = ctx->access_type
        _insn(RSH32_K, 3, imm=16),  # r3 = requested access
        _insn(LDX_W, 4, 1, 4),  # r4 = ctx->major
        _insn(LDX_W, 5, 1, 8),  # r5 = ctx->minor
    )
)


def _block(kind: str, major: int, minor: int, access: str, verdict: int) -> bytes:
    """Return ``verdict`` if the access matches this exception, else fall through."""
    # (code, dst, src, imm, is_jump); jumps go to the end of the block.
    steps: list[tuple[int, int, int, int, bool]] = [(JNE_K, 2, 0, _TYPES[kind], True)]
    if access != "rwm":
        mask = sum(_ACCESS[c] for c in access)
        steps += [(MOV32_X, 1, 3, 0, False), (AND32_K, 1, 0, mask, False), (JNE_X, 1, 3, 0, True)]
    if major != WILDCARD:
        steps.append((JNE_K, 4, 0, major, True))
    if minor != WILDCARD:
        steps.append((JNE_K, 5, 0, minor, True))
    steps += [(MOV64_K, 0, 0, verdict, False), (EXIT, 0, 0, 0, False)]
    return b"".join(
        _insn(code, dst, src, len(steps) - i - 1 if jump else 0, imm)
        for i, (code, dst, src, imm, jump) in enumerate(steps)
    )


def compile_program(emu: Emulator) -> bytes:
    default = 1 if emu.default_allow else 0
    blocks = [
        _block(kind, major, minor, access, 1 - default)
        for (kind, major, minor), access in emu.ordered()
    ]
    return PROLOGUE + b"".join(blocks) + _insn(MOV64_K, 0, imm=default) + _insn(EXIT)


def set(directory: str, rules: list[Rule]) -> None:
    install(directory, compile_program(Emulator.from_rules(rules)))


def install(directory: str, program: bytes) -> None:
    """Attach ``program`` to the cgroup, then detach the device programs it replaces."""
    from dockyard.linux import bpf

    try:
        dir_fd = posix.open(directory, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError as exc:
        raise HostError(f"{FIELD}: cannot open cgroup {directory}: {exc.strerror}") from exc
    try:
        old = bpf.prog_query(dir_fd, bpf.BPF_CGROUP_DEVICE)
        prog_fd = bpf.prog_load_cgroup_device(program)
        try:
            bpf.prog_attach(dir_fd, prog_fd, bpf.BPF_CGROUP_DEVICE, bpf.BPF_F_ALLOW_MULTI)
        finally:
            posix.close(prog_fd)
        for prog_id in old:
            old_fd = bpf.prog_get_fd_by_id(prog_id)
            try:
                bpf.prog_detach(dir_fd, old_fd, bpf.BPF_CGROUP_DEVICE)
            finally:
                posix.close(old_fd)
    except OSError as exc:
        if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP):
            raise Unsupported(
                f"{FIELD}: this kernel cannot filter devices with eBPF (bpf(2): {exc.strerror})"
            ) from exc
        raise HostError(
            f"{FIELD}: installing the eBPF device filter on {directory}: {exc.strerror}"
        ) from exc
    finally:
        posix.close(dir_fd)

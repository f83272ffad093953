"""A classic-BPF interpreter for seccomp programs, to test filters without loading them.

It runs a program (struct sock_filter[] in host byte order, as the kernel
takes it) on a struct seccomp_data made from (arch, nr, args) and returns
the action word the kernel would act on. Only the instructions seccomp
filters use are known; anything else fails the test loudly.
"""

from __future__ import annotations

import sys

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_BIT = 0x40000000

RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
RET_KILL_THREAD = 0x00000000
RET_KILL_PROCESS = 0x80000000
RET_TRAP = 0x00030000
RET_LOG = 0x7FFC0000
RET_TRACE = 0x7FF00000
RET_USER_NOTIF = 0x7FC00000


def seccomp_data(arch: int, nr: int, args: tuple[int, ...] = ()) -> bytes:
    """struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6];}"""
    full = (tuple(args) + (0,) * 6)[:6]
    order = sys.byteorder
    return (
        (nr & 0xFFFFFFFF).to_bytes(4, order)
        + arch.to_bytes(4, order)
        + bytes(8)
        + b"".join((a & 0xFFFFFFFFFFFFFFFF).to_bytes(8, order) for a in full)
    )


def run(program: bytes, arch: int, nr: int, args: tuple[int, ...] = ()) -> int:
    """The action word (SECCOMP_RET_*) the program returns for this syscall."""
    assert program and len(program) % 8 == 0, "not a BPF program"
    data = seccomp_data(arch, nr, args)
    order = sys.byteorder
    insns = [
        (
            int.from_bytes(program[i : i + 2], order),
            program[i + 2],
            program[i + 3],
            int.from_bytes(program[i + 4 : i + 8], order),
        )
        for i in range(0, len(program), 8)
    ]
    acc = 0
    pc = 0
    for _ in range(100_000):
        code, jt, jf, k = insns[pc]
        pc += 1
        if code == 0x20:  # ld [k] (word)
            acc = int.from_bytes(data[k : k + 4], order)
        elif code == 0x54:  # and #k
            acc &= k
        elif code == 0x05:  # ja k
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):  # jeq, jgt, jge, jset #k
            taken = {
                0x15: acc == k,
                0x25: acc > k,
                0x35: acc >= k,
                0x45: bool(acc & k),
            }[code]
            pc += jt if taken else jf
        elif code == 0x06:  # ret #k
            return k
        else:
            raise AssertionError(f"BPF opcode {code:#x} at {pc - 1} is not emulated")
    raise AssertionError("BPF program did not return")

"""A sealed in-memory exec trampoline, against CVE-2019-5736.

When the runtime's process execs the container's program, the kernel may
run *the runtime's own binary* instead: an image whose entrypoint is a
script starting ``#!/proc/self/exe`` makes the kernel load whatever the
exec'ing process runs, here the host's Python. That process then lives in
the container, and any container process can open the binary through
/proc/PID/exe and, once it has exited, rewrite it on the host. runc and crun
re-exec themselves from a sealed copy; re-starting Python would cost more
than a whole container start, so the runtime execs the program through a
tiny trampoline instead: about 200 bytes of machine code in a sealed memfd
(`make`), which does nothing but execve(argv[1], argv + 2, envp). At the
moment of the real exec /proc/self/exe is that sealed memfd: running it
again achieves nothing (it refuses to run without its magic argv[0]), and
it cannot be written.

The trampoline is started with a plain execve of /proc/self/fd/N when the
container's /proc shows it there, so that any seccomp profile allowing
execve allows it; only without /proc does it take execveat (fexecve). It
fails closed: a trampoline that cannot be made or run is an error, never a
silent direct exec. Kernels with ``vm.memfd_noexec`` (6.3+) make memfds
non-executable unless asked for MFD_EXEC, which `make` does.

Only x86_64 has a trampoline so far; elsewhere `make` returns None and the
runtime execs directly (the exposure documented in docs/security.md).
"""

from __future__ import annotations

import errno
import posix

from dockyard.linux import init_calls
from dockyard.linux.libc import _check, _function, _Int

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

#: argv[0] the trampoline insists on (its first 8 bytes are compared)
MAGIC = "dockyard-exec"
_MESSAGE = b"dockyard-exec: cannot exec the container's process\n"

_F_ADD_SEALS = 1033
_F_DUPFD_CLOEXEC = 1030
_F_SEAL_SEAL, _F_SEAL_SHRINK, _F_SEAL_GROW, _F_SEAL_WRITE = 1, 2, 4, 8
#: memfd_create: executable even where vm.memfd_noexec makes memfds noexec by default
MFD_EXEC = 0x0010
_fcntl = _function("fcntl")

_BASE = 0x400000


def _x86_64() -> bytes:
    """A static ELF executable, hand-assembled (the disassembly beside each line)."""
    code = bytearray()
    code += bytes.fromhex("488b0c24")  #  mov rcx, [rsp]           ; argc
    code += bytes.fromhex("4883f903")  #  cmp rcx, 3
    jb_fail = len(code)
    code += bytes.fromhex("7200")  #      jb fail
    code += bytes.fromhex("488b442408")  # mov rax, [rsp+8]       ; argv[0]
    code += bytes.fromhex("488b00")  #    mov rax, [rax]
    code += bytes.fromhex("48ba") + MAGIC[:8].encode()  # mov rdx, "dockyard"
    code += bytes.fromhex("4839d0")  #    cmp rax, rdx
    jne_fail = len(code)
    code += bytes.fromhex("7500")  #      jne fail
    code += bytes.fromhex("488b7c2410")  # mov rdi, [rsp+16]      ; path = argv[1]
    code += bytes.fromhex("488d742418")  # lea rsi, [rsp+24]      ; argv + 2
    code += bytes.fromhex("488d54cc10")  # lea rdx, [rsp+rcx*8+16] ; envp
    code += bytes.fromhex("b83b000000")  # mov eax, 59 (execve)
    code += bytes.fromhex("0f05")  #      syscall
    code += bytes.fromhex("bf02000000")  # mov edi, 2             ; it failed: say so
    lea_message = len(code)
    code += bytes.fromhex("488d3500000000")  # lea rsi, [rip+message]
    code += bytes.fromhex("ba") + len(_MESSAGE).to_bytes(4, "little")  # mov edx, len
    code += bytes.fromhex("b801000000")  # mov eax, 1 (write)
    code += bytes.fromhex("0f05")  #      syscall
    fail = len(code)
    code += bytes.fromhex("bf7f000000")  # mov edi, 127
    code += bytes.fromhex("b8e7000000")  # mov eax, 231 (exit_group)
    code += bytes.fromhex("0f05")  #      syscall
    message = len(code)
    code += _MESSAGE
    code[jb_fail + 1] = fail - (jb_fail + 2)
    code[jne_fail + 1] = fail - (jne_fail + 2)
    code[lea_message + 3 : lea_message + 7] = (message - (lea_message + 7)).to_bytes(4, "little")
    return _elf64(0x3E, bytes(code))


def _elf64(machine: int, code: bytes) -> bytes:
    """An ELF64 little-endian executable: one R+X segment holding headers and code."""
    size = 64 + 56 + len(code)
    header = (
        b"\x7fELF\x02\x01\x01"
        + bytes(9)  # 64-bit, little-endian, version 1, System V
        + (2).to_bytes(2, "little")  # ET_EXEC
        + machine.to_bytes(2, "little")
        + (1).to_bytes(4, "little")  # EV_CURRENT
        + (_BASE + 64 + 56).to_bytes(8, "little")  # e_entry
        + (64).to_bytes(8, "little")  # e_phoff
        + bytes(8)  # e_shoff
        + bytes(4)  # e_flags
        + (64).to_bytes(2, "little")  # e_ehsize
        + (56).to_bytes(2, "little")  # e_phentsize
        + (1).to_bytes(2, "little")  # e_phnum
        + bytes(6)  # no sections
    )
    segment = (
        (1).to_bytes(4, "little")  # PT_LOAD
        + (5).to_bytes(4, "little")  # PF_R | PF_X
        + bytes(8)  # p_offset
        + _BASE.to_bytes(8, "little")  # p_vaddr
        + _BASE.to_bytes(8, "little")  # p_paddr
        + size.to_bytes(8, "little")  # p_filesz
        + size.to_bytes(8, "little")  # p_memsz
        + (0x1000).to_bytes(8, "little")  # p_align
    )
    return header + segment + code


_PROGRAMS = {"x86_64": _x86_64}


def program() -> bytes | None:
    """This machine's trampoline executable, or None where there is none yet."""
    build = _PROGRAMS.get(posix.uname().machine)
    return build() if build else None


def make(lowest: int = 3) -> int | None:
    """A read-only descriptor (close-on-exec, numbered ``lowest`` or above) of a
    sealed memfd holding the trampoline, or None on an architecture without
    one. Needs /proc. OSError (EACCES) where vm.memfd_noexec=2 forbids
    executable memfds: the caller must not go on without it."""
    executable = program()
    if executable is None:
        return None
    flags = posix.MFD_CLOEXEC | posix.MFD_ALLOW_SEALING
    try:
        fd = posix.memfd_create(MAGIC, flags | MFD_EXEC)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        fd = posix.memfd_create(MAGIC, flags)  # before Linux 6.3: no MFD_EXEC, always executable
    try:
        posix.write(fd, executable)
        seals = _F_SEAL_SEAL | _F_SEAL_SHRINK | _F_SEAL_GROW | _F_SEAL_WRITE
        _check(_fcntl(_Int(fd), _Int(_F_ADD_SEALS), _Int(seals)))
        # exec refuses a file open for writing (ETXTBSY): keep a read-only one
        readonly = posix.open(f"/proc/self/fd/{fd}", posix.O_RDONLY | posix.O_CLOEXEC)
    finally:
        posix.close(fd)
    if readonly >= lowest:
        return readonly
    try:  # out of the way of descriptors passed on to the container (--preserve-fds)
        return _check(_fcntl(_Int(readonly), _Int(_F_DUPFD_CLOEXEC), _Int(lowest)))
    finally:
        posix.close(readonly)


def exec_target(trampoline: int) -> str | int:
    """How to start the trampoline from here: the path /proc/self/fd/N when it
    leads to the trampoline itself (a plain execve, which every profile that
    runs anything allows), else the descriptor (execveat; no usable /proc).

    Called before the seccomp filter and before the ids change: stat of our
    own /proc entries needs neither.
    """
    path = f"/proc/self/fd/{trampoline}"
    calls = init_calls.current
    try:
        st = calls.stat(path)
    except OSError:
        return trampoline
    mine = calls.fstat(trampoline)
    # dev and inode of a memfd: nothing a container's files could pretend to be
    return path if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino) else trampoline


def execve(target: str | int | None, path: str, args: list[str], env: dict[str, str]) -> NoReturn:
    """Exec ``path`` through the trampoline at ``target`` (`exec_target`), or
    directly where there is no trampoline. Raises OSError when the exec fails:
    never a silent direct exec in place of the trampoline."""
    calls = init_calls.current
    if target is None:
        calls.execve(path, args, env)
    calls.execve(target, [MAGIC, path, *args], env)

"""Two hand-assembled cgroup sock_addr programs: a published port's connect-time redirect.

``connect4`` runs on every IPv4 connect() of the cgroup it is attached to
(the cgroup v2 root: every process) and, for a TCP socket of the host's
network namespace whose destination is a key of the ports map, rewrites the
destination to the key's value, the container's address and port. The
socket then is routed to the bridge from its very first packet, taking the
bridge's GSO size (BIG TCP) instead of ``lo``'s, and no DNAT is needed for
it. It records (original, new) destination under the socket's cookie in
the reverse map, so that ``getpeername4`` can show the client the address
and port it connected to, as Cilium's socket load balancing does for
services. Anything else (UDP, another namespace, an address not in the map,
a socket bound to a loopback address, which could not leave through the
bridge) passes untouched; both programs always return 1 (allow).

Maps (the values are what the kernel writes into ``struct bpf_sock_addr``,
network byte order; ports are u32 fields with the port's two bytes first):
- ports (hash): key {ip4, port}, value {ip4, port}, 8 bytes each. The key
  127.0.0.0 stands for "any 127.0.0.0/8 address" (a binding on every
  address); an exact key is looked up first.
- info (array of 1): value {u64 netns cookie of the host, root path}: the
  program acts only in that namespace; the path tells who owns the maps.
- rev (LRU hash): key u64 socket cookie, value {old ip4, old port, new ip4,
  new port}; an LRU forgets closed sockets' entries (cookies never repeat).

The instructions are little-endian, as the hosts Dockyard runs on.
"""

from __future__ import annotations

import struct

from dockyard.linux import bpf, bpf_map

INFO_VALUE_SIZE = 8 + 4096  # u64 cookie + the owner's root path (NUL-padded, PATH_MAX)
PORTS_MAX = 4096
REV_MAX = 65536
LOOPBACK_ANY = b"\x7f\0\0\0"  # the ports key's address for "any of 127.0.0.0/8"

# struct bpf_sock_addr offsets; struct bpf_sock's
_USER_IP4, _USER_PORT, _TYPE, _SK = 4, 24, 32, 64
_SK_SRC_IP4 = 24
_SOCK_STREAM = 1
# helpers
_MAP_LOOKUP, _MAP_UPDATE, _SOCKET_COOKIE, _NETNS_COOKIE = 1, 2, 46, 122
# opcodes (class | size/op | mode/source)
_LD_IMM64 = 0x18  # dst = imm64 (two slots); src 1: imm is a map fd
_LDX_W, _LDX_DW = 0x61, 0x79  # dst = *(u32/u64 *)(src + off)
_STX_W, _STX_DW = 0x63, 0x7B  # *(u32/u64 *)(dst + off) = src
_ST_W = 0x62  # *(u32 *)(dst + off) = imm
_MOV64_X, _MOV64_K = 0xBF, 0xB7
_ADD64_K, _AND64_K = 0x07, 0x57
_JEQ_K, _JNE_K, _JNE_X = 0x15, 0x55, 0x5D
_CALL, _EXIT = 0x85, 0x95
_R0, _R1, _R2, _R3, _R4, _R6, _R7, _R8, _R9, _FP = 0, 1, 2, 3, 4, 6, 7, 8, 9, 10
_PSEUDO_MAP_FD = 1


class _Asm:
    """Instructions with forward jumps to named labels, patched by `code`."""

    def __init__(self) -> None:
        self.insns: list[list[int]] = []  # [code, dst, src, off, imm]
        self.jumps: list[tuple[int, str]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> None:
        self.insns.append([code, dst, src, off, imm])

    def jump(self, code: int, dst: int, label: str, src: int = 0, imm: int = 0) -> None:
        self.jumps.append((len(self.insns), label))
        self.op(code, dst, src, 0, imm)

    def map_fd(self, dst: int, fd: int) -> None:
        self.op(_LD_IMM64, dst, _PSEUDO_MAP_FD, imm=fd)
        self.op(0)

    def stack_pointer(self, dst: int, offset: int) -> None:
        self.op(_MOV64_X, dst, _FP)
        self.op(_ADD64_K, dst, imm=offset)

    def label(self, name: str) -> None:
        self.labels[name] = len(self.insns)

    def code(self) -> bytes:
        for at, name in self.jumps:
            self.insns[at][3] = self.labels[name] - at - 1
        return b"".join(
            struct.pack("<BBhi", c, dst | (src << 4), off, imm)
            for c, dst, src, off, imm in self.insns
        )


def connect4(ports_fd: int, info_fd: int, rev_fd: int) -> bytes:
    a = _Asm()
    a.op(_MOV64_X, _R6, _R1)  # r6 = ctx
    a.op(_LDX_W, _R2, _R6, _TYPE)
    a.jump(_JNE_K, _R2, "out", imm=_SOCK_STREAM)  # TCP only
    # a socket bound to a loopback address cannot leave through the bridge: DNAT's
    a.op(_LDX_DW, _R2, _R6, _SK)
    a.op(_LDX_W, _R2, _R2, _SK_SRC_IP4)
    a.op(_AND64_K, _R2, imm=0xFF)
    a.jump(_JEQ_K, _R2, "out", imm=0x7F)
    a.op(_MOV64_X, _R1, _R6)
    a.op(_CALL, imm=_NETNS_COOKIE)
    a.op(_MOV64_X, _R7, _R0)  # r7 = the socket's netns cookie
    a.op(_ST_W, _FP, off=-4, imm=0)
    a.map_fd(_R1, info_fd)
    a.stack_pointer(_R2, -4)
    a.op(_CALL, imm=_MAP_LOOKUP)
    a.jump(_JEQ_K, _R0, "out")
    a.op(_LDX_DW, _R1, _R0, 0)
    a.jump(_JNE_X, _R1, "out", src=_R7)  # not the host's namespace
    a.op(_LDX_W, _R8, _R6, _USER_IP4)
    a.op(_LDX_W, _R9, _R6, _USER_PORT)
    a.op(_STX_W, _FP, _R8, -16)
    a.op(_STX_W, _FP, _R9, -12)
    a.map_fd(_R1, ports_fd)
    a.stack_pointer(_R2, -16)
    a.op(_CALL, imm=_MAP_LOOKUP)
    a.jump(_JNE_K, _R0, "hit")
    a.op(_MOV64_X, _R1, _R8)
    a.op(_AND64_K, _R1, imm=0xFF)
    a.jump(_JNE_K, _R1, "out", imm=0x7F)  # not 127.0.0.0/8
    a.op(_ST_W, _FP, off=-16, imm=0x7F)  # the "any loopback address" key
    a.map_fd(_R1, ports_fd)
    a.stack_pointer(_R2, -16)
    a.op(_CALL, imm=_MAP_LOOKUP)
    a.jump(_JEQ_K, _R0, "out")
    a.label("hit")
    a.op(_LDX_W, _R1, _R0, 0)
    a.op(_LDX_W, _R2, _R0, 4)
    a.op(_STX_W, _R6, _R1, _USER_IP4)
    a.op(_STX_W, _R6, _R2, _USER_PORT)
    a.op(_STX_W, _FP, _R8, -32)  # rev value: old ip, old port, new ip, new port
    a.op(_STX_W, _FP, _R9, -28)
    a.op(_STX_W, _FP, _R1, -24)
    a.op(_STX_W, _FP, _R2, -20)
    a.op(_MOV64_X, _R1, _R6)
    a.op(_CALL, imm=_SOCKET_COOKIE)
    a.op(_STX_DW, _FP, _R0, -40)
    a.map_fd(_R1, rev_fd)
    a.stack_pointer(_R2, -40)
    a.stack_pointer(_R3, -32)
    a.op(_MOV64_K, _R4, imm=0)  # BPF_ANY
    a.op(_CALL, imm=_MAP_UPDATE)
    a.label("out")
    a.op(_MOV64_K, _R0, imm=1)
    a.op(_EXIT)
    return a.code()


def getpeername4(rev_fd: int) -> bytes:
    a = _Asm()
    a.op(_MOV64_X, _R6, _R1)
    a.op(_CALL, imm=_SOCKET_COOKIE)  # r1 is still ctx
    a.op(_STX_DW, _FP, _R0, -8)
    a.map_fd(_R1, rev_fd)
    a.stack_pointer(_R2, -8)
    a.op(_CALL, imm=_MAP_LOOKUP)
    a.jump(_JEQ_K, _R0, "out")
    a.op(_LDX_W, _R1, _R0, 8)  # only while the peer is still the one it was sent to
    a.op(_LDX_W, _R2, _R6, _USER_IP4)
    a.jump(_JNE_X, _R1, "out", src=_R2)
    a.op(_LDX_W, _R1, _R0, 12)
    a.op(_LDX_W, _R2, _R6, _USER_PORT)
    a.jump(_JNE_X, _R1, "out", src=_R2)
    a.op(_LDX_W, _R1, _R0, 0)
    a.op(_STX_W, _R6, _R1, _USER_IP4)
    a.op(_LDX_W, _R1, _R0, 4)
    a.op(_STX_W, _R6, _R1, _USER_PORT)
    a.label("out")
    a.op(_MOV64_K, _R0, imm=1)
    a.op(_EXIT)
    return a.code()


def make_maps(tag: str, netns_cookie: int, owner: bytes) -> tuple[int, int, int]:
    """(ports, info, rev) fds of three new maps named after ``tag``; info filled in."""
    made: list[int] = []
    try:
        made.append(
            bpf_map.create(bpf_map.BPF_MAP_TYPE_HASH, 8, 8, PORTS_MAX, f"dyp_{tag}".encode())
        )
        made.append(
            bpf_map.create(bpf_map.BPF_MAP_TYPE_ARRAY, 4, INFO_VALUE_SIZE, 1, f"dyi_{tag}".encode())
        )
        made.append(
            bpf_map.create(bpf_map.BPF_MAP_TYPE_LRU_HASH, 8, 16, REV_MAX, f"dyr_{tag}".encode())
        )
        if len(owner) >= INFO_VALUE_SIZE - 8:  # never cut: a cut path names another root
            raise OSError(36, "the engine's root path is too long")
        value = netns_cookie.to_bytes(8, "little") + owner
        bpf_map.update(made[1], bytes(4), value.ljust(INFO_VALUE_SIZE, b"\0"))
    except BaseException:
        for fd in made:
            import posix

            posix.close(fd)
        raise
    return made[0], made[1], made[2]


def load(tag: str, ports_fd: int, info_fd: int, rev_fd: int) -> tuple[int, int]:
    """(connect4, getpeername4) program fds, verified by the kernel."""
    kind = bpf.BPF_PROG_TYPE_CGROUP_SOCK_ADDR
    connect = bpf.prog_load(
        kind,
        connect4(ports_fd, info_fd, rev_fd),
        f"dyc_{tag}".encode(),
        bpf.BPF_CGROUP_INET4_CONNECT,
    )
    try:
        peer = bpf.prog_load(
            kind, getpeername4(rev_fd), f"dyg_{tag}".encode(), bpf.BPF_CGROUP_INET4_GETPEERNAME
        )
    except BaseException:
        import posix

        posix.close(connect)
        raise
    return connect, peer

"""libnftables (Debian's libnftables1) through its JSON interface, bound with ctypes' C core.

Dockyard's firewall rules are JSON documents (network/firewall.py builds
them) handed to the library in one call, so a batch is applied by the
kernel as one transaction: all of it or none. Debian's python3-nftables
wraps the same library, but it lives in the system's site-packages (a
venv does not see it) and imports ctypes and json outside linux/; the six
functions it calls are bound here instead.
"""

from __future__ import annotations

import _ctypes

from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LIBRARY = "libnftables.so.1"
NFT_CTX_OUTPUT_ECHO = 1 << 2
NFT_CTX_OUTPUT_HANDLE = 1 << 3
NFT_CTX_OUTPUT_JSON = 1 << 4


class _Int(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "i"


class _UInt(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "I"


class _VoidP(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "P"


class _CharP(_ctypes._SimpleCData):  # type: ignore[type-arg]
    _type_ = "z"


class _Function(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL
    _restype_ = _Int


class NftError(OSError):
    """libnftables refused a batch; the message is its own."""


class Nftables:
    """One libnftables context, output and errors kept in buffers, JSON both ways."""

    def __init__(self) -> None:
        try:
            handle = _ctypes.dlopen(LIBRARY, 0)
        except OSError as exc:
            raise OSError(
                2, f"cannot load {LIBRARY} (apt-get install libnftables1): {exc}"
            ) from exc

        def fn(name: str, restype: type) -> _Function:
            f = _Function(_ctypes.dlsym(handle, name))
            f.restype = restype
            return f

        self._new = fn("nft_ctx_new", _VoidP)
        self._free = fn("nft_ctx_free", _Int)
        self._set_flags = fn("nft_ctx_output_set_flags", _Int)
        self._buffer_output = fn("nft_ctx_buffer_output", _Int)
        self._buffer_error = fn("nft_ctx_buffer_error", _Int)
        self._run = fn("nft_run_cmd_from_buffer", _Int)
        self._output = fn("nft_ctx_get_output_buffer", _CharP)
        self._error = fn("nft_ctx_get_error_buffer", _CharP)
        ctx = self._new(_UInt(0))
        if not ctx:
            raise OSError(12, "nft_ctx_new failed")
        self._ctx = _VoidP(ctx)
        self._set_flags(self._ctx, _UInt(NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE))
        self._buffer_output(self._ctx)
        self._buffer_error(self._ctx)

    def close(self) -> None:
        if self._ctx is not None:
            self._free(self._ctx)
            self._ctx = None  # type: ignore[assignment]

    def __enter__(self) -> Nftables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, commands: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply ``{"nftables": commands}`` as one transaction; the library's JSON answer."""
        document = jsonio.dumps_compact({"nftables": commands}).encode()
        status = self._run(self._ctx, document)
        error = (self._error(self._ctx) or b"").decode(errors="replace").strip()
        output = (self._output(self._ctx) or b"").decode(errors="replace").strip()
        if status != 0:
            raise NftError(22, error or f"libnftables refused the batch (status {status})")
        if not output:
            return {}
        answer = jsonio.loads(output)
        return answer if isinstance(answer, dict) else {}

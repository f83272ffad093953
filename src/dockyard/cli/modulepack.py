"""The package's modules compiled into one file, loaded without importlib's search.

A container start imports ~35 of our modules. Through the normal path
finder each costs ~0.2 ms on a slow VM, most of it importlib's own Python
code (path entries, stats, spec objects, reading the .pyc); from a pack the
same import is a dictionary lookup, one read of the source and one
``pread``. The pack ships inside the package (``dockyard/cli/modules.pack``,
built with the wheel, see setup.py) and the runtime's launcher
(``cli/launcher.py``) installs the finder before anything else is imported.

Correctness before speed: every entry records its source's size and a hash
of its content (the keyed SipHash CPython uses for hash-checked .pyc files,
PEP 552). A module whose source differs from what was compiled (an editable
install being edited, a file replaced with the same size and mtime) is
compiled from that source; everything is left to the normal import system
when the pack is missing, unreadable or written by another Python version.

Layout: ``MAGIC``, the interpreter's bytecode magic number, the index's
length (4 bytes, little-endian), the marshalled index ``{name: (is_package,
source, size, hash, offset, length)}``, then each module's marshalled code
object at its offset. ``source`` is relative to the directory that holds the
package (site-packages, or src/ for an editable install), so a pack built in
a wheel's build directory serves the installed files; a module from
elsewhere (``__future__``) keeps its absolute path.
"""

# No ``from __future__ import annotations`` here: this module is imported
# before the pack serves anything, and __future__ is one of the pack's
# modules. Annotations naming what only TYPE_CHECKING imports are quoted.
import _imp
import marshal
import posix
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType

    #: (is_package, source, size, hash, offset, length)
    Entry = tuple[bool, str, int, bytes, int, int]

MAGIC = b"DYPACK2\n"
_HEADER_READ = 65536  # index and header in one read for a pack of ~150 modules
_EXTERNAL = sys.modules["_frozen_importlib_external"]


def _bytecode_magic() -> bytes:
    return _EXTERNAL.MAGIC_NUMBER  # type: ignore[no-any-return]


def source_hash(data: bytes) -> bytes:
    """The hash CPython stores in a hash-checked .pyc for this source."""
    return _imp.source_hash(_EXTERNAL._RAW_MAGIC_NUMBER, data)


# Writing (at build or install time) -----------------------------------------


def package_sources(base: str, package: str) -> "Iterator[tuple[str, bool, str]]":
    """(module name, is a package, source path relative to ``base``) of every
    module of ``package``, which is the directory ``base/package``."""
    import os

    package_dir = os.path.join(base, package)
    for directory, subdirs, files in os.walk(package_dir):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "__")))
        if "__init__.py" not in files:
            subdirs.clear()
            continue
        relative = os.path.relpath(directory, base)
        prefix = relative.replace(os.sep, ".")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = f"{relative}/{name}"
            if name == "__init__.py":
                yield prefix, True, path
            else:
                yield f"{prefix}.{name[:-3]}", False, path


def pack_sources(
    base: str, package: str, extra: tuple[str, ...] = ()
) -> "list[tuple[str, bool, str]]":
    """What a pack of ``package`` and the ``extra`` top-level modules holds."""
    import importlib.util

    sources = list(package_sources(base, package))
    for name in extra:
        spec = importlib.util.find_spec(name)
        if spec is None or not (spec.origin or "").endswith(".py"):
            raise ValueError(f"{name} is not a module with Python source")
        sources.append((name, False, str(spec.origin)))
    return sources


def write_pack(path: str, base: str, package: str, extra: tuple[str, ...] = ()) -> int:
    """Compile every module of ``package`` (the directory ``base/package``), and
    the ``extra`` top-level modules (from wherever they are found), into a pack
    at ``path``; the module count. Written to a temporary name and renamed, so
    a process reading the old pack keeps a whole one."""
    import os

    blobs: list[bytes] = []
    index: dict[str, Entry] = {}
    offset = 0
    for name, is_package, source in pack_sources(base, package, extra):
        with open(os.path.join(base, source), "rb") as f:
            text = f.read()
        # compiled under its relative name; the finder sets the real one
        code = compile(text, source, "exec", dont_inherit=True)
        blob = marshal.dumps(code)
        index[name] = (is_package, source, len(text), source_hash(text), offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps(index)
    header = MAGIC + _bytecode_magic() + len(head).to_bytes(4, "little") + head
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(header)
            for blob in blobs:
                f.write(blob)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return len(index)


def check_pack(path: str, base: str, package: str, extra: tuple[str, ...] = ()) -> "str | None":
    """Why the pack at ``path`` does not serve ``package`` as its sources are
    now (every module, by content), or None when it does. Reads every source:
    for install time, not for a start."""
    import os

    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError as exc:
        return f"cannot open it: {exc.strerror}"
    try:
        index, _ = _read_index(fd)
    except (OSError, ValueError, EOFError, TypeError) as exc:
        return f"unusable: {exc}"
    finally:
        posix.close(fd)
    wanted = {name: source for name, _, source in pack_sources(base, package, extra)}
    if sorted(wanted) != sorted(index):
        missing = sorted(set(wanted) - set(index))
        unknown = sorted(set(index) - set(wanted))
        return f"modules differ (missing {missing}, unknown {unknown})"
    for name, source in wanted.items():
        with open(os.path.join(base, source), "rb") as f:
            text = f.read()
        if index[name][1:4] != (source, len(text), source_hash(text)):
            return f"{name} changed since it was compiled"
    return None


# Loading (at every start) ---------------------------------------------------


def _read_index(fd: int) -> "tuple[dict[str, Entry], int]":
    """The pack's index and where its code starts; ValueError if it is not a
    whole pack for this interpreter."""
    head = posix.read(fd, _HEADER_READ)
    magic = MAGIC + _bytecode_magic()
    if not head.startswith(magic):
        raise ValueError("not a pack for this interpreter")
    start = len(magic) + 4
    length = int.from_bytes(head[len(magic) : start], "little")
    if len(head) < start + length:
        head += posix.pread(fd, start + length - len(head), len(head))
    index = marshal.loads(head[start : start + length])
    if not isinstance(index, dict):
        raise ValueError("bad index")
    end = max((entry[4] + entry[5] for entry in index.values()), default=0)
    if posix.fstat(fd).st_size != start + length + end:
        raise ValueError("truncated or extended since it was written")
    return index, start + length


class PackFinder:
    """A meta path finder and loader serving modules from one pack file."""

    def __init__(self, path: str, fd: int, code_start: int, index: "dict[str, Entry]", base: str):
        self.path = path
        #: modules whose source changed since the pack was written
        self.stale: list[str] = []
        self._fd = fd
        self._code_start = code_start
        self._index = index
        self._base = base.rstrip("/") + "/"
        self._changed: dict[str, bytes] = {}  # stale modules' sources, by name

    def find_spec(
        self,
        name: str,
        path: "Sequence[str] | None" = None,
        target: "ModuleType | None" = None,
    ) -> "ModuleSpec | None":
        entry = self._index.get(name)
        if entry is None:
            return None
        is_package, source, size, digest = entry[:4]
        if source[0] != "/":
            source = self._base + source
        # The source's content decides, not its mtime: one read and a hash
        # (~5 us for a 10 kB module) where a stat would cost ~2 us.
        try:
            fd = posix.open(source, posix.O_RDONLY | posix.O_CLOEXEC)
        except OSError:
            return None  # gone: the normal import system says so
        try:
            data = posix.read(fd, size + 1)
            if len(data) > size:  # it grew: all of it, to compile it
                while chunk := posix.read(fd, 65536):
                    data += chunk
        except OSError:
            return None  # unreadable: the normal import system says why
        finally:
            posix.close(fd)
        if len(data) != size or source_hash(data) != digest:
            # Changed since the pack was written: compiled from the source just
            # read, not left to the path finder, whose .pyc may be as stale (it
            # trusts a same size and mtime too).
            self.stale.append(name)
            self._changed[name] = data
        # importlib.machinery's class, from the bootstrap already loaded
        spec: ModuleSpec = sys.modules["_frozen_importlib"].ModuleSpec(
            name, self, origin=source, is_package=is_package
        )
        spec.has_location = True  # __file__ from origin
        if is_package:
            spec.submodule_search_locations = [source.rpartition("/")[0]]
        return spec

    def create_module(self, spec: "ModuleSpec") -> None:
        return None  # the default module object

    def exec_module(self, module: "ModuleType") -> None:
        exec(self.get_code(module.__name__), module.__dict__)

    def get_code(self, name: str) -> "CodeType":
        source, _, _, offset, length = self._index[name][1:]
        if source[0] != "/":
            source = self._base + source
        changed = self._changed.get(name)
        if changed is not None:
            return _changed_code(name, source, changed)
        data = posix.pread(self._fd, length, self._code_start + offset)
        if len(data) != length:
            raise ImportError(f"module pack truncated at {name}", name=name)
        code: CodeType = marshal.loads(data)
        # tracebacks name the installed file (what importlib does for a moved .pyc)
        _imp._fix_co_filename(code, source)  # type: ignore[attr-defined]
        return code


def _changed_code(name: str, source: str, data: bytes) -> "CodeType":
    """The code of a module changed since the pack was written, whose source
    is ``data``: from a hash-checked .pyc of exactly that source when there is
    one, else compiled, and such a .pyc written for the next start, as an
    import writes one. Not the path finder's: the timestamp .pyc pip wrote can
    be as stale as the pack (it trusts a same size and mtime)."""
    digest = source_hash(data)
    # PEP 552 header: magic, flags (hash-based, checked), the source's hash
    header = _bytecode_magic() + b"\x03\x00\x00\x00" + digest
    cache = _EXTERNAL.cache_from_source(source)
    try:
        fd = posix.open(cache, posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            pyc = posix.pread(fd, posix.fstat(fd).st_size, 0)
        finally:
            posix.close(fd)
    except OSError:
        pyc = b""  # none yet, or unreadable: compile
    if pyc.startswith(header):
        return marshal.loads(pyc[len(header) :])  # type: ignore[no-any-return]
    code: CodeType = compile(data, source, "exec", dont_inherit=True)
    if not sys.dont_write_bytecode:
        # importlib's own writer: makes __pycache__, writes atomically, and
        # gives up quietly where it may not write (as an import does)
        loader = _EXTERNAL.SourceFileLoader(name, source)
        loader._cache_bytecode(source, cache, _EXTERNAL._code_to_hash_pyc(code, digest))
    return code


def install(path: str, base: str = "") -> "PackFinder | None":
    """Put the pack at ``path``, whose sources are relative to ``base``, first
    on ``sys.meta_path``; None if it cannot serve. (Launchers written before
    packs had relative paths pass no ``base``: their packs are refused.)"""
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return None
    try:
        index, code_start = _read_index(fd)
    except (OSError, ValueError, EOFError, TypeError):
        posix.close(fd)
        return None
    finder = PackFinder(path, fd, code_start, index, base)
    sys.meta_path.insert(0, finder)
    return finder

"""The package's modules compiled into one file, loaded without importlib's search.

A container start imports ~35 of our modules. Through the normal path
finder each costs ~0.2 ms on a slow VM, most of it importlib's own Python
code (path entries, stats, spec objects, reading the .pyc); from a pack the
same import is a dictionary lookup, one ``stat`` and one ``pread``. The
launcher (``cli/launcher.py``) writes the pack next to the venv and installs
the finder before anything else is imported.

Correctness before speed: every entry records its source's mtime and size,
and a module whose source changed since the pack was written (an editable
install being edited) is left to the normal import system, as is everything
when the pack is missing, unreadable or written by another Python version.

Layout: ``MAGIC``, the interpreter's bytecode magic number, the index's
length (4 bytes, little-endian), the marshalled index ``{name: (is_package,
source, mtime_ns, size, offset, length)}``, then each module's marshalled
code object at its offset.
"""

# No ``from __future__ import annotations`` here: this module is imported
# before the pack serves anything, and __future__ is one of the pack's
# modules. Annotations naming what only TYPE_CHECKING imports are quoted.
import marshal
import posix
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType

    #: (is_package, source, mtime_ns, size, offset, length)
    Entry = tuple[bool, str, int, int, int, int]

MAGIC = b"DYPACK1\n"
_HEADER_READ = 65536  # index and header in one read for a pack of ~150 modules


def _bytecode_magic() -> bytes:
    return sys.modules["_frozen_importlib_external"].MAGIC_NUMBER  # type: ignore[no-any-return]


# Writing (at install time) --------------------------------------------------


def package_sources(package_dir: str, package: str) -> "Iterator[tuple[str, bool, str]]":
    """(module name, is a package, source path) of every module under ``package_dir``."""
    import os

    for directory, subdirs, files in os.walk(package_dir):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "__")))
        if "__init__.py" not in files:
            subdirs.clear()
            continue
        relative = os.path.relpath(directory, package_dir)
        prefix = package if relative == "." else f"{package}.{relative.replace(os.sep, '.')}"
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            if name == "__init__.py":
                yield prefix, True, path
            else:
                yield f"{prefix}.{name[:-3]}", False, path


def write_pack(path: str, package_dir: str, package: str, extra: tuple[str, ...] = ()) -> int:
    """Compile every module of ``package``, and the ``extra`` top-level modules
    (from wherever they are found), into a pack at ``path``; the module count."""
    import importlib.util
    import os

    sources = list(package_sources(package_dir, package))
    for name in extra:
        spec = importlib.util.find_spec(name)
        if spec is None or not (spec.origin or "").endswith(".py"):
            raise ValueError(f"{name} is not a module with Python source")
        sources.append((name, False, str(spec.origin)))
    blobs: list[bytes] = []
    index: dict[str, Entry] = {}
    offset = 0
    for name, is_package, source in sources:
        with open(source, "rb") as f:
            stat = os.fstat(f.fileno())
            text = f.read()
        code = compile(text, source, "exec", dont_inherit=True)
        blob = marshal.dumps(code)
        index[name] = (is_package, source, stat.st_mtime_ns, stat.st_size, offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps(index)
    header = MAGIC + _bytecode_magic() + len(head).to_bytes(4, "little") + head
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(header)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
    return len(index)


# Loading (at every start) ---------------------------------------------------


class PackFinder:
    """A meta path finder and loader serving modules from one pack file."""

    def __init__(self, fd: int, base: int, index: "dict[str, Entry]") -> None:
        self._fd = fd
        self._base = base
        self._index = index

    def find_spec(
        self,
        name: str,
        path: "Sequence[str] | None" = None,
        target: "ModuleType | None" = None,
    ) -> "ModuleSpec | None":
        entry = self._index.get(name)
        if entry is None:
            return None
        is_package, source, mtime_ns, size = entry[:4]
        try:
            stat = posix.stat(source)
        except OSError:
            return None
        if stat.st_mtime_ns != mtime_ns or stat.st_size != size:
            return None  # edited since the pack was written: the normal path compiles it
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
        offset, length = self._index[name][4:]
        data = posix.pread(self._fd, length, self._base + offset)
        if len(data) != length:
            raise ImportError(f"module pack truncated at {name}", name=name)
        return marshal.loads(data)  # type: ignore[no-any-return]


def install(path: str) -> "PackFinder | None":
    """Put the pack at ``path`` first on ``sys.meta_path``; None if it cannot serve."""
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return None
    try:
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
    except (OSError, ValueError, EOFError, TypeError):
        posix.close(fd)
        return None
    finder = PackFinder(fd, start + length, index)
    sys.meta_path.insert(0, finder)
    return finder

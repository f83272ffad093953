"""The module pack the runtime's launcher imports from (cli/modulepack.py).

Each case runs a fresh ``python -I -S`` that installs a pack written from a
small package in tmp_path, imports from it and prints what it got: which
loader served each module, and the values the modules computed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]
from importlib.util import cache_from_source
from pathlib import Path

import dockyard
from dockyard.cli.modulepack import MAGIC, check_pack, source_hash, write_pack

SOURCE_ROOT = str(Path(dockyard.__file__).resolve().parents[1])

PROBE = """
import sys
sys.path[:0] = [{source_root!r}, {base!r}]
from dockyard.cli.modulepack import install
finder = install({pack!r}, {base!r})
print("installed", finder is not None)
import demo.a, demo.sub.b
for name in ("demo", "demo.a", "demo.sub", "demo.sub.b"):
    module = sys.modules[name]
    from_pack = module.__spec__.loader is finder and name not in finder.stale
    served = "pack" if from_pack else "source"
    print(name, served, module.__file__)
print("values", demo.a.VALUE, demo.sub.b.VALUE, demo.sub.__path__)
print("code_file", demo.a.where.__code__.co_filename)
print("stale", *(finder.stale if finder else []))
"""


def make_package(base: Path) -> Path:
    package = base / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("VALUE = 'a1'\n\ndef where():\n    pass\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("from ..a import VALUE as A\nVALUE = A + '-b'\n")
    return package


def probe(base: Path, pack: Path) -> dict[str, list[str]]:
    code = PROBE.format(source_root=SOURCE_ROOT, base=str(base), pack=str(pack))
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    )
    return {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}


def test_every_module_comes_from_the_pack(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"

    assert write_pack(str(pack), str(tmp_path), "demo") == 4

    out = probe(tmp_path, pack)
    assert out["installed"] == ["True"]
    for name in ("demo", "demo.a", "demo.sub", "demo.sub.b"):
        assert out[name][0] == "pack", name
    assert out["demo.a"][1] == str(package / "a.py")  # tracebacks show the source
    assert out["code_file"] == [str(package / "a.py")]  # and so do the code objects
    assert out["values"][:2] == ["a1", "a1-b"]  # relative imports work
    assert str(package / "sub") in out["values"][2]  # so does a package's __path__
    assert out["stale"] == []


def test_a_pack_built_elsewhere_serves_the_installed_files(tmp_path: Path) -> None:
    # as setup.py builds it in the wheel's build directory
    make_package(tmp_path / "build")
    pack = tmp_path / "build" / "demo.pack"
    write_pack(str(pack), str(tmp_path / "build"), "demo")
    shutil.copytree(tmp_path / "build", tmp_path / "site")
    shutil.rmtree(tmp_path / "build")
    installed = tmp_path / "site" / "demo"

    out = probe(tmp_path / "site", tmp_path / "site" / "demo.pack")

    assert out["demo.sub.b"][:2] == ["pack", str(installed / "sub" / "b.py")]
    assert out["code_file"] == [str(installed / "a.py")]


def test_a_module_edited_since_is_read_from_its_source(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    write_pack(str(pack), str(tmp_path), "demo")

    (package / "a.py").write_text("VALUE = 'edited'\n\ndef where():\n    pass\n")

    out = probe(tmp_path, pack)
    assert out["demo.a"][0] == "source"
    assert out["demo.sub.b"][0] == "pack"
    assert out["values"][:2] == ["edited", "edited-b"]
    assert out["stale"] == ["demo.a"]


def test_an_edit_that_keeps_size_and_mtime_is_seen_by_content(tmp_path: Path) -> None:
    # a copy with preserved times (cp -p, tar, rsync -a, a reproducible build's
    # fixed mtimes) of a file that changed one character
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    write_pack(str(pack), str(tmp_path), "demo")
    source = package / "a.py"
    before = source.stat()
    # the timestamp .pyc an ordinary import leaves (pip writes them too)
    importing = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import demo.a"
    subprocess.run([sys.executable, "-I", "-S", "-c", importing], check=True)
    assert cache_from_source(str(source)) in [str(p) for p in package.glob("__pycache__/*")]

    source.write_text("VALUE = 'a2'\n\ndef where():\n    pass\n")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert (source.stat().st_size, source.stat().st_mtime_ns) == (
        before.st_size,
        before.st_mtime_ns,
    )
    out = probe(tmp_path, pack)
    assert out["demo.a"][0] == "source"
    assert out["values"][:2] == ["a2", "a2-b"]
    assert check_pack(str(pack), str(tmp_path), "demo") == "demo.a changed since it was compiled"


EDITED = b"VALUE = 'edited'\n\ndef where():\n    pass\n"


def packed_then_edited(tmp_path: Path) -> tuple[Path, Path]:
    """(pack, demo/a.py): the demo package packed, then a.py changed to EDITED."""
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    write_pack(str(pack), str(tmp_path), "demo")
    (package / "a.py").write_bytes(EDITED)
    return pack, package / "a.py"


def test_a_changed_module_leaves_a_hash_checked_pyc_for_the_next_start(tmp_path: Path) -> None:
    pack, source = packed_then_edited(tmp_path)

    assert probe(tmp_path, pack)["values"][:2] == ["edited", "edited-b"]

    pyc = Path(cache_from_source(str(source))).read_bytes()
    assert pyc[4:8] == b"\x03\x00\x00\x00"  # hash-based, checked
    assert pyc[8:16] == source_hash(EDITED)


def test_a_hash_checked_pyc_is_used_only_for_the_exact_source(tmp_path: Path) -> None:
    pack, source = packed_then_edited(tmp_path)
    cache = Path(cache_from_source(str(source)))
    cache.parent.mkdir()
    planted = compile("VALUE = 'from the pyc'\ndef where(): pass\n", str(source), "exec")

    cache.write_bytes(_code_to_hash_pyc(planted, source_hash(EDITED)))
    out = probe(tmp_path, pack)
    assert out["values"][:1] == ["from"]  # "from the pyc": the .pyc served it

    cache.write_bytes(_code_to_hash_pyc(planted, source_hash(b"another source")))
    out = probe(tmp_path, pack)
    assert out["values"][:1] == ["edited"]  # compiled, and the .pyc rewritten
    assert cache.read_bytes()[8:16] == source_hash(EDITED)


def test_check_pack_says_what_is_wrong(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    base = str(tmp_path)

    assert check_pack(str(pack), base, "demo") == "cannot open it: No such file or directory"
    write_pack(str(pack), base, "demo")
    assert check_pack(str(pack), base, "demo") is None
    (package / "c.py").write_text("")
    assert check_pack(str(pack), base, "demo") == "modules differ (missing ['demo.c'], unknown [])"
    write_pack(str(pack), base, "demo")
    (package / "c.py").unlink()
    assert check_pack(str(pack), base, "demo") == "modules differ (missing [], unknown ['demo.c'])"
    pack.write_bytes(MAGIC + b"\0\0\r\n" + b"\0" * 16)
    assert check_pack(str(pack), base, "demo") == "unusable: not a pack for this interpreter"


def test_a_damaged_pack_is_not_used(tmp_path: Path) -> None:
    make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    write_pack(str(pack), str(tmp_path), "demo")
    whole = pack.read_bytes()
    cases = {
        "missing": None,
        "empty": b"",
        "truncated": whole[:-10],
        "extended": whole + b"\0",
        "other interpreter": MAGIC + b"\0\0\r\n" + whole[len(MAGIC) + 4 :],
        "garbage index": whole[: len(MAGIC) + 8] + b"\xff" * 32 + whole[len(MAGIC) + 40 :],
    }
    for case, data in cases.items():
        if data is None:
            pack.unlink()
        else:
            pack.write_bytes(data)

        out = probe(tmp_path, pack)

        assert out["installed"] == ["False"], case
        assert out["demo.sub.b"][0] == "source", case
        assert out["values"][:2] == ["a1", "a1-b"], case

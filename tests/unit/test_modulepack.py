"""The module pack the runtime's launcher imports from (cli/modulepack.py).

Each case runs a fresh ``python -I -S`` that installs a pack written from a
small package in tmp_path, imports from it and prints what it got: which
loader served each module, and the values the modules computed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dockyard
from dockyard.cli.launcher import write_launchers
from dockyard.cli.modulepack import MAGIC, write_pack

SOURCE_ROOT = str(Path(dockyard.__file__).resolve().parents[1])

PROBE = """
import sys
sys.path[:0] = [{source_root!r}, {package_root!r}]
from dockyard.cli.modulepack import install
finder = install({pack!r})
print("installed", finder is not None)
import demo.a, demo.sub.b
for name in ("demo", "demo.a", "demo.sub", "demo.sub.b"):
    module = sys.modules[name]
    served = "pack" if module.__spec__.loader is finder else "source"
    print(name, served, module.__file__)
print("values", demo.a.VALUE, demo.sub.b.VALUE, demo.sub.__path__)
"""


def make_package(root: Path) -> Path:
    package = root / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("VALUE = 'a1'\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("from ..a import VALUE as A\nVALUE = A + '-b'\n")
    return package


def probe(package_root: Path, pack: Path) -> dict[str, list[str]]:
    code = PROBE.format(source_root=SOURCE_ROOT, package_root=str(package_root), pack=str(pack))
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    )
    return {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}


def test_every_module_comes_from_the_pack(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"

    assert write_pack(str(pack), str(package), "demo") == 4

    out = probe(tmp_path, pack)
    assert out["installed"] == ["True"]
    for name in ("demo", "demo.a", "demo.sub", "demo.sub.b"):
        assert out[name][0] == "pack", name
    assert out["demo.a"][1] == str(package / "a.py")  # tracebacks show the source
    assert out["values"][:2] == ["a1", "a1-b"]  # relative imports work
    assert str(package / "sub") in out["values"][2]  # so does a package's __path__


def test_a_module_edited_since_is_read_from_its_source(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    write_pack(str(pack), str(package), "demo")

    (package / "a.py").write_text("VALUE = 'edited'\n")

    out = probe(tmp_path, pack)
    assert out["demo.a"][0] == "source"
    assert out["demo.sub.b"][0] == "pack"
    assert out["values"][:2] == ["edited", "edited-b"]


def test_a_damaged_pack_is_not_used(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    pack = tmp_path / "demo.pack"
    write_pack(str(pack), str(package), "demo")
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


def test_the_launcher_runs_the_runtime_from_its_pack(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()

    (launcher,) = write_launchers(str(bin_dir), sys.executable)

    assert (tmp_path / "lib" / "dockyard.pack").is_file()
    head = Path(launcher).read_text().splitlines()[0]
    assert head == f"#!{sys.executable} -IS"
    result = subprocess.run([launcher, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("dockyard-runtime version")
    # the same process, asked which loader served the CLI and __future__
    modules = ("dockyard.cli.runtime_main", "__future__")
    ask = f"print(*(type(sys.modules[m].__loader__).__name__ for m in {modules!r}))\n"
    code = Path(launcher).read_text().replace("main()\n", ask)
    shown = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    )
    assert shown.stdout.split() == ["PackFinder", "PackFinder"]
    assert os.access(launcher, os.X_OK)

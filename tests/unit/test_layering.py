"""The layering rules of ARCHITECTURE.md, checked on the source with ast.

- only ``linux/`` imports ctypes;
- a package imports only from the packages below it (and itself).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

CTYPES_MODULES = {"ctypes", "_ctypes"}
CTYPES_HOME = "linux"

L0 = {"errors", "oci"}
L1 = L0 | {"linux"}
L2 = L1  # L2 packages may not import each other, except runtime → cgroups
L3 = L2 | {"cgroups", "runtime", "image", "storage", "network", "build"}
L4 = L3 | {"engine"}

# dockyard.<package> -> the dockyard packages it may import, besides itself
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),  # keeps ``import dockyard.x`` from loading more than x
    "errors": set(),  # the leaf of the error hierarchy
    "oci": {"errors"},
    "linux": L0,
    "cgroups": L2,
    "runtime": L2 | {"cgroups"},
    "image": L2,
    "storage": L2,
    "network": L2,
    "build": L2,
    "engine": L3,
    "client": L4,  # the Python API (docker-py's shape) over the engine
    "cli": L4 | {"api", "client"},
    "api": L4 | {"client"},
}


def module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(module: str, src: Path) -> bool:
    path = src.joinpath(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(path: Path, src: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *filter(None, [node.module])])
            for alias in node.names:
                # ``from dockyard import cgroups`` imports a package; ``from
                # dockyard import OCI_VERSION`` a name from dockyard/__init__.py.
                submodule = f"{target}.{alias.name}"
                yield node.lineno, submodule if _exists(submodule, src) else target


def dockyard_package(module: str) -> str | None:
    """The dockyard package (or top-level module) a module belongs to."""
    parts = module.split(".")
    if parts[0] != "dockyard":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def layering_violations(src: Path) -> list[str]:
    problems = []
    for path in sorted((src / "dockyard").rglob("*.py")):
        where = path.relative_to(src)
        own = dockyard_package(module_name(path, src))
        assert own is not None
        if own not in ALLOWED:
            problems.append(f"{where}: {own!r} has no layer; add it to ALLOWED and ARCHITECTURE.md")
            continue
        for line, module in imported_modules(path, src):
            top = module.split(".")[0]
            if top in CTYPES_MODULES and own != CTYPES_HOME:
                problems.append(f"{where}:{line}: imports {module}; only linux/ may use ctypes")
            target = dockyard_package(module)
            if target not in (None, own, "__init__") and target not in ALLOWED[own]:
                problems.append(f"{where}:{line}: {own} may not import {module} (a higher layer)")
    return problems


def test_the_source_keeps_its_layers() -> None:
    assert list((SRC / "dockyard").rglob("*.py")), f"no source under {SRC}"
    assert layering_violations(SRC) == []


@pytest.fixture
def fake_src(tmp_path: Path) -> Path:
    for package in ("oci", "linux", "runtime", "cgroups"):
        (tmp_path / "dockyard" / package).mkdir(parents=True)
        (tmp_path / "dockyard" / package / "__init__.py").write_text("")
    (tmp_path / "dockyard" / "__init__.py").write_text("")
    (tmp_path / "dockyard" / "errors.py").write_text("")
    return tmp_path


def write(src: Path, relative: str, code: str) -> None:
    (src / relative).write_text(code)


def test_ctypes_outside_linux_is_reported(fake_src: Path) -> None:
    write(fake_src, "dockyard/linux/mount.py", "import ctypes\n")
    write(fake_src, "dockyard/runtime/init.py", "x = 1\nfrom ctypes import CDLL\n")

    assert layering_violations(fake_src) == [
        "dockyard/runtime/init.py:2: imports ctypes; only linux/ may use ctypes"
    ]


@pytest.mark.parametrize(
    ("relative", "code", "verdict"),
    [
        ("dockyard/runtime/state.py", "from dockyard.cgroups import manager\n", None),
        ("dockyard/runtime/state.py", "from ..linux import mount\n", None),
        ("dockyard/runtime/state.py", "from . import hooks\n", None),
        ("dockyard/oci/spec.py", "from dockyard import errors\n", None),
        ("dockyard/linux/mount.py", "from dockyard import VERSION\n", None),
        ("dockyard/oci/spec.py", "from .. import linux\n", "oci may not import dockyard.linux"),
        ("dockyard/linux/mount.py", "import dockyard.runtime.state\n", "linux may not import"),
        ("dockyard/cgroups/v1.py", "from ..runtime import state\n", "cgroups may not import"),
        ("dockyard/errors.py", "from dockyard.oci import spec\n", "errors may not import"),
    ],
)
def test_imports_are_checked_against_the_layers(
    fake_src: Path, relative: str, code: str, verdict: str | None
) -> None:
    write(fake_src, relative, code)

    problems = layering_violations(fake_src)

    if verdict is None:
        assert problems == []
    else:
        assert len(problems) == 1 and verdict in problems[0], problems


def test_a_package_without_a_layer_is_reported(fake_src: Path) -> None:
    (fake_src / "dockyard" / "gadgets").mkdir()
    write(fake_src, "dockyard/gadgets/__init__.py", "")

    assert "'gadgets' has no layer" in layering_violations(fake_src)[0]

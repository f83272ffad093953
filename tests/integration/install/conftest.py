"""A wheel of this checkout, built once, and a venv to install it in, made once.

The wheels are built offline (``pip wheel --no-build-isolation --no-index``,
with the dev venv's setuptools) from a copy of the packaging inputs, so the
checkout gets no build/ or egg-info. The venv is Debian's python3 without
pip; the dev venv's pip installs into it (``pip --python``), as it would
into any venv. Each test starts from a fresh install of the first wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import dockyard

REPO = Path(dockyard.__file__).resolve().parents[2]
#: what a wheel is built from
INPUTS = ("pyproject.toml", "setup.py", "README.md", "bin", "src")
VERSION = dockyard.__version__
#: the version of the second wheel, for ``pip install -U``
NEWER = f"{VERSION}.post1"


@dataclass(frozen=True)
class Wheel:
    path: Path
    version: str

    def member(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as wheel:
            return wheel.read(name)


@dataclass(frozen=True)
class Wheels:
    current: Wheel
    newer: Wheel


@dataclass
class Venv:
    path: Path
    #: every path in it before anything was installed
    empty: frozenset[str]

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def script(self) -> Path:
        return self.path / "bin" / "dockyard-runtime"

    @property
    def site(self) -> Path:
        (site,) = (self.path / "lib").glob("python3*/site-packages")
        return site

    @property
    def pack(self) -> Path:
        return self.site / "dockyard" / "cli" / "modules.pack"

    def files(self) -> frozenset[str]:
        return frozenset(str(p.relative_to(self.path)) for p in self.path.rglob("*"))

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pip", "--python", str(self.python), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True)

    def install(self, wheel: Wheel, *flags: str) -> None:
        self.pip("install", "--quiet", "--no-deps", "--no-index", *flags, str(wheel.path))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.script, *args], capture_output=True, text=True, check=True)

    def report(self) -> tuple[str, str]:
        """(the version line, the launcher's report) from ``--debug --version``."""
        result = self.run("--debug", "--version")
        (line,) = (line for line in result.stderr.splitlines() if "launcher: " in line)
        return result.stdout.splitlines()[0], line.partition("launcher: ")[2].rstrip('"')


def copy_inputs(dest: Path) -> Path:
    dest.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.pack", "*.egg-info")
    for name in INPUTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=skip)
        else:
            shutil.copy2(source, dest / name)
    return dest


def build_wheel(tree: Path, out: Path, version: str) -> Wheel:
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    command += ["--no-build-isolation", "--wheel-dir", str(out), str(tree)]
    subprocess.run(command, capture_output=True, text=True, check=True)
    (path,) = out.glob(f"dockyard-{version}-*.whl")
    return Wheel(path, version)


def set_version(tree: Path, version: str) -> None:
    for path, form in (
        (tree / "pyproject.toml", 'version = "{}"'),
        (tree / "src" / "dockyard" / "__init__.py", '__version__ = "{}"'),
    ):
        text = path.read_text()
        assert form.format(VERSION) in text, path
        path.write_text(text.replace(form.format(VERSION), form.format(version), 1))


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    work = tmp_path_factory.mktemp("wheels")
    current = build_wheel(copy_inputs(work / "current"), work / "dist", VERSION)
    newer_tree = copy_inputs(work / "newer")
    set_version(newer_tree, NEWER)
    return Wheels(current, build_wheel(newer_tree, work / "dist", NEWER))


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    path = tmp_path_factory.mktemp("install") / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", path], check=True)
    made = Venv(path, frozenset())
    made.empty = made.files()
    return made


@pytest.fixture
def installed(venv: Venv, wheels: Wheels) -> Iterator[Venv]:
    """The venv with the current wheel freshly installed (a plain pip install)."""
    venv.install(wheels.current, "--force-reinstall")
    yield venv

"""Build hook: the wheel carries the runtime's module pack (dockyard/cli/modules.pack).

Everything else is declared in pyproject.toml. The pack is compiled from the
build directory's copies of the modules, with paths relative to it, so it
serves the installed files; dockyard-runtime's first run checks it by content
and rewrites it when the installing Python differs (src/dockyard/cli/launcher.py).
"""

import importlib.util
import os

from setuptools import setup
from setuptools.command.build_py import build_py


def load_modulepack(build_lib: str):
    # by path: importing the dockyard package itself is not needed to build
    path = os.path.join(build_lib, "dockyard", "cli", "modulepack.py")
    spec = importlib.util.spec_from_file_location("_dockyard_modulepack", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class build_py_with_pack(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the sources stay in src/: the launcher writes the pack there
        modulepack = load_modulepack(self.build_lib)
        pack = os.path.join(self.build_lib, "dockyard", "cli", "modules.pack")
        count = modulepack.write_pack(pack, self.build_lib, "dockyard", extra=("__future__",))
        self.announce(f"wrote {pack} ({count} modules)", level=2)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return [*outputs, os.path.join(self.build_lib, "dockyard", "cli", "modules.pack")]


setup(cmdclass={"build_py": build_py_with_pack})

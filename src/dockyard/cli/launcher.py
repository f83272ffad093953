"""Write a fast ``dockyard-runtime`` launcher over the one pip generated.

pip's console script runs with ``site`` and imports ``re``: about 15 ms
before our code runs, half of a container start. The launcher runs the same
``main`` with ``python -I -S``, the package's location put on ``sys.path`` by
hand, and the package's modules served from a pack compiled next to it
(``cli/modulepack.py``, ~3 ms less per start). Run ``python -m
dockyard.cli.launcher`` after installing or upgrading (``scripts/setup``
does); a module edited since is read from its source.
"""

from __future__ import annotations

import os
import sys

TEMPLATE = """#!{python} -IS
# Written by `python -m dockyard.cli.launcher`: isolated mode, no site, for speed.
import gc
gc.set_threshold(100_000)  # no collections while ~40 modules load (see runtime_main.main)
import sys
sys.path.insert(0, {path!r})
from dockyard.cli.modulepack import install
install({pack!r})
from {module} import main
main()
"""

LAUNCHERS = {"dockyard-runtime": "dockyard.cli.runtime_main"}


def pack_path(bin_dir: str) -> str:
    """Where the module pack lives: lib/ beside the launchers' bin/."""
    return os.path.join(os.path.dirname(os.path.abspath(bin_dir)), "lib", "dockyard.pack")


def write_launchers(bin_dir: str, python: str) -> list[str]:
    import dockyard
    from dockyard.cli.modulepack import write_pack

    package_dir = os.path.dirname(os.path.abspath(dockyard.__file__))
    package_parent = os.path.dirname(package_dir)
    pack = pack_path(bin_dir)
    os.makedirs(os.path.dirname(pack), exist_ok=True)
    # __future__: every module imports it, and it is neither frozen nor built in
    write_pack(pack, package_dir, "dockyard", extra=("__future__",))
    written = []
    for name, module in LAUNCHERS.items():
        path = os.path.join(bin_dir, name)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            f.write(TEMPLATE.format(python=python, path=package_parent, pack=pack, module=module))
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
        written.append(path)
    return written


if __name__ == "__main__":
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(sys.executable)
    for path in write_launchers(bin_dir, sys.executable):
        print(f"wrote {path}")

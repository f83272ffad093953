"""Write a fast ``dockyard-runtime`` launcher over the one pip generated.

pip's console script runs with ``site`` and imports ``re``: about 15 ms
before our code runs, half of a container start. The launcher runs the same
``main`` with ``python -I -S`` and the package's location put on
``sys.path`` by hand. Run ``python -m dockyard.cli.launcher`` after
installing (``scripts/setup`` does).
"""

from __future__ import annotations

import os
import sys

TEMPLATE = """#!{python} -IS
# Written by `python -m dockyard.cli.launcher`: isolated mode, no site, for speed.
import sys
sys.path.insert(0, {path!r})
from {module} import main
main()
"""

LAUNCHERS = {"dockyard-runtime": "dockyard.cli.runtime_main"}


def write_launchers(bin_dir: str, python: str) -> list[str]:
    import dockyard

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))
    written = []
    for name, module in LAUNCHERS.items():
        path = os.path.join(bin_dir, name)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            f.write(TEMPLATE.format(python=python, path=package_parent, module=module))
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
        written.append(path)
    return written


if __name__ == "__main__":
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(sys.executable)
    for path in write_launchers(bin_dir, sys.executable):
        print(f"wrote {path}")

"""``python -m tests.support.make_bundle DIR [ARG...]``: make a busybox bundle
at DIR whose process runs ARG... (``sh`` if none), to try a runtime by hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.support.bundle import Bundle


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.make_bundle", description=__doc__
    )
    parser.add_argument("dir", type=Path, help="bundle directory (its rootfs must not exist)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the container's process")
    options = parser.parse_args()
    bundle = Bundle.create(options.dir)
    if options.args:
        bundle.process["args"] = options.args
        bundle.write()
    print(bundle.path)


if __name__ == "__main__":
    main()

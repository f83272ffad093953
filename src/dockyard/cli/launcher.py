"""``dockyard-runtime``'s launcher: ``python -I -S``, the package's modules from its pack.

A console script runs with ``site`` (and pip's imports ``re``): ~10 ms before
our code runs, a quarter of a container start. A ``python -I -S`` script
skips both, but pip keeps no interpreter flags: it rewrites a wheel script's
``#!python -IS`` line to ``#!/path/to/python``, flags dropped (pip 23.0 and
26.2 alike, from a wheel or from ``pip install .``). So the wheel ships
``bin/dockyard-runtime``, a plain ``#!python`` script, and its first run (the
slow way, with ``site``) checks the package's module pack and writes the fast
launcher (``FAST``) over itself; every later start is the fast one.

Both files are the wheel's (its RECORD lists them): ``pip uninstall``
removes them, and ``pip install -U`` puts the new version's plain script and
pack in their place, whose first run makes the script fast again. The pack
(``dockyard/cli/modules.pack``, cli/modulepack.py) is built with the wheel
(setup.py); the first run rewrites it if it does not match the installed
sources by content (another Python version, an edited file).

``python -m dockyard.cli.launcher [SCRIPT]`` does the same at once and says
why when it cannot; scripts/setup runs it after its editable install.
"""

from __future__ import annotations

import os
import sys

from dockyard.cli.modulepack import PackFinder, check_pack, write_pack
from dockyard.errors import InvalidArgument

SCRIPT = "dockyard-runtime"
#: the second line of both forms of the script: what may be rewritten
MARKER = "# dockyard-runtime launcher (dockyard/cli/launcher.py)"
#: the same for ``dockyard``, the engine's CLI, whose every command starts Python too
CLI_SCRIPT = "dockyard"
CLI_MARKER = "# dockyard launcher (dockyard/cli/launcher.py)"
#: marker -> (script, the module and function the fast launcher runs)
SCRIPTS = {
    MARKER: (SCRIPT, "dockyard.cli.runtime_main", "main"),
    CLI_MARKER: (CLI_SCRIPT, "dockyard.cli.docker_main", "entry"),
}
#: the second line of the launchers scripts/setup wrote before the wheel had one
OLD_MARKER = "# Written by `python -m dockyard.cli.launcher`"
PACKAGE = "dockyard"
#: every module imports it, and it is neither frozen nor built in
EXTRA = ("__future__",)
#: a longer "#!" line is cut by the kernel (BINPRM_BUF_SIZE, 256 since Linux 5.1)
SHEBANG_MAX = 255

FAST = """#!{python} -IS
{marker}, written by its first run.
# Isolated mode, no site: the package's directory goes on sys.path by hand.
# The pack's reader is loaded by its file (from its .pyc, as Python would);
# every other module of the package, its __init__ first, comes from the pack,
# checked by content.
import gc
gc.set_threshold(100_000)  # no collections while ~40 modules load (see runtime_main.main)
import sys
from _frozen_importlib import module_from_spec
from _frozen_importlib_external import spec_from_file_location
sys.path.insert(0, {base!r}){dependencies}
spec = spec_from_file_location("dockyard.cli.modulepack", {reader!r})
reader = sys.modules[spec.name] = module_from_spec(spec)
spec.loader.exec_module(reader)
reader.install({pack!r}, {base!r})
from {module} import {function}
{function}()
"""


def package_base() -> str:
    """The directory holding the package: site-packages, or src/ when editable."""
    import dockyard

    return os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))


def pack_path(base: str) -> str:
    return os.path.join(base, PACKAGE, "cli", "modules.pack")


def ensure_pack(base: str) -> str:
    """Rewrite the pack under ``base`` unless it serves every module as it is
    now; what was found."""
    path = pack_path(base)
    stale = check_pack(path, base, PACKAGE, EXTRA)
    if stale is None:
        return f"{path}: up to date"
    try:
        count = write_pack(path, base, PACKAGE, EXTRA)
    except SyntaxError as exc:  # a module being edited, say: the old pack stays
        raise InvalidArgument(
            f"{exc.filename}:{exc.lineno}: {exc.msg}; {path} not rewritten"
        ) from exc
    return f"{path}: rewritten with {count} modules ({stale})"


def script_marker(script: str) -> str:
    """Which of our launchers ``script`` is (its marker line), or InvalidArgument."""
    with open(script, encoding="utf-8", errors="surrogateescape") as f:
        f.readline()
        second = f.readline()
    for marker in SCRIPTS:
        if second.startswith(marker):
            return marker
    if second.startswith(OLD_MARKER):
        return MARKER
    raise InvalidArgument(f"{script} is not dockyard-runtime's launcher; left alone")


def script_python(script: str, python: str) -> str:
    """The interpreter ``script``'s first line names, once it is sure the file
    is our launcher for ``python`` (the one that would write the pack)."""
    script_marker(script)
    with open(script, encoding="utf-8", errors="surrogateescape") as f:
        first = f.readline().rstrip("\n")
    interpreter = first.removeprefix("#!").removesuffix(" -IS")
    if not first.startswith("#!") or not interpreter.startswith("/"):
        raise InvalidArgument(f"{script}: first line {first!r} names no interpreter")
    same = interpreter == python or (
        os.path.dirname(interpreter) == os.path.dirname(python)
        and os.path.realpath(interpreter) == os.path.realpath(python)
    )
    if not same:
        raise InvalidArgument(f"{script} runs {interpreter}; run this with that Python")
    if any(c.isspace() for c in interpreter) or len(f"#!{interpreter} -IS") > SHEBANG_MAX:
        raise InvalidArgument(f"{script}: {interpreter!r} cannot take flags on a #! line")
    return interpreter


def dependency_paths(base: str) -> list[str]:
    """Where this interpreter installs packages (its venv's site-packages), but
    ``base``, which the launcher puts first already."""
    import sysconfig

    paths = sysconfig.get_paths()
    found = [paths["purelib"], paths["platlib"]]
    return [p for i, p in enumerate(found) if p not in found[:i] and p != base]


def make_fast(script: str, python: str, base: str | None = None) -> list[str]:
    """Check the pack and write the fast launcher over ``script`` for
    ``python``, the interpreter pip wrote into it; what was done."""
    interpreter = script_python(script, python)
    marker = script_marker(script)
    _, module, function = SCRIPTS[marker]
    base = base or package_base()
    done = [ensure_pack(base)]
    reader = os.path.join(base, PACKAGE, "cli", "modulepack.py")
    dependencies = ""
    if marker == CLI_MARKER:
        # The CLI imports installed packages (isal, zstandard), which -S leaves
        # off the path: their directories go at its end, where only a name
        # found nowhere before is looked for.
        paths = dependency_paths(base)
        dependencies = f"\nsys.path += {paths!r}  # dependencies: no site, so by hand"
    text = FAST.format(
        python=interpreter,
        marker=marker,
        base=base,
        dependencies=dependencies,
        reader=reader,
        pack=pack_path(base),
        module=module,
        function=function,
    )
    mode = os.stat(script).st_mode & 0o7777
    tmp = f"{script}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, script)  # a start running the old file keeps it
    except BaseException:
        os.unlink(tmp)
        raise
    done.append(f"{script}: fast launcher for {interpreter}")
    return done


def first_run(script: str) -> None:
    """What the script pip installed runs: make itself the fast launcher, then
    be the runtime (or the CLI: ``bin/dockyard`` runs this too). Being unable
    to (an install its user cannot write, a read-only image) is not an error:
    this start and the next ones take the slow way, and ``python -m
    dockyard.cli.launcher`` says why. Nothing is printed: engines read a
    runtime's output."""
    module, function = "dockyard.cli.runtime_main", "main"
    try:
        _, module, function = SCRIPTS[script_marker(script)]
        make_fast(os.path.realpath(script), sys.executable)
    except (OSError, InvalidArgument):
        pass  # see the docstring: the command below runs all the same
    getattr(__import__(module, fromlist=[function]), function)()


def report() -> str:
    """How this process was launched: ``dockyard-runtime --debug --version``
    prints it, so a user (and the tests) can see whether a start is fast."""
    flags = [flag for flag, on in (("-I", sys.flags.isolated), ("-S", sys.flags.no_site)) if on]
    parts = [f"python {' '.join(flags) or 'without -I -S'}"]
    for name in ("site", "re"):
        parts.append(f"{name} {'loaded' if name in sys.modules else 'not loaded'}")
    finders = [f for f in sys.meta_path if isinstance(f, PackFinder)]
    if not finders:
        parts.append("no module pack")
    else:
        finder = finders[0]
        served = [
            name
            for name, module in list(sys.modules.items())
            if getattr(getattr(module, "__spec__", None), "loader", None) is finder
            and name not in finder.stale
        ]
        changed = ", ".join(finder.stale) or "none"
        parts.append(f"{len(served)} modules from {finder.path} (changed since built: {changed})")
    return "launcher: " + "; ".join(parts)


def installed_script(name: str = SCRIPT) -> str:
    """Where pip put the package's script ``name`` (its RECORD says)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        files = distribution(PACKAGE).files or []
    except PackageNotFoundError:
        files = []
    for file in files:
        if file.name == name:
            return os.path.abspath(str(file.locate()))
    return os.path.join(os.path.dirname(sys.executable), name)


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]) or len(argv) > 1:
        print("usage: python -m dockyard.cli.launcher [PATH-OF-dockyard-runtime-OR-dockyard]")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    if argv:
        scripts = [os.path.realpath(argv[0])]
    else:
        scripts = [os.path.realpath(installed_script(name)) for name in (SCRIPT, CLI_SCRIPT)]
        # an install made before bin/dockyard existed has only dockyard-runtime
        scripts = [s for s in scripts if s == scripts[0] or os.path.exists(s)]
    for script in scripts:
        try:
            for line in make_fast(script, sys.executable):
                print(line)
        except OSError as exc:
            print(f"launcher: {exc.filename or script}: {exc.strerror}", file=sys.stderr)
            return 1
        except InvalidArgument as exc:
            print(f"launcher: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

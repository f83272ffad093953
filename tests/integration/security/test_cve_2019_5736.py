"""CVE-2019-5736: a container process reaching the runtime's own binary through
/proc/PID/exe and overwriting it on the host.

Three ways in: the runtime's process inside the container before start (it
must be non-dumpable: no /proc/1/exe, no /proc/1/fd, no ptrace), a process
that loops over every /proc/*/exe it can see, and an image whose entrypoint
is a script with ``#!/proc/self/exe``, which makes the kernel run whatever
binary the runtime's process is at exec time, inside the container.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.security.support import add_probe
from tests.support import Bundle, Runtime, requires, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

EACCES, EPERM = 13, 1


def runtime_binaries(runtime: Runtime) -> list[Path]:
    """The files a container must never be able to write: the runtime's
    executable, and for a script its interpreter (dockyard-runtime is Python)."""
    found = [Path(os.path.realpath(runtime.executable))]
    with open(found[0], "rb") as f:
        head = f.read(256)
    if head.startswith(b"#!"):
        interpreter = head[2:].split(b"\n", 1)[0].split()[0].decode()
        found.append(Path(os.path.realpath(interpreter)))
    found.append(Path(os.path.realpath(sys.executable)))
    return sorted(set(found))


def digests(paths: list[Path]) -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def in_container(pid: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in the namespaces and root of container process ``pid``."""
    return subprocess.run(
        ["nsenter", f"--target={pid}", "--mount", "--uts", "--ipc", "--net", "--pid",
         "--root", "--wd", *argv],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


@requires("binary:nsenter")
def test_the_runtime_process_in_a_created_container_is_out_of_reach(
    runtime: Runtime, bundle: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(bundle, probe_binary)
    bundle.process["args"] = ["true"]
    bundle.write()
    container = runtime.create(bundle)
    pid = runtime.state(container)["pid"]

    # A root process of the container without capabilities, as the container's
    # own processes are, going for the runtime's process (pid 1 there).
    result = in_container(
        pid, probe, "dropcaps", "--", "readlink", "/proc/1/exe", "--",
        "open", "/proc/1/exe", "rw", "--", "open", "/proc/1/exe", "r", "--",
        "readlink", "/proc/1/fd/0", "--", "open", "/proc/1/fd/0", "r", "--",
        "open", "/proc/1/environ", "r", "--", "open", "/proc/1/mem", "r", "--",
        "ptrace_attach", "1",
    )  # fmt: skip

    lines = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    assert lines == [
        "dropcaps ok 0",
        f"readlink errno {EACCES}",
        f"open errno {EACCES}",
        f"open errno {EACCES}",
        f"readlink errno {EACCES}",
        f"open errno {EACCES}",
        f"open errno {EACCES}",
        f"open errno {EACCES}",
        f"ptrace_attach errno {EPERM}",
    ], result


def test_the_container_cannot_open_any_exe_for_writing(runtime: Runtime, bundle: Bundle) -> None:
    # Into a created container: its init, the runtime's own process waiting
    # for start, is pid 1 of the pid namespace the loop looks through.
    binaries = runtime_binaries(runtime)
    before = digests(binaries)
    bundle.process["args"] = ["true"]
    bundle.write()
    container = runtime.create(bundle)
    script = (
        "test -d /proc/1 && echo pid 1 is $(readlink /proc/1/exe || echo unreadable); "
        "for exe in /proc/[0-9]*/exe; do "
        '  ( exec 3<>"$exe" ) 2>/dev/null && echo "opened $exe $(readlink $exe)"; '
        "done; echo done"
    )
    result = runtime("exec", container, "sh", "-c", script)

    assert result.stdout.endswith("done\n"), result.stderr
    # The runtime's process was there to try (not busybox: nothing has run yet).
    assert result.stdout.startswith("pid 1 is "), result.stdout
    assert "busybox" not in result.stdout.splitlines()[0]
    assert "opened" not in result.stdout
    assert digests(binaries) == before


def elf_interpreter(path: Path) -> str | None:
    """PT_INTERP of a 64-bit little-endian ELF file, or None."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff = int.from_bytes(data[32:40], "little")
    phentsize = int.from_bytes(data[54:56], "little")
    phnum = int.from_bytes(data[56:58], "little")
    for i in range(phnum):
        header = data[phoff + i * phentsize : phoff + (i + 1) * phentsize]
        if int.from_bytes(header[0:4], "little") == 3:  # PT_INTERP
            offset = int.from_bytes(header[8:16], "little")
            size = int.from_bytes(header[32:40], "little")
            return data[offset : offset + size].rstrip(b"\0").decode()
    return None


def held_process() -> int | None:
    """The pid of a process started as ``/proc/self/exe /evil`` (the kernel's
    argv for the script), wherever its pid namespace is."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"/proc/self/exe\0/evil\0"):
                    return int(entry.name)
            except OSError:
                continue
    return None


#: vm.memfd_noexec (Linux 6.3): 1 makes a memfd non-executable unless it is
#: made with MFD_EXEC; 2 refuses executable memfds. It is per pid namespace
#: (a child's may only be stricter), so the runtime runs in a new one.
MEMFD_NOEXEC = Path("/proc/sys/vm/memfd_noexec")


@pytest.mark.parametrize("memfd_noexec", [None, 1, 2], ids=["host", "noexec=1", "noexec=2"])
def test_a_proc_self_exe_entrypoint_does_not_run_the_runtime(
    runtime: Runtime, bundle: Bundle, tmp_path: Path, memfd_noexec: int | None
) -> None:
    # The image's entrypoint is "#!/proc/self/exe": when the runtime execs it,
    # the kernel runs the binary the runtime's process is running. A dynamic
    # binary (the runtime's Python, runc's copy of itself) stops in its loader
    # on LD_PRELOAD, a fifo, where we look at it; the trampoline refuses to
    # run under that argv (status 127).
    if memfd_noexec is not None and not MEMFD_NOEXEC.exists():
        pytest.skip("vm.memfd_noexec needs Linux 6.3")
    rootfs = bundle.rootfs
    for binary in runtime_binaries(runtime):
        loader = elf_interpreter(binary)
        if loader and not (rootfs / loader.lstrip("/")).exists():
            (rootfs / loader.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(loader), rootfs / loader.lstrip("/"))
    (rootfs / "evil").write_text("#!/proc/self/exe\n")
    (rootfs / "evil").chmod(0o755)
    os.mkfifo(rootfs / "hold")
    bundle.process["args"] = ["/evil"]
    bundle.process["env"].append("LD_PRELOAD=/hold")
    bundle.write()
    argv = [runtime.executable, "--root", str(runtime.root), "run", "--bundle", str(bundle.path)]
    argv.append(runtime.new_id())
    if memfd_noexec is not None:
        setting = f'echo {memfd_noexec} > {MEMFD_NOEXEC} && exec "$@"'
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", setting, "sh", *argv]
    with open(tmp_path / "stderr", "w+") as stderr:
        run = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        try:
            held = wait_for(lambda: run.poll() is not None or held_process(), "the exec", 20)
            pid = None if held is True else held
            if pid is not None:
                exe = os.stat(f"/proc/{pid}/exe")
                read_only = bool(os.statvfs(f"/proc/{pid}/exe").f_flag & os.ST_RDONLY)
                os.kill(pid, signal.SIGKILL)
            status = run.wait(20)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        stderr.seek(0)
        said = stderr.read()
    if pid is None:
        # It never ran a dynamic binary: the trampoline refused its argv, or
        # the runtime refused to start without it.
        if memfd_noexec == 2 and status != 127:
            assert status != 0 and "memfd_noexec" in said, said
        else:
            assert status == 127, said
        return
    exposed = [
        str(binary)
        for binary in runtime_binaries(runtime)
        if (exe.st_dev, exe.st_ino) == (binary.stat().st_dev, binary.stat().st_ino)
    ]
    assert not (exposed and not read_only), (
        f"the container's process runs the runtime's own {exposed}, writable "
        f"(mode {stat.filemode(exe.st_mode)}): CVE-2019-5736"
    )

"""Signal names and numbers, without importing ``signal`` (it costs ~10 ms: enum)."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

# Linux numbering on x86, arm and most other architectures.
SIGNALS = {
    "HUP": 1,
    "INT": 2,
    "QUIT": 3,
    "ILL": 4,
    "TRAP": 5,
    "ABRT": 6,
    "IOT": 6,
    "BUS": 7,
    "FPE": 8,
    "KILL": 9,
    "USR1": 10,
    "SEGV": 11,
    "USR2": 12,
    "PIPE": 13,
    "ALRM": 14,
    "TERM": 15,
    "STKFLT": 16,
    "CHLD": 17,
    "CONT": 18,
    "STOP": 19,
    "TSTP": 20,
    "TTIN": 21,
    "TTOU": 22,
    "URG": 23,
    "XCPU": 24,
    "XFSZ": 25,
    "VTALRM": 26,
    "PROF": 27,
    "WINCH": 28,
    "IO": 29,
    "POLL": 29,
    "PWR": 30,
    "SYS": 31,
}
SIGKILL = SIGNALS["KILL"]
SIGRTMIN = 34
SIGRTMAX = 64


def parse_signal(text: str) -> int:
    """``9``, ``KILL``, ``SIGKILL``, ``sigkill``, ``RTMIN+3`` → a signal number."""
    if text.isdigit():
        number = int(text)
        if number <= SIGRTMAX:  # 0 too: it checks the process is there (a liveness probe)
            return number
        raise InvalidArgument(f"invalid signal number {text}")
    name = text.upper()
    if name.startswith("SIG"):
        name = name[3:]
    if name in SIGNALS:
        return SIGNALS[name]
    for base, origin, sign in (("RTMIN", SIGRTMIN, 1), ("RTMAX", SIGRTMAX, -1)):
        if name == base:
            return origin
        if name.startswith(base) and name[len(base)] in "+-" and name[len(base) + 1 :].isdigit():
            number = origin + int(name[len(base) :])
            if SIGRTMIN <= number <= SIGRTMAX and (number - origin) * sign >= 0:
                return number
    raise InvalidArgument(f"unknown signal {text!r}")

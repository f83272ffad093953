"""A container's HEALTHCHECK: where it comes from and what it says, as Docker reads it.

The image's ``config.Healthcheck`` and the ``--health-*`` flags (or the Python
API's ``healthcheck``) become one `HealthConfig` at ``create``, merged as
Docker's daemon merges them (the user's fields over the image's, each on its
own); ``--no-healthcheck`` (``["NONE"]``) turns the image's off. Durations
are Go's: nanoseconds in the image and in inspect, ``1m30s`` on the command
line, shown as Go's ``Duration.String`` does (``30s``, ``1m30s``, ``500ms``).
"""

from __future__ import annotations

from dockyard.engine.types import HealthConfig
from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5
    "μs": 1_000,  # U+03BC
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
MINIMUM_NS = 1_000_000  # Docker's containertypes.MinimumDuration: 1 ms

# Docker's defaults (daemon/health.go), used when a field is 0
DEFAULT_INTERVAL = 30_000_000_000
DEFAULT_TIMEOUT = 30_000_000_000
DEFAULT_START_INTERVAL = 5_000_000_000
DEFAULT_RETRIES = 3


def parse_duration(text: str, flag: str = "") -> int:
    """Go's time.ParseDuration: "1.5s", "1m30s", "300ms", "0"; nanoseconds."""

    def invalid() -> InvalidArgument:
        where = f' for "{flag}" flag' if flag else ""
        return InvalidArgument(f'invalid argument "{text}"{where}: time: invalid duration "{text}"')

    s = text
    sign = 1
    if s[:1] in ("-", "+"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid()
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        number, s = s[:i], s[i:]
        if not number or number == "." or number.count(".") > 1:
            raise invalid()
        j = 0
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit, s = s[:j], s[j:]
        if unit not in NS:
            where = f' for "{flag}" flag' if flag else ""
            if not unit:
                raise InvalidArgument(
                    f'invalid argument "{text}"{where}: time: missing unit in duration "{text}"'
                )
            raise InvalidArgument(
                f'invalid argument "{text}"{where}: time: unknown unit "{unit}" in duration '
                f'"{text}"'
            )
        whole, _, fraction = number.partition(".")
        total += int(whole or 0) * NS[unit]
        if fraction:
            total += int(fraction) * NS[unit] / 10 ** len(fraction)
    return sign * int(total)


def _fraction(value: int, precision: int) -> str:
    whole, part = divmod(value, 10**precision)
    digits = f"{part:0{precision}d}".rstrip("0") if precision else ""
    return f"{whole}.{digits}" if digits else str(whole)


def format_duration(ns: int) -> str:
    """Go's time.Duration.String()."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_fraction(u, 3)}µs"
        return f"{sign}{_fraction(u, 6)}ms"
    seconds_ns = u % 60_000_000_000
    minutes = u // 60_000_000_000
    text = _fraction(seconds_ns, 9) + "s"
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes >= 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def from_flags(
    cmd: str,
    interval: str,
    timeout: str,
    start_period: str,
    start_interval: str,
    retries: str,
    none: bool,
) -> HealthConfig | None:
    """The ``--health-*`` flags as docker/cli reads them; None when none was given."""
    given = any((cmd, interval, timeout, start_period, start_interval, retries))
    if none:
        if given:
            raise InvalidArgument("--no-healthcheck conflicts with --health-* options")
        return HealthConfig(test=["NONE"])
    if not given:
        return None
    config = HealthConfig(
        test=["CMD-SHELL", cmd] if cmd else [],
        interval=parse_duration(interval, "--health-interval") if interval else 0,
        timeout=parse_duration(timeout, "--health-timeout") if timeout else 0,
        start_period=parse_duration(start_period, "--health-start-period") if start_period else 0,
        start_interval=(
            parse_duration(start_interval, "--health-start-interval") if start_interval else 0
        ),
        retries=_int(retries, "--health-retries") if retries else 0,
    )
    for name, value in (
        ("--health-interval", config.interval),
        ("--health-timeout", config.timeout),
        ("--health-retries", config.retries),
        ("--health-start-period", config.start_period),
        ("--health-start-interval", config.start_interval),
    ):
        if value < 0:
            raise InvalidArgument(f"{name} cannot be negative")
    return config


def _int(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(
            f'invalid argument "{text}" for "{flag}" flag: strconv.ParseInt: parsing '
            f'"{text}": invalid syntax'
        ) from None


def from_image(raw: object) -> HealthConfig | None:
    """``config.Healthcheck`` of an image config (Docker's HealthConfig JSON)."""
    if not isinstance(raw, dict):
        return None
    return from_api(raw)


def from_api(raw: dict[str, Any]) -> HealthConfig:
    """Docker's JSON (``Test``, ``Interval``...) or docker-py's keys (``test``,
    ``interval``..., a string test meaning CMD-SHELL)."""

    def get(*names: str) -> Any:
        for name in names:
            if raw.get(name) is not None:
                return raw[name]
        return None

    test = get("Test", "test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if test is not None and (
        not isinstance(test, list) or not all(isinstance(t, str) for t in test)
    ):
        raise InvalidArgument("Healthcheck.Test must be a list of strings")
    try:
        return HealthConfig(
            test=list(test or []),
            interval=int(get("Interval", "interval") or 0),
            timeout=int(get("Timeout", "timeout") or 0),
            start_period=int(get("StartPeriod", "start_period") or 0),
            start_interval=int(get("StartInterval", "start_interval") or 0),
            retries=int(get("Retries", "retries") or 0),
        )
    except (TypeError, ValueError):
        raise InvalidArgument("Healthcheck: durations and retries must be integers") from None


def merge(user: HealthConfig | None, image: HealthConfig | None) -> HealthConfig | None:
    """Docker's merge at create: the user's fields win, each one that is set."""
    if user is None:
        return image
    if image is None:
        return user
    return HealthConfig(
        test=user.test or image.test,
        interval=user.interval or image.interval,
        timeout=user.timeout or image.timeout,
        start_period=user.start_period or image.start_period,
        start_interval=user.start_interval or image.start_interval,
        retries=user.retries or image.retries,
    )


def validate(config: HealthConfig | None) -> None:
    """What Docker's daemon refuses (validateHealthCheck), in its words."""
    if config is None:
        return
    for name, value in (
        ("Interval", config.interval),
        ("Timeout", config.timeout),
        ("StartPeriod", config.start_period),
        ("StartInterval", config.start_interval),
    ):
        if value != 0 and value < MINIMUM_NS:
            raise InvalidArgument(f"{name} in Healthcheck cannot be less than 1ms")
    if config.retries < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")
    if config.test and config.test[0] not in ("NONE", "CMD", "CMD-SHELL"):
        raise InvalidArgument(
            f"unknown healthcheck type '{config.test[0]}' (expected CMD, CMD-SHELL or NONE)"
        )
    if config.test and config.test[0] != "NONE" and len(config.test) < 2:
        raise InvalidArgument(f"Healthcheck: {config.test[0]} needs a command")


def probe(config: HealthConfig | None) -> list[str] | None:
    """The command a check runs (CMD-SHELL through /bin/sh -c), or None: no check."""
    if config is None or not config.test or config.test[0] == "NONE":
        return None
    if config.test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", *config.test[1:]]
    if config.test[0] == "CMD":
        return list(config.test[1:])
    return None


def config_json(config: HealthConfig) -> dict[str, Any]:
    """``Config.Healthcheck`` as Docker's inspect shows it (zero fields left out)."""
    out: dict[str, Any] = {}
    if config.test:
        out["Test"] = list(config.test)
    for key, value in (
        ("Interval", config.interval),
        ("Timeout", config.timeout),
        ("StartPeriod", config.start_period),
        ("StartInterval", config.start_interval),
        ("Retries", config.retries),
    ):
        if value:
            out[key] = value
    return out

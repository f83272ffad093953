"""Restart policies as Docker reads and applies them: ``--restart no|on-failure[:N]|always|...``.

Pure functions, no I/O: `parse` reads the flag as Docker's CLI does,
`validate` refuses what Docker's daemon refuses, and `decide` is Docker's
restart manager (moby ``restartmanager.ShouldRestart``): whether a
container that just ended comes back, and after how long.

The backoff: the first restart waits 100 ms, each next one twice the
previous, at most a minute; a run of 10 seconds or more starts the series
again at 100 ms. ``on-failure:N`` restarts at most N times (0: no limit),
counted by ``RestartCount``, which a manual ``start`` resets.
"""

from __future__ import annotations

from dockyard.engine.types import RestartPolicy
from dockyard.errors import InvalidArgument

NO = "no"
ALWAYS = "always"
ON_FAILURE = "on-failure"
UNLESS_STOPPED = "unless-stopped"
NAMES = (NO, ALWAYS, ON_FAILURE, UNLESS_STOPPED)

FIRST_DELAY_MS = 100
MAX_DELAY_MS = 60_000
RESET_AFTER_NS = 10_000_000_000  # a run this long starts the backoff again


def parse(text: str) -> RestartPolicy:
    """``--restart`` as docker/cli's ParseRestartPolicy reads it ("" is "no")."""
    if not text:
        return RestartPolicy()
    name, sep, count = text.partition(":")
    if sep and not name:
        raise InvalidArgument("invalid restart policy format: no policy provided before colon")
    retries = 0
    if count:
        try:
            retries = int(count)
        except ValueError:
            raise InvalidArgument(
                "invalid restart policy format: maximum retry count must be an integer"
            ) from None
    policy = RestartPolicy(name, retries)
    validate(policy)
    return policy


def validate(policy: RestartPolicy) -> None:
    """What Docker's daemon refuses (ValidateRestartPolicy), in its words."""
    if policy.name in (NO, ALWAYS, UNLESS_STOPPED, ""):
        if policy.maximum_retry_count != 0 and policy.name:
            message = (
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
            )
            if policy.maximum_retry_count < 0:
                message += " and cannot be negative"
            raise InvalidArgument(message)
        if not policy.name:
            policy.name = NO  # Docker before 25 stored "": the same as "no"
        return
    if policy.name == ON_FAILURE:
        if policy.maximum_retry_count < 0:
            raise InvalidArgument("invalid restart policy: maximum retry count cannot be negative")
        return
    raise InvalidArgument(
        f"invalid restart policy: unknown policy '{policy.name}'; "
        f"use one of '{NO}', '{ALWAYS}', '{ON_FAILURE}', or '{UNLESS_STOPPED}'"
    )


def is_none(policy: RestartPolicy) -> bool:
    return policy.name in (NO, "")


def next_delay(previous_ms: int, ran_ns: int) -> int:
    """The wait before this restart: 100 ms, doubling, at most a minute; a long run resets it."""
    if ran_ns >= RESET_AFTER_NS or previous_ms <= 0:
        return FIRST_DELAY_MS
    return min(previous_ms * 2, MAX_DELAY_MS)


def decide(
    policy: RestartPolicy,
    exit_code: int,
    manually_stopped: bool,
    restart_count: int,
    ran_ns: int,
    previous_delay_ms: int,
) -> tuple[bool, int]:
    """(restart?, after how many ms): Docker's ShouldRestart for a container that ended.

    ``previous_delay_ms`` is the wait before the previous restart (0 after a
    manual start); the returned delay is kept for the next decision.
    """
    delay = next_delay(previous_delay_ms, ran_ns)
    if policy.name == ALWAYS:
        return True, delay
    if policy.name == UNLESS_STOPPED:
        return not manually_stopped, delay
    if policy.name == ON_FAILURE:
        limit = policy.maximum_retry_count
        if exit_code != 0 and (limit == 0 or restart_count < limit):
            return True, delay
    return False, delay


def text(policy: RestartPolicy) -> str:
    """The policy as ``--restart`` spells it."""
    if policy.name == ON_FAILURE and policy.maximum_retry_count:
        return f"{ON_FAILURE}:{policy.maximum_retry_count}"
    return policy.name or NO

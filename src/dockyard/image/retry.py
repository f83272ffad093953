"""When to ask a registry again: 429 and 5xx answers, ``Retry-After``, exponential backoff.

A registry that is busy (429 Too Many Requests, 503) or briefly broken (500,
502, 504: a proxy in front of it restarting) usually answers the same
request a moment later. ``Retry-After`` says how long to wait, in seconds or
as an HTTP date (RFC 9110 10.2.3); without it the waits double from
``backoff`` up to ``max_backoff``, with a little jitter so that parallel
layer downloads do not come back in step.
"""

from __future__ import annotations

import datetime
import random
import time

from .options import ClientOptions

#: answers worth asking again: too many requests, and the server-side failures that pass
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header; None if absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    import email.utils  # only for the rare date form (a few ms)

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
        when = when.replace(tzinfo=datetime.UTC)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def backoff(attempt: int, options: ClientOptions) -> float:
    """The wait before retry number ``attempt`` (0 for the first) when the registry named none."""
    base = min(options.backoff * 2.0**attempt, options.max_backoff)
    return base * random.uniform(0.8, 1.2)

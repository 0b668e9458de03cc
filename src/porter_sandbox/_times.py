"""Times the SDK sends (``datetime`` or RFC 3339 strings alike, durations back from now), and how it waits.

A naive ``datetime`` is local time, as everywhere in Python; the API wants an
explicit offset, so one is added before anything is sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final

__all__ = ["aware", "moment", "poll_delays", "since_value"]

_FIRST_POLL: Final = 0.02
_MAX_POLL: Final = 0.5


def aware(value: datetime) -> datetime:
    """``value`` with an offset: a naive one is taken as local time."""
    return value if value.tzinfo is not None else value.astimezone()


def moment(value: str | datetime, what: str) -> datetime:
    """``value`` as a ``datetime``: itself, or an RFC 3339 / ISO 8601 string read as one (naive means local)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a datetime or an RFC 3339 time such as '2026-01-31T12:00:00Z', not {value!r}")
    # dateutil reads RFC 3339 whole ("Z", any fraction of a second); datetime.fromisoformat does only from 3.11.
    from dateutil.parser import isoparse

    try:
        return isoparse(value.strip())
    except ValueError:
        raise ValueError(
            f"{what} must be an RFC 3339 time such as '2026-01-31T12:00:00Z' (or a datetime), not {value!r}"
        ) from None


def since_value(since: str | datetime | timedelta) -> str:
    """A ``since`` query value: a duration back from now (``"5m"``) or an RFC 3339 time."""
    if isinstance(since, timedelta):
        if since < timedelta(0):
            raise ValueError(f"since must not be negative, not {since!r}")
        return f"{math.ceil(since.total_seconds())}s"
    if isinstance(since, datetime):
        return aware(since).isoformat()
    if isinstance(since, str) and since.strip():
        return since.strip()
    raise TypeError(
        f"since must be an RFC 3339 time or a duration such as '5m', a datetime or a timedelta, not {since!r}"
    )


def poll_delays(timeout: float) -> Iterator[float]:
    """The waits between polls of a ``wait()``: short first, growing, ending when ``timeout`` seconds have passed."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"timeout must be a number of seconds, 0 or more, not {timeout!r}")
    deadline = time.monotonic() + timeout
    delay = _FIRST_POLL
    while (remaining := deadline - time.monotonic()) > 0:
        yield min(delay, remaining)
        delay = min(delay * 1.5, _MAX_POLL)

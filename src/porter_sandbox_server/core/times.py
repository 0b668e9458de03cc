"""Times as the API writes them: RFC 3339 instants, and ``since`` durations such as ``30s`` or ``2h``."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from dateutil.parser import isoparse

from .. import errors

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: The earliest time an answer can carry (0001-01-01T00:00:00Z), as seconds since the epoch.
EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()


def parse_time(text: str, what: str) -> float:
    """An RFC 3339 time as seconds since the epoch; ``BadRequest`` naming ``what`` otherwise."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _isoparse(value)
    if parsed is None:
        raise errors.BadRequest(
            f"{what} {text!r} is not an RFC 3339 time; use a form such as 2024-05-01T12:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError):
        raise errors.BadRequest(f"{what} {text!r} is out of range") from None


def _isoparse(text: str) -> datetime | None:
    # fromisoformat misses some RFC 3339 forms (nanoseconds, a lowercase "t") that dateutil reads.
    try:
        return isoparse(text.upper())
    except (ValueError, OverflowError):
        return None


def parse_since(text: str, now: float) -> float:
    """``since`` as seconds since the epoch: an RFC 3339 time or a duration back from ``now``."""
    stripped = text.strip()
    if stripped and _DURATION_PART.sub("", stripped) == "":
        seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(stripped))
        # A duration longer than all of time reaches back to the earliest time there is.
        return max(now - seconds, EARLIEST)
    try:
        return parse_time(stripped, "since")
    except errors.BadRequest:
        raise errors.BadRequest(
            f"since {text!r} is neither an RFC 3339 time (2024-05-01T12:00:00Z) nor a duration (30s, 5m, 2h)"
        ) from None

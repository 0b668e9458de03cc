"""Counting sandboxes over time: gap-free buckets whose width fits the window (``GET /v1/sandbox/counts``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .times import EARLIEST

#: Bucket widths, smallest first; the first that gives fewer than ``MAX_BUCKETS`` buckets across the window wins.
GRANULARITIES_MS = [
    1_000,
    10_000,
    60_000,
    300_000,
    900_000,
    3_600_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    604_800_000,
    2_592_000_000,
    31_536_000_000,
]
MAX_BUCKETS = 120
#: The window counted when the request names no start: the last day.
DEFAULT_WINDOW = 86_400.0


@dataclass(frozen=True)
class Buckets:
    """Where the buckets of a window lie: bucket ``n`` covers ``origin + n * width`` up to the next."""

    origin: float
    width: float
    count: int
    granularity_ms: int

    def start_of(self, index: int) -> float:
        """When bucket ``index`` starts, in seconds since the epoch."""
        return self.origin + index * self.width


def buckets_for(start: float, end: float) -> Buckets | None:
    """The buckets covering ``start`` to ``end`` (seconds since the epoch); ``None`` for an empty window."""
    if start > end:
        return None
    window_ms = (end - start) * 1000
    granularity = next((g for g in GRANULARITIES_MS if window_ms / g < MAX_BUCKETS), None)
    if granularity is None:
        step = GRANULARITIES_MS[-1]
        granularity = math.ceil(window_ms / MAX_BUCKETS / step) * step
    width = granularity / 1000
    # Buckets sit on multiples of their width, so the same window always gives the same edges.
    origin = math.floor(start / width) * width
    if origin < EARLIEST:
        # A bucket edge before year 1 cannot be written as a time; start at the first edge after it.
        origin = math.ceil(EARLIEST / width) * width
        if origin > end:
            return None
    return Buckets(origin=origin, width=width, count=int((end - origin) // width) + 1, granularity_ms=granularity)

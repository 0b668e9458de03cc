"""Time-to-live timers, on a clock that tests can replace.

A sandbox created with ``ttl_seconds`` is terminated once that long has
passed since it started running. Its deadline is a wall-clock time, kept in
the store, so it outlives a server restart. Timers of the event loop run on a
monotonic clock that drifts from the wall clock and may fire a little early,
so a timer re-checks the deadline when it fires, and a long one is re-armed
daily instead of being armed for years.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

#: The longest single wait; a later deadline is reached by waits of this length.
_LONGEST_WAIT = 86_400.0


class Timer(Protocol):
    """A callback waiting to be called; ``cancel`` stops it."""

    def cancel(self) -> None:
        """Stop the timer; a no-op once it fired."""


class Clock(Protocol):
    """The service's time: the wall clock, and timers on it."""

    def time(self) -> float:
        """Now, in seconds since the epoch."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Call ``callback`` once ``delay`` seconds have passed."""


class LoopClock:
    """The real clock: ``time.time()`` and the running event loop's timers."""

    def time(self) -> float:
        """Now, in seconds since the epoch."""
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """An event-loop timer."""
        return asyncio.get_running_loop().call_later(delay, callback)


class TtlTimers:
    """One timer per sandbox with a TTL; calls ``expire(sandbox_id)`` once its deadline has passed."""

    def __init__(self, clock: Clock, expire: Callable[[str], None]) -> None:
        self._clock = clock
        self._expire = expire
        self._timers: dict[str, Timer] = {}
        self._deadlines: dict[str, float] = {}

    def arm(self, sandbox_id: str, deadline: float) -> None:
        """Expire ``sandbox_id`` at ``deadline`` (seconds since the epoch); at once if it has passed."""
        self.cancel(sandbox_id)
        self._deadlines[sandbox_id] = deadline
        self._wait(sandbox_id)

    def cancel(self, sandbox_id: str) -> None:
        """Forget the sandbox's timer, if it has one."""
        timer = self._timers.pop(sandbox_id, None)
        self._deadlines.pop(sandbox_id, None)
        if timer is not None:
            timer.cancel()

    def cancel_all(self) -> None:
        """Forget every timer."""
        for sandbox_id in list(self._timers):
            self.cancel(sandbox_id)

    def _wait(self, sandbox_id: str) -> None:
        remaining = self._deadlines[sandbox_id] - self._clock.time()
        delay = min(max(0.0, remaining), _LONGEST_WAIT)
        self._timers[sandbox_id] = self._clock.call_later(delay, lambda: self._due(sandbox_id))

    def _due(self, sandbox_id: str) -> None:
        deadline = self._deadlines.get(sandbox_id)
        if deadline is None:
            return
        if deadline > self._clock.time():
            self._wait(sandbox_id)  # early (clock drift) or a long deadline: wait the rest
            return
        self._timers.pop(sandbox_id, None)
        self._deadlines.pop(sandbox_id, None)
        self._expire(sandbox_id)

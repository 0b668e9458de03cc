"""Sandbox logs: every line a sandbox writes, gathered in memory and written to the store in batches.

A sandbox may print thousands of lines a second; one insert per line would
make the store the bottleneck. Lines wait at most ``FLUSH_DELAY`` seconds in
memory, then go to the store in one transaction. Reads flush first, so a
reader always sees every line written before its request.
"""

from __future__ import annotations

import logging

from ..runtimes.base import Stream
from ..store import LogRow, Store
from .ttl import Clock, Timer

logger = logging.getLogger("porter_sandbox_server")

#: Log lines wait at most this long in memory before they are written.
FLUSH_DELAY = 0.05


class LogBook:
    """The sandboxes' log lines: appended from the event loop, written in batches, read back in order."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._pending: list[LogRow] = []
        self._flush_timer: Timer | None = None

    def append(self, sandbox_id: str, exec_id: str, stream: Stream | str, line: str) -> None:
        """Record one line; stdout lines are ``info``, stderr lines ``error``. Call on the event loop."""
        level = "error" if stream == "stderr" else "info"
        self._pending.append((sandbox_id, self._clock.time(), line, level, exec_id))
        if self._flush_timer is None:
            self._flush_timer = self._clock.call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write the lines waiting in memory."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            self._store.insert_logs(rows)
        except Exception:
            logger.exception("writing %d log lines failed", len(rows))

    def read(self, sandbox_id: str, since: float | None, limit: int | None) -> list[tuple[float, str, str, str]]:
        """The sandbox's ``(timestamp, line, level, exec_id)`` lines after ``since``, oldest first.

        With ``limit``, only the newest that many.
        """
        self.flush()
        return self._store.read_logs(sandbox_id, since, limit)

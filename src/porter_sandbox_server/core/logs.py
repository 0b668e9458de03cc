"""Sandbox logs: every line a sandbox writes, gathered in memory, written to the store in batches, bounded.

A sandbox may print hundreds of thousands of lines a second; one insert per
line would make the store the bottleneck, and one insert of everything at
once would stall the API. Lines wait at most ``FLUSH_DELAY`` seconds in
memory, then go to the store in transactions of at most ``SLICE_ROWS`` lines,
each followed by a pause as long as it took, so the API gets at least half of
the event loop however fast sandboxes print. While more than ``HIGH_WATER``
lines (or bytes) wait, ``accepting`` is false and runtimes stop reading
output, which slows the printing sandbox down instead of growing memory.

Each sandbox's log keeps at most ``LogRetention.max_lines`` lines and
``max_bytes`` bytes of text; past either, its oldest lines are dropped (down
to nine tenths of the limit, so this happens in batches) and one line, where
they were, says how many went.

When the disk is full, lines keep waiting in memory (up to ``HARD_LIMIT``;
beyond it they are counted and dropped) and the write is retried every
``RETRY_DELAY`` seconds; once it succeeds, a line in each sandbox's log says
how many of its lines were lost. Reads flush first, so a reader sees every
line written before its request; a flush that fails does not stop the read.

Times are per sandbox strictly increasing and whole microseconds, exactly
what the API answers, so ``since`` set to the last line's timestamp pages on
without losing or repeating a line. A reader that follows a log
(``wait_written``, ``read_written``) is woken after each write and reads what
was stored, so following never forces a write before its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from ..runtimes.base import Stream
from ..store import LogPage, LogRow, Store, StoreFull
from .ttl import Clock, Timer

logger = logging.getLogger("porter_sandbox_server")

#: Log lines wait at most this long in memory before they are written.
FLUSH_DELAY = 0.05
#: At most this many lines are written in one transaction (a few milliseconds).
SLICE_ROWS = 1_000
#: Past this many waiting lines or bytes, runtimes are asked to stop reading output for a while.
HIGH_WATER = 10_000
HIGH_WATER_BYTES = 8 * 1024 * 1024
#: Past this many waiting lines or bytes (a disk that stays full), new lines are counted and dropped.
HARD_LIMIT = 4 * HIGH_WATER
HARD_LIMIT_BYTES = 4 * HIGH_WATER_BYTES
#: How long a failed write waits before it is tried again.
RETRY_DELAY = 1.0
#: ``GET /logs`` without ``limit`` answers at most this many lines; any answer holds at most ``PAGE_BYTES``.
PAGE_LINES = 1_000
PAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class LogRetention:
    """How much of each sandbox's log is kept (``serve --log-max-lines`` / ``--log-max-bytes``)."""

    max_lines: int = 100_000
    #: Bytes of line text (UTF-8).
    max_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.max_lines < 1 or self.max_bytes < 1:
            raise ValueError("a log retention keeps at least one line and one byte")

    # A log over either limit drops its oldest lines down to nine tenths of it (so in batches).
    @property
    def kept_lines(self) -> int:
        """How many lines a log holds once it dropped its oldest: the most one exec logs (more would evict itself)."""
        return max(self.max_lines - self.max_lines // 10, 1)

    @property
    def kept_bytes(self) -> int:
        """How many bytes of text a log holds once it dropped its oldest: the most one exec logs."""
        return max(self.max_bytes - self.max_bytes // 10, 1)


@dataclass
class _Usage:
    """What one sandbox's log holds, as far as this book knows; loaded from the store on first use."""

    lines: int
    bytes: int
    #: The time of its newest line: the next gets a later one.
    newest: float


@dataclass
class _Lost:
    lines: int = 0
    reasons: set[str] = field(default_factory=set)


def _size(line: str) -> int:
    return len(line) if line.isascii() else len(line.encode("utf-8", "replace"))


class LogBook:
    """The sandboxes' log lines: appended from the event loop, written in bounded batches, read in pages."""

    def __init__(self, store: Store, clock: Clock, retention: LogRetention | None = None) -> None:
        self._store = store
        self._clock = clock
        self.retention = retention or LogRetention()
        self._pending: list[LogRow] = []
        self._pending_bytes = 0
        self._timer: Timer | None = None
        #: Whether the timer is already as soon as it should be (a slice's worth waits, or a retry).
        self._timer_soon = False
        self._usage: dict[str, _Usage] = {}
        self._lost: dict[str, _Lost] = {}
        #: Set while the store refuses writes (a full disk); cleared by the first write that succeeds.
        self._failing: str | None = None
        #: Settled after the next write of lines: followers wait on it.
        self._written: asyncio.Future[None] | None = None

    # Taking lines

    def append(self, sandbox_id: str, exec_id: str, stream: Stream | str, line: str) -> None:
        """Record one line; stdout lines are ``info``, stderr lines ``error``. Call on the event loop."""
        self._add(sandbox_id, line, "error" if stream == "stderr" else "info", exec_id)

    def note(self, sandbox_id: str, line: str) -> None:
        """Record a line of the server's own about the sandbox (level ``warning``)."""
        self._add(sandbox_id, line, "warning", "")

    def _add(self, sandbox_id: str, line: str, level: str, exec_id: str) -> None:
        if len(self._pending) >= HARD_LIMIT or self._pending_bytes >= HARD_LIMIT_BYTES:
            lost = self._lost.setdefault(sandbox_id, _Lost())
            lost.lines += 1
            lost.reasons.add(self._failing or "the sandbox wrote faster than the server could store its lines")
            return
        usage = self._usage.get(sandbox_id)
        if usage is None:
            usage = self._load_usage(sandbox_id)
        # Whole microseconds (what the API shows), strictly increasing: `since` pages exactly.
        ts = round(self._clock.time(), 6)
        if ts <= usage.newest:
            ts = round(usage.newest + 1e-6, 6)
        usage.newest = ts
        self._pending.append((sandbox_id, ts, line, level, exec_id))
        self._pending_bytes += len(line)
        if self._timer is None or (not self._timer_soon and len(self._pending) >= SLICE_ROWS):
            self._schedule()

    def accepting(self) -> bool:
        """Whether runtimes may pass more lines now (while the disk is full, lines are counted, not held up)."""
        if self._failing is not None:
            return True
        return len(self._pending) < HIGH_WATER and self._pending_bytes < HIGH_WATER_BYTES

    def _load_usage(self, sandbox_id: str) -> _Usage:
        stored = self._store.log_usage(sandbox_id)
        usage = _Usage(stored.lines, stored.bytes, stored.newest or 0.0)
        self._usage[sandbox_id] = usage
        return usage

    def forget(self, sandbox_id: str) -> None:
        """Drop what is held in memory about a sandbox that ended (it is loaded again if it logs more)."""
        if sandbox_id in self._lost:
            return  # its loss is still to be written down
        if not any(row[0] == sandbox_id for row in self._pending):
            self._usage.pop(sandbox_id, None)

    # Writing

    def _schedule(self) -> None:
        """Make sure a write is coming: soon once a slice's worth waits, else within ``FLUSH_DELAY``."""
        if self._failing is not None:
            if self._timer is None:
                self._timer, self._timer_soon = self._clock.call_later(RETRY_DELAY, self._write_slices), True
            return
        soon = len(self._pending) >= SLICE_ROWS
        if self._timer is not None and (self._timer_soon or not soon):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._clock.call_later(0 if soon else FLUSH_DELAY, self._write_slices)
        self._timer_soon = soon

    def _write_slices(self) -> None:
        """Write one slice; come back after a pause as long as it took (so half the loop at most)."""
        self._timer = None
        started = time.monotonic()
        self._write(SLICE_ROWS)
        if self._failing is not None or not (self._pending or self._lost):
            if self._pending or self._lost:
                self._schedule()
            return
        if len(self._pending) >= SLICE_ROWS:
            self._timer = self._clock.call_later(time.monotonic() - started, self._write_slices)
            self._timer_soon = True
        else:
            self._schedule()

    def flush(self) -> None:
        """Write every line waiting in memory now; never raises (a full disk leaves them waiting)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending or self._lost:
            if not self._write(SLICE_ROWS):
                break
        if self._pending or self._lost:
            self._schedule()

    def _write(self, count: int) -> bool:
        """Write up to ``count`` waiting lines and the notes of lines lost; answer whether the store took them."""
        self._note_losses()
        rows = self._pending[:count]
        try:
            if rows:
                self._store.insert_logs(rows)
        except StoreFull:
            self._fail("the disk of the server's data directory was full")
            return False
        except Exception:
            logger.exception("writing %d log lines failed", len(rows))
            self._fail("the server could not write them")
            return False
        if self._failing is not None:
            logger.warning("log lines are written again")
            self._failing = None
        del self._pending[: len(rows)]
        self._pending_bytes = max(0, self._pending_bytes - sum(len(row[2]) for row in rows))
        touched: set[str] = set()
        for sandbox_id, _ts, line, _level, _exec_id in rows:
            usage = self._usage.get(sandbox_id)
            if usage is not None:
                usage.lines += 1
                usage.bytes += _size(line)
                touched.add(sandbox_id)
        for sandbox_id in touched:
            self._retain(sandbox_id)
        if rows:
            self.wake_followers()
        return True

    def wake_followers(self) -> None:
        """Wake every reader waiting in ``wait_written`` (lines were written, or a sandbox ended)."""
        written, self._written = self._written, None
        if written is not None and not written.done():
            written.set_result(None)

    def _fail(self, reason: str) -> None:
        if self._failing is None:
            logger.warning(
                "cannot write log lines: %s; they wait in memory (at most %d) and are written once it works",
                reason,
                HARD_LIMIT,
            )
        self._failing = reason

    def _note_losses(self) -> None:
        """Say in each log how many of its lines were lost, where they were lost."""
        if not self._lost or len(self._pending) >= HARD_LIMIT:
            return
        lost, self._lost = self._lost, {}
        for sandbox_id, what in lost.items():
            self.note(
                sandbox_id,
                f"[porter-sandbox: {what.lines} lines of output were lost here: {'; '.join(sorted(what.reasons))}]",
            )

    def _retain(self, sandbox_id: str) -> None:
        """Drop the sandbox's oldest lines once its log is over the retention, down to nine tenths of it."""
        usage = self._usage[sandbox_id]
        limit = self.retention
        if usage.lines <= limit.max_lines and usage.bytes <= limit.max_bytes:
            return
        excess_lines = usage.lines - limit.kept_lines
        excess_bytes = usage.bytes - limit.kept_bytes
        try:
            oldest = self._store.oldest_logs(sandbox_id, max(excess_lines, 1), max(excess_bytes, 0))
            if oldest is None:
                return
            last_seq, lines, size, _ts = oldest
            self._store.drop_logs(sandbox_id, last_seq, lines, self._drop_note)
        except StoreFull:
            return  # tried again after the next write
        usage.lines -= lines - 1
        usage.bytes -= size - _size(self._drop_note(lines))  # near enough: the count's digits vary

    def _drop_note(self, total: int) -> str:
        limit = self.retention
        return (
            f"[porter-sandbox: {total} older lines were dropped: a sandbox's log keeps its newest "
            f"{limit.max_lines} lines and {limit.max_bytes} bytes (serve --log-max-lines, --log-max-bytes)]"
        )

    # Reading

    def read(self, sandbox_id: str, since: float | None, limit: int | None) -> LogPage:
        """A bounded page of the sandbox's lines after ``since``, oldest first (see ``Store.read_logs``)."""
        self.flush()
        return self._store.read_logs(sandbox_id, since, limit, PAGE_LINES, PAGE_BYTES)

    async def wait_written(self, timeout: float) -> None:
        """Return after the next write of lines (of any sandbox), or after ``timeout`` seconds."""
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._written), timeout)

    def read_written(self, sandbox_id: str, since: float | None) -> LogPage:
        """A bounded page of the lines already written after ``since``, oldest first, without writing those waiting."""
        return self._store.read_logs(sandbox_id, since, None, PAGE_LINES, PAGE_BYTES)

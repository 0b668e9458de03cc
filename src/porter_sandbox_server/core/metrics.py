"""Sandbox metrics: every running sandbox sampled at a fixed interval, kept for a day, summarised on request.

Every ``interval`` seconds the sampler asks the runtime for the counters of
every running sandbox in one call (``Runtime.sample``: CPU seconds used,
memory in use, network bytes), turns the counters into rates since the last
reading (for a sandbox's first reading, since it started), and stores one row
per sandbox in one transaction. Samples older than ``RETENTION`` seconds, and
the oldest beyond ``MAX_ROWS``, are deleted as it goes, so the store stays
bounded however many sandboxes come and go.

From the samples: ``summary`` (the 50th and 90th percentiles of CPU and
memory over a look-back window, and each against the sandbox's limits) and
``series`` (one metric between two times, averaged down to at most
``MAX_POINTS`` points).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import errors
from ..runtimes.base import ResourceSample, Runtime
from ..store import MetricRow, MetricsTable, SandboxRecord
from .ttl import Clock

logger = logging.getLogger("porter_sandbox_server")

#: How often each running sandbox is sampled, in seconds, unless the server is told otherwise.
DEFAULT_INTERVAL = 5.0
#: How long samples are kept.
RETENTION = 24 * 3600.0
#: The most samples kept, all sandboxes together (about 60 MB of database).
MAX_ROWS = 1_000_000
#: The summary's window when ``since`` is not given, and the longest one.
DEFAULT_WINDOW = 3600.0
MAX_WINDOW = RETENTION
#: The most points one series answers; longer ranges are averaged down to this.
MAX_POINTS = 1000
_PRUNE_EVERY = 12

#: Per metric of the API: the column it is read from, and its unit.
METRICS: dict[str, tuple[str, str]] = {
    "cpu_usage": ("cpu_cores", "cores"),
    "cpu_reserved": ("cpu_cores", "cores"),
    "memory_usage": ("memory_bytes", "bytes"),
    "memory_reserved": ("memory_bytes", "bytes"),
    "network_rx": ("rx_rate", "bytes/sec"),
    "network_tx": ("tx_rate", "bytes/sec"),
}


@dataclass(frozen=True)
class Summary:
    """CPU and memory percentiles of one sandbox over a window (zeros when ``has_data`` is false)."""

    window_seconds: int
    has_data: bool
    cpu_cores_p50: float = 0.0
    cpu_cores_p90: float = 0.0
    cpu_limit_cores: float = 0.0
    cpu_util_p50_pct: float = 0.0
    cpu_util_p90_pct: float = 0.0
    mem_bytes_p50: int = 0
    mem_bytes_p90: int = 0
    mem_limit_bytes: int = 0
    mem_util_p50_pct: float = 0.0
    mem_util_p90_pct: float = 0.0


@dataclass(frozen=True)
class Series:
    """One metric's samples: ``(timestamp, value)`` oldest first; ``None`` when the metric has no series."""

    metric: str
    unit: str
    points: list[tuple[float, float]] | None


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``values`` (sorted or not), interpolating between neighbours."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class _Reading:
    at: float
    sample: ResourceSample


class MetricsSampler:
    """Samples the running sandboxes into the store and answers summaries and series (see the module doc)."""

    def __init__(self, runtime: Runtime, clock: Clock, interval: float = DEFAULT_INTERVAL) -> None:
        self._runtime = runtime
        self._clock = clock
        #: Seconds between samplings; 0 samples nothing.
        self.interval = interval
        self._table: MetricsTable | None = None
        self._last: dict[str, _Reading] = {}
        self._task: asyncio.Task[None] | None = None
        self._ticks = 0

    @property
    def table(self) -> MetricsTable:
        """The store's samples (once started)."""
        if self._table is None:
            raise RuntimeError("the metrics sampler is not started")
        return self._table

    def start(self, table: MetricsTable, running: Callable[[], dict[str, float]]) -> None:
        """Sample ``running()`` (running sandbox ids -> when each started) every ``interval`` seconds."""
        self._table = table
        if self.interval > 0 and self._runtime.capabilities.metrics:
            self._task = asyncio.ensure_future(self._run(running))

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, running: Callable[[], dict[str, float]]) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sample(running())
            except Exception:
                logger.exception("sampling sandbox metrics failed")

    async def sample(self, started: dict[str, float]) -> None:
        """Sample these running sandboxes (id -> when it started) once, and store the rows."""
        if not started:
            self._last.clear()
            return
        readings = await self._runtime.sample(list(started))
        now = self._clock.time()
        rows: list[MetricRow] = []
        last: dict[str, _Reading] = {}
        for sandbox_id, sample in readings.items():
            previous = self._last.get(sandbox_id) or _Reading(started[sandbox_id], ResourceSample(0.0, 0, 0, 0))
            # When the runtime read this sandbox's counters, if it says: the calls for many sandboxes take a while.
            at = sample.read_at if sample.read_at is not None else now
            elapsed = at - previous.at
            last[sandbox_id] = _Reading(at, sample)
            if elapsed < 0.1:
                continue  # too short to say a rate
            cpu = max(sample.cpu_seconds - previous.sample.cpu_seconds, 0.0) / elapsed
            rx = _rate(sample.rx_bytes, previous.sample.rx_bytes, elapsed)
            tx = _rate(sample.tx_bytes, previous.sample.tx_bytes, elapsed)
            rows.append((sandbox_id, at, cpu, sample.memory_bytes, rx, tx))
        self._last = last
        if rows:
            self.table.insert(rows)
        self._ticks += 1
        if self._ticks % _PRUNE_EVERY == 0:
            self.table.prune(now - RETENTION, MAX_ROWS)

    # Answers

    def summary(self, record: SandboxRecord, since: float | None) -> Summary:
        """Percentiles of the sandbox's samples since ``since`` (seconds since the epoch; the last hour when None)."""
        now = self._clock.time()
        window = DEFAULT_WINDOW if since is None else now - since
        if window <= 0:
            raise errors.BadRequest("since is in the future; give a time in the past or a duration such as 30m")
        window = min(window, MAX_WINDOW)
        start = now - window
        cpu = self.table.values(record.id, "cpu_cores", start, now)
        memory = self.table.values(record.id, "memory_bytes", start, now)
        cpu_limit = (record.cpu_millis or 0) / 1000
        memory_limit = record.memory_bytes or 0
        if not cpu or not memory:
            return Summary(round(window), False, cpu_limit_cores=cpu_limit, mem_limit_bytes=memory_limit)
        cpu50, cpu90 = percentile(cpu, 0.5), percentile(cpu, 0.9)
        mem50, mem90 = round(percentile(memory, 0.5)), round(percentile(memory, 0.9))
        return Summary(
            window_seconds=round(window),
            has_data=True,
            cpu_cores_p50=cpu50,
            cpu_cores_p90=cpu90,
            cpu_limit_cores=cpu_limit,
            cpu_util_p50_pct=_pct(cpu50, cpu_limit),
            cpu_util_p90_pct=_pct(cpu90, cpu_limit),
            mem_bytes_p50=mem50,
            mem_bytes_p90=mem90,
            mem_limit_bytes=memory_limit,
            mem_util_p50_pct=_pct(mem50, memory_limit),
            mem_util_p90_pct=_pct(mem90, memory_limit),
        )

    def series(self, record: SandboxRecord, metric: str, start: float, end: float) -> Series:
        """The sandbox's samples of ``metric`` in ``[start, end]``."""
        if end < start:
            raise errors.BadRequest("end_time_utc is before start_time_utc; give the range oldest time first")
        column, unit = METRICS[metric]
        points = self.table.series(record.id, column, start, end, MAX_POINTS)
        if metric in ("cpu_reserved", "memory_reserved"):
            limit = (record.cpu_millis or 0) / 1000 if metric == "cpu_reserved" else float(record.memory_bytes or 0)
            # What is reserved is the limit, at each time the sandbox was sampled; nothing without one.
            return Series(metric, unit, [(ts, limit) for ts, _ in points] if limit else None)
        return Series(metric, unit, points or None)


def _rate(now: int | None, before: int | None, elapsed: float) -> float | None:
    if now is None:
        return None
    return max(now - (before or 0), 0) / elapsed


def _pct(value: float, limit: float) -> float:
    return value / limit * 100 if limit else 0.0

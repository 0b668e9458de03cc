"""What the flood tests measure of a running server: its peak memory, and how fast ``/healthz`` answers meanwhile.

Peak memory is the kernel's own high-water mark of the server process's
resident set (``VmHWM``), reset before a flood by writing ``5`` to its
``clear_refs``, so a spike between two samples cannot be missed. ``/healthz``
is asked every ``interval`` seconds from a thread of its own, on a kept-alive
connection, for as long as the flood lasts.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

import httpx


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def resident_bytes(pid: int) -> int:
    """The process's resident set now."""
    return _status_kib(pid, "VmRSS") * 1024


def reset_peak(pid: int) -> int:
    """Start measuring the peak afresh (``clear_refs``); answer the resident set now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return resident_bytes(pid)


def peak_bytes(pid: int) -> int:
    """The process's peak resident set since ``reset_peak`` (or its start)."""
    return _status_kib(pid, "VmHWM") * 1024


class HealthProbe:
    """Asks ``/healthz`` every ``interval`` seconds while in the ``with`` block; keeps each answer's latency."""

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self._url = url
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def _run(self) -> None:
        with httpx.Client(base_url=self._url, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    answer = client.get("/healthz")
                    if answer.status_code != 200:
                        self.failures.append(f"{answer.status_code} {answer.text[:200]}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                self.latencies.append(time.perf_counter() - started)
                self._stop.wait(self._interval)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def percentile(self, fraction: float) -> float:
        """The latency below which ``fraction`` of the answers came, in seconds."""
        ordered = sorted(self.latencies)
        assert ordered, "/healthz was never asked"
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    def summary(self) -> str:
        """A line for the test's output: how many answers, and their p50, p99 and worst."""
        return (
            f"/healthz: {len(self.latencies)} answers, p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, worst {max(self.latencies) * 1000:.1f} ms"
        )

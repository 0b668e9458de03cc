"""Sandboxes started ahead (``serve --pool N``), for the runtimes that keep them: the pool itself.

``SandboxPool`` keeps up to ``size`` started, unassigned sandboxes of one
runtime, refilled one at a time once launches pause, and hands one to a
launch that fits. What a pooled sandbox is, what fits, and how one becomes
the requested sandbox is each runtime's: ``process.pool`` and
``docker.pool``. A pooled sandbox serves one launch and never returns to
the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

#: A launch that took a sandbox leaves the CPU to the launches after it this long before the pool refills.
REFILL_DELAY = 0.1
#: After a failed start, the pool waits this long before it tries again (doubling, up to ``_RETRY_MAX``).
_RETRY_FIRST = 1.0
_RETRY_MAX = 60.0

T = TypeVar("T")


class SandboxPool(Generic[T]):
    """Up to ``size`` started, unassigned sandboxes, refilled one at a time as launches take them.

    ``start`` starts one, ``discard`` stops one. ``usable`` says whether one
    that waited can still serve (a process sandbox whose agent went away
    cannot); ``watch(sandbox, lost)``, where given, calls ``lost()`` when a
    waiting sandbox ends by itself, and the pool replaces it.
    """

    def __init__(
        self,
        size: int,
        start: Callable[[], Awaitable[T]],
        discard: Callable[[T], Awaitable[None]],
        usable: Callable[[T], bool] = lambda _: True,
        watch: Callable[[T, Callable[[], None]], None] | None = None,
    ) -> None:
        self.size = size
        self._start = start
        self._discard = discard
        self._usable = usable
        self._watch = watch
        self._ready: deque[T] = deque()
        self._filler: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._refill: asyncio.TimerHandle | None = None
        self._closed = False
        #: Launches served from the pool, and pooled sandboxes that failed to start (for the log and tests).
        self.served = 0
        self.failed_starts = 0
        self._filled_once = False

    @property
    def ready(self) -> int:
        """How many pooled sandboxes wait for a launch."""
        return len(self._ready)

    def take(self, fits: Callable[[T], bool] = lambda _: True) -> T | None:
        """A started sandbox that ``fits``, or None; the pool starts others in the background.

        Waiting sandboxes that cannot serve, or do not fit (they were started
        for launches of another shape), are stopped on the way.
        """
        sandbox = None
        while self._ready:
            candidate = self._ready.popleft()
            if self._usable(candidate) and fits(candidate):
                sandbox = candidate
                self.served += 1
                break
            self._later(self._discard(candidate))
        self._refill_later()
        return sandbox

    def keep_only(self, fits: Callable[[T], bool]) -> None:
        """Stop the waiting sandboxes that do not fit (started for launches of another shape); refill."""
        for candidate in [candidate for candidate in self._ready if not fits(candidate)]:
            self._ready.remove(candidate)
            self._later(self._discard(candidate))
        self._refill_later()

    def _refill_later(self) -> None:
        """Refill once launches pause: a burst of them gets the CPU, not sandboxes for later."""
        if self._closed:
            return
        if self._refill is not None:
            self._refill.cancel()
        self._refill = asyncio.get_running_loop().call_later(REFILL_DELAY, self.fill)

    def fill(self) -> None:
        """Start sandboxes until ``size`` are ready (one at a time: launches come first on the CPU)."""
        if self._closed or self._filler is not None or len(self._ready) >= self.size:
            return
        self._filler = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        delay = _RETRY_FIRST
        try:
            while not self._closed and len(self._ready) < self.size:
                try:
                    sandbox = await self._start()
                except Exception as error:  # a pool that cannot start one tries again later
                    self.failed_starts += 1
                    logger.warning("sandbox pool: could not start a sandbox (%s); trying again in %g s", error, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX)
                    continue
                delay = _RETRY_FIRST
                if self._closed:
                    await self._discard(sandbox)
                    return
                self._ready.append(sandbox)
                if self._watch is not None:
                    self._watch(sandbox, functools.partial(self._lost, sandbox))
                self._changed.set()
            if not self._filled_once and len(self._ready) >= self.size:
                self._filled_once = True
                logger.info("sandbox pool: %d sandboxes started and ready", len(self._ready))
        finally:
            self._filler = None

    def _lost(self, sandbox: T) -> None:
        """A waiting sandbox ended by itself before a launch took it: drop it, and start another."""
        if sandbox in self._ready:
            self._ready.remove(sandbox)
            logger.warning("sandbox pool: a pre-started sandbox ended by itself; starting another")
            self._later(self._discard(sandbox))
            self.fill()

    def _later(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def full(self, timeout: float) -> bool:
        """Wait until ``size`` sandboxes are ready (bounded); whether they are."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self._ready) < self.size:
            self.fill()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def close(self) -> None:
        """Stop filling and stop every pooled sandbox."""
        self._closed = True
        if self._refill is not None:
            self._refill.cancel()
        filler = self._filler
        if filler is not None:
            filler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await filler
        ready, self._ready = list(self._ready), deque()
        await asyncio.gather(*(self._discard(sandbox) for sandbox in ready), return_exceptions=True)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10.0)

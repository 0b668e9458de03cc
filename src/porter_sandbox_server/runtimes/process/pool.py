"""Pre-started sandboxes (``serve --pool N``): a launch of the usual shape takes one instead of starting one.

A pooled sandbox is a sandbox like any other, started for no one: bwrap,
its agent (ready, already the sandbox uid), its cgroups, its network
namespace with slirp4netns, firewall and resolver. Nothing runs in it but the
agent, and no request reaches it. A launch it fits takes it and makes it the
requested sandbox before anything of the request runs in it
(``ProcessRuntime._assign``):

- its scratch directory and cgroups are renamed for the sandbox (bind mounts
  and processes stay where they are, so ``/proc/self/mountinfo`` and
  ``/proc/self/cgroup`` name the new sandbox);
- its hostname is set (``set_hostname``, from a thread of the server that joins
  its UTS namespace), and its commands get the requested environment;
- the egress policy replaces its open firewall table in one nft transaction,
  and its resolver and relay answer by that policy from then on.

Only what is fixed when bwrap starts decides whether a launch fits: no
volumes, no snapshot, no CPU limit, and the pool's memory and process limits
(the size of ``/dev/shm`` follows the memory limit). A launch that does not
fit starts a sandbox as usual. A pooled sandbox serves one launch and is
never returned to the pool: nothing of one user can reach another.

What differs from a fresh sandbox: its PID 1 started earlier (its start time
in ``/proc/1/stat``, which also tells, roughly, when the launch before it
took the pooled sandbox it replaced: another user's launch, perhaps), and the
few milliseconds of CPU its agent took to start were counted before the
launch. Pooling needs a root server on cgroup v1 (or
without cgroups): v2 refuses to rename a cgroup, and a non-root server cannot
join a sandbox's UTS namespace to name it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import select
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..base import LaunchSpec
from .sandbox import Sandbox

logger = logging.getLogger(__name__)

_CLONE_NEWUTS = 0x04000000
_libc = ctypes.CDLL(None, use_errno=True)
#: A launch that took a sandbox leaves the CPU to the launches after it this long before the pool refills.
REFILL_DELAY = 0.1
#: After a failed start, the pool waits this long before it tries again (doubling, up to ``_RETRY_MAX``).
_RETRY_FIRST = 1.0
_RETRY_MAX = 60.0


@dataclass(frozen=True)
class PoolSettings:
    """How many sandboxes to keep started, and the limits they are started with."""

    size: int = 0
    #: The memory limit of pooled sandboxes (``serve --default-memory``); None: none.
    memory_bytes: int | None = None
    #: Their process limit (``serve --max-pids``); None: the runtime's default.
    pids_max: int | None = None


def fits(spec: LaunchSpec, settings: PoolSettings, pids_max: Callable[[LaunchSpec], int]) -> bool:
    """Whether a pooled sandbox can become the sandbox ``spec`` asks for (see the module doc)."""
    return (
        not spec.mounts
        and spec.snapshot_id is None
        and spec.cpu_millis is None
        and spec.memory_bytes == settings.memory_bytes
        and pids_max(spec) == pids_max(pooled_spec(settings, "-"))
    )


def pooled_spec(settings: PoolSettings, sandbox_id: str) -> LaunchSpec:
    """The spec a pooled sandbox is started with: no command, no env, the pool's limits."""
    return LaunchSpec(
        sandbox_id=sandbox_id,
        name="pooled",
        image="",
        command=None,
        args=None,
        env={},
        tags={},
        memory_bytes=settings.memory_bytes,
        pids_max=settings.pids_max,
    )


def set_hostname(pid: int, pidfd: int, name: str) -> None:
    """Set the hostname of the UTS namespace of ``pid``, whose pidfd is ``pidfd``.

    The calling thread joins that namespace for good: call it on a thread that
    serves this sandbox only (its network thread) or ends afterwards.
    """
    fd = os.open(f"/proc/{pid}/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
    try:
        # Opened while the pidfd's process still runs: the namespace is its (a pid is not reused before).
        # poll, not select: a busy server's descriptors pass FD_SETSIZE (1024), which select refuses.
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if poller.poll(0):
            raise ProcessLookupError(f"the sandbox's init process {pid} has ended")
        if _libc.setns(fd, _CLONE_NEWUTS) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into a sandbox's UTS namespace: {os.strerror(error)}")
    finally:
        os.close(fd)
    encoded = name.encode()
    if _libc.sethostname(encoded, len(encoded)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"sethostname: {os.strerror(error)}")


class SandboxPool:
    """Up to ``size`` started, unassigned sandboxes, refilled one at a time as launches take them."""

    def __init__(
        self,
        settings: PoolSettings,
        start: Callable[[], Awaitable[Sandbox]],
        discard: Callable[[Sandbox], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self._start = start
        self._discard = discard
        self._ready: deque[Sandbox] = deque()
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

    def take(self) -> Sandbox | None:
        """A started sandbox, or None when none is ready; the pool starts another in the background."""
        sandbox = None
        while self._ready:
            candidate = self._ready.popleft()
            if candidate.takes_commands:
                sandbox = candidate
                self.served += 1
                break
            self._later(self._discard(candidate))
        # Refilled once launches pause: a burst of them gets the CPU, not sandboxes for later.
        if self._refill is not None:
            self._refill.cancel()
        self._refill = asyncio.get_running_loop().call_later(REFILL_DELAY, self.fill)
        return sandbox

    def fill(self) -> None:
        """Start sandboxes until ``size`` are ready (one at a time: launches come first on the CPU)."""
        if self._closed or self._filler is not None or len(self._ready) >= self.settings.size:
            return
        self._filler = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        delay = _RETRY_FIRST
        try:
            while not self._closed and len(self._ready) < self.settings.size:
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
                if sandbox.pump is not None:
                    sandbox.pump.add_done_callback(functools.partial(self._lost, sandbox))
                self._changed.set()
            if not self._filled_once and len(self._ready) >= self.settings.size:
                self._filled_once = True
                logger.info("sandbox pool: %d sandboxes started and ready", len(self._ready))
        finally:
            self._filler = None

    def _lost(self, sandbox: Sandbox, _pump: asyncio.Task[None]) -> None:
        """A pooled sandbox's agent went away before a launch took it: drop it, and start another."""
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
        while len(self._ready) < self.settings.size:
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

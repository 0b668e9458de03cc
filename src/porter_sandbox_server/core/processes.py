"""Processes started through the API's extensions: streamed execs, background processes, terminals.

Each ``LiveProcess`` wraps a runtime ``Process``. One task per process (its
pump) reads its output as the runtime delivers it, and:

- logs its lines under its exec id, as far as its ``LogBudget`` allows,
  waiting while the log book takes no more lines (so a process that prints
  faster than its lines are stored is slowed down, as an exec is);
- in the background, keeps the newest ``ring_bytes`` of each stream in an
  ``OutputRing``, whose offsets count every byte the process ever wrote, so a
  reader knows what it missed;
- in the foreground (a streamed exec, a terminal), hands each piece to the
  one client that started it, through a queue of a few pieces: a slow client
  slows the process down and nothing piles up in the server.

A process ends when it exits, when its sandbox ends, or when it is killed:
by ``kill``, by its ``timeout_seconds`` (``SIGKILL`` to its whole process
group; ``timed_out`` says so), or, in the foreground, when its client goes
away (``abandon``).

Each sandbox has a ``ProcessTable``: at most ``max_live`` processes running
at once (what one sandbox's clients can make the server hold), and the newest
``keep_ended`` of those that ended, for their exit codes and output.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..runtimes.base import OutputLimits, Process, RuntimeUnavailable, SandboxGone, StdinClosed, Stream
from ..runtimes.lines import LineSplitter
from ..runtimes.output import LogBudget
from .requests import ProcessRequest

logger = logging.getLogger("porter_sandbox_server")

#: How many pieces of output wait for a foreground process's client before the process waits too.
FOREGROUND_QUEUE = 16
#: How long a pump paused for the log book looks again.
_LOG_RECHECK = 0.01
#: Signals ``kill`` sends, by name.
SIGNALS = {
    name: int(getattr(signal, name))
    for name in ("SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGCONT", "SIGSTOP")
}


@dataclass(frozen=True)
class ProcessLimits:
    """What one sandbox's processes may hold (``serve --max-processes``, ``--process-output``)."""

    #: Processes running at once in one sandbox, foreground and background.
    max_live: int = 16
    #: Ended processes kept per sandbox (their exit codes and output), newest first.
    keep_ended: int = 16
    #: Bytes of each stream a background process keeps (its newest).
    ring_bytes: int = 1024 * 1024


class OutputRing:
    """The newest ``capacity`` bytes of one stream, and where they lie in everything it wrote."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(capacity, 1)
        self._data = bytearray()
        #: The offset of ``_data[0]`` in the stream.
        self._start = 0

    @property
    def end(self) -> int:
        """How many bytes the stream has written: the offset the next byte will have."""
        return self._start + len(self._data)

    @property
    def start(self) -> int:
        """The offset of the oldest byte still kept."""
        return self._start

    def add(self, data: bytes) -> None:
        """Keep ``data``, dropping the oldest bytes beyond the capacity."""
        if len(data) >= self._capacity:
            self._start = self.end + len(data) - self._capacity
            self._data = bytearray(data[-self._capacity :])
            return
        self._data += data
        excess = len(self._data) - self._capacity
        if excess > 0:
            del self._data[:excess]
            self._start += excess

    def read(self, offset: int, limit: int) -> tuple[int, bytes]:
        """``(where the data starts, data)``: at most ``limit`` bytes from ``offset``, or from the oldest kept."""
        begin = min(max(offset, self._start), self.end)
        at = begin - self._start
        return begin, bytes(self._data[at : at + max(limit, 0)])


class LiveProcess:
    """One process started through the extensions, with its pump (see the module doc)."""

    def __init__(
        self,
        *,
        exec_id: str,
        sandbox_id: str,
        request: ProcessRequest,
        background: bool,
        started_at: float,
        process: Process,
        limits: ProcessLimits,
        output_limits: OutputLimits,
        log: Callable[[Stream, str], None],
        accepting: Callable[[], bool],
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        now: Callable[[], float],
    ) -> None:
        self.exec_id = exec_id
        self.sandbox_id = sandbox_id
        self.command = list(request.command)
        self.cwd = request.cwd
        self.background = background
        self.terminal = request.terminal is not None
        self.started_at = started_at
        self.finished_at: float | None = None
        self.exit_code: int | None = None
        #: Killed by its ``timeout_seconds``.
        self.timed_out = False
        #: The last signal ``kill`` sent, by name.
        self.signal: str | None = None
        #: Ended because its sandbox did (it has no exit code of its own).
        self.sandbox_ended = False
        #: Whether ``write_stdin`` may write (it was started with ``stdin_open`` and not closed since).
        self.stdin_open = request.stdin_open
        self._process = process
        self._log = log
        self._accepting = accepting
        self._now = now
        self._budget = LogBudget(output_limits)
        self.stdout = OutputRing(limits.ring_bytes) if background else None
        self.stderr = OutputRing(limits.ring_bytes) if background else None
        self._pieces: asyncio.Queue[tuple[str, bytes]] | None = None if background else asyncio.Queue(FOREGROUND_QUEUE)
        self._abandoned = False
        self._ended = asyncio.Event()
        self._changed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stdin_lock = asyncio.Lock()
        self._on_end: list[Callable[[LiveProcess], None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._spawn = spawn
        if request.timeout_seconds is not None:
            self._timer = asyncio.get_running_loop().call_later(request.timeout_seconds, self._expire)
        self._pump_task = spawn(self._pump())
        if request.stdin is not None:
            spawn(self._feed(request.stdin, close=not request.stdin_open))

    # What it is

    @property
    def running(self) -> bool:
        """Whether it has not ended yet."""
        return not self._ended.is_set()

    def on_end(self, callback: Callable[[LiveProcess], None]) -> None:
        """Call ``callback(self)`` once it ended."""
        if self._ended.is_set():
            callback(self)
        else:
            self._on_end.append(callback)

    # The pump

    async def _pump(self) -> None:
        splitters: dict[Stream, LineSplitter] = {"stdout": LineSplitter(), "stderr": LineSplitter()}
        try:
            while (chunk := await self._process.read()) is not None:
                stream, data = chunk
                await self._log_lines(stream, splitters[stream].feed(data))
                self._deliver(stream, data)
                if self._pieces is not None and not self._abandoned:
                    await self._pieces.put((stream, data))
            for stream, splitter in splitters.items():
                await self._log_lines(stream, splitter.flush())
            self.exit_code = await self._process.wait()
        except SandboxGone:
            self.sandbox_ended = True
        except Exception:
            logger.exception("process %s of sandbox %s failed", self.exec_id, self.sandbox_id)
            self.sandbox_ended = True
        finally:
            await self._end()

    async def _end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.finished_at = self._now()
        self.stdin_open = False
        self._ended.set()
        self._notify()
        with contextlib.suppress(Exception):
            await self._process.close()
        for callback in self._on_end:
            callback(self)
        self._on_end.clear()
        if self._pieces is not None and not self._abandoned:
            await self._pieces.put(("exit", b""))

    async def _log_lines(self, stream: Stream, lines: list[str]) -> None:
        for line in lines:
            if self._budget.spent():
                return
            while not self._accepting():
                await asyncio.sleep(_LOG_RECHECK)
            if not self._budget.take(line):
                note = self._budget.note()
                if note is not None:
                    self._log(stream, note)
                return
            self._log(stream, line)

    def _deliver(self, stream: Stream, data: bytes) -> None:
        ring = self.stdout if stream == "stdout" else self.stderr
        if ring is not None:
            ring.add(data)
            self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.get_running_loop().create_future()
        changed.set_result(None)

    # Foreground

    async def next_piece(self) -> tuple[Stream, bytes] | None:
        """The next piece of its output, ``(stream, bytes)``; ``None`` once it ended.

        For the one client of a foreground process. Cancelling a wait loses nothing.
        """
        assert self._pieces is not None, "a background process has no client to stream to"
        kind, data = await self._pieces.get()
        if kind == "exit":
            self._pieces.put_nowait((kind, data))  # asked again, it answers the end again
            return None
        return ("stdout" if kind == "stdout" else "stderr"), data

    def abandon(self) -> None:
        """Its client went away: kill it (its whole group) unless it ended, and stream to nobody."""
        if self._abandoned:
            return
        self._abandoned = True
        if self._pieces is not None:
            while not self._pieces.empty():
                self._pieces.get_nowait()
            self._pieces.put_nowait(("exit", b""))  # a client side still waiting sees the end
        if self.running:
            self._spawn(self._kill_quietly(signal.SIGKILL))

    # Control

    def _expire(self) -> None:
        self._timer = None
        if self.running:
            self.timed_out = True
            self._spawn(self._kill_quietly(signal.SIGKILL))

    async def _kill_quietly(self, signum: int) -> None:
        try:
            await self._process.signal(signum)
        except RuntimeUnavailable as error:
            logger.warning("could not signal process %s of sandbox %s: %s", self.exec_id, self.sandbox_id, error)

    async def kill(self, signame: str) -> None:
        """Send the signal named ``signame`` to its whole process group (nothing once it ended)."""
        if not self.running:
            return
        self.signal = signame
        try:
            await self._process.signal(SIGNALS[signame])
        except RuntimeUnavailable as error:
            raise errors.Unavailable(f"could not signal process {self.exec_id}: {error}") from None

    async def write_stdin(self, data: bytes, close: bool) -> None:
        """Write ``data`` to its stdin (in order with other writes), then close it when ``close``."""
        if not self.stdin_open:
            why = "it ended" if not self.running else "it was started without stdin_open, or its stdin was closed"
            raise errors.Conflict(f"process {self.exec_id} takes no more stdin: {why}")
        async with self._stdin_lock:
            if not self.stdin_open:
                raise errors.Conflict(f"process {self.exec_id} takes no more stdin: its stdin was closed")
            try:
                if data:
                    await self._process.write(data)
                if close:
                    self.stdin_open = False
                    await self._process.close_stdin()
            except StdinClosed as error:
                self.stdin_open = False
                raise errors.Conflict(f"process {self.exec_id} takes no more stdin: {error}") from None

    async def _feed(self, data: bytes, close: bool) -> None:
        async with self._stdin_lock:
            try:
                if data:
                    await self._process.write(data)
                if close:
                    await self._process.close_stdin()
            except StdinClosed:
                self.stdin_open = False  # it stopped reading: what it did not read is dropped, as a pipe does

    async def resize(self, rows: int, cols: int) -> None:
        """Set its terminal's size (a no-op without one)."""
        from ..runtimes.base import TerminalSize

        await self._process.resize(TerminalSize(rows, cols))

    async def wait(self, timeout: float) -> None:
        """Return once it ended, or after ``timeout`` seconds."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ended.wait(), timeout)

    async def wait_for_output(self, stdout_offset: int, stderr_offset: int, timeout: float) -> None:
        """Return once either stream has bytes past its offset, it ended, or ``timeout`` seconds passed."""
        if self.stdout is None or self.stderr is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.running and self.stdout.end <= stdout_offset and self.stderr.end <= stderr_offset:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._changed), remaining)


class ProcessTable:
    """One sandbox's processes: at most ``max_live`` running, the newest ``keep_ended`` ended ones kept."""

    def __init__(self, limits: ProcessLimits) -> None:
        self._limits = limits
        self._processes: dict[str, LiveProcess] = {}
        #: Processes being started (a place each holds, so starts under way cannot pass the cap together).
        self._starting = 0

    def check_room(self, sandbox_id: str) -> None:
        """``Conflict`` while ``max_live`` processes run (or are starting) in the sandbox."""
        live = self._starting + sum(1 for process in self._processes.values() if process.running)
        if live >= self._limits.max_live:
            raise errors.Conflict(
                f"sandbox {sandbox_id} runs {live} processes started through the API, the most it may "
                f"(serve --max-processes); wait for some to end or kill them, then retry"
            )

    @contextlib.contextmanager
    def starting(self, sandbox_id: str) -> Iterator[None]:
        """Hold a place for a process being started (``Conflict`` when there is none); ``add`` it inside."""
        self.check_room(sandbox_id)
        self._starting += 1
        try:
            yield
        finally:
            self._starting -= 1

    def add(self, process: LiveProcess) -> None:
        """Track ``process``; once it ends, the oldest ended ones beyond ``keep_ended`` are forgotten."""
        self._processes[process.exec_id] = process
        process.on_end(lambda _ended: self._prune())

    def _prune(self) -> None:
        ended = [exec_id for exec_id, process in self._processes.items() if not process.running]
        for exec_id in ended[: max(len(ended) - self._limits.keep_ended, 0)]:
            del self._processes[exec_id]

    def get(self, sandbox_id: str, exec_id: str) -> LiveProcess:
        """The process; ``NotFound`` when the sandbox has no such one (any more)."""
        process = self._processes.get(exec_id)
        if process is None:
            raise errors.NotFound(
                f"sandbox {sandbox_id} has no process {exec_id!r} (an ended one is kept only among the newest "
                f"{self._limits.keep_ended}); list them with GET /x/v1/sandbox/{sandbox_id}/processes"
            )
        return process

    def remove(self, exec_id: str) -> None:
        """Forget the process."""
        self._processes.pop(exec_id, None)

    def all(self) -> list[LiveProcess]:
        """Every process, oldest first."""
        return list(self._processes.values())


class ProcessBook:
    """The process tables of the sandboxes; those of ended sandboxes are kept for a while (the newest 64)."""

    KEEP_ENDED_SANDBOXES = 64

    def __init__(self, limits: ProcessLimits) -> None:
        self.limits = limits
        self._tables: dict[str, ProcessTable] = {}
        self._ended: collections.OrderedDict[str, None] = collections.OrderedDict()

    def table(self, sandbox_id: str) -> ProcessTable:
        """The sandbox's table, made on first use."""
        table = self._tables.get(sandbox_id)
        if table is None:
            table = self._tables[sandbox_id] = ProcessTable(self.limits)
        return table

    def find(self, sandbox_id: str) -> ProcessTable | None:
        """The sandbox's table, when it has one."""
        return self._tables.get(sandbox_id)

    def sandbox_ended(self, sandbox_id: str) -> None:
        """Keep its table a while longer (its processes end with it); forget the oldest ended sandboxes'."""
        if sandbox_id not in self._tables:
            return
        self._ended[sandbox_id] = None
        while len(self._ended) > self.KEEP_ENDED_SANDBOXES:
            oldest, _ = self._ended.popitem(last=False)
            self._tables.pop(oldest, None)

    def running(self) -> list[LiveProcess]:
        """Every process still running, in every sandbox."""
        return [process for table in self._tables.values() for process in table.all() if process.running]

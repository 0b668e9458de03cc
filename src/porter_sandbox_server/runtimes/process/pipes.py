"""Reading a sandbox's pipes on the event loop: output lines for the logs, and bwrap's or the agent's stderr."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..base import RuntimeEvents, Stream
from ..lines import LineSplitter
from ..output import CappedOutput, LogBudget

logger = logging.getLogger(__name__)


#: Output is cut into lines at most this many bytes at a time, so that one loop turn does bounded work
#: (a pipe's 64 KiB of one-character lines is 32,768 lines: 40 ms of work and more, too long for the API
#: to wait; 4 KiB is a few milliseconds at most).
_SLICE = 4 * 1024
#: A reader stops reading its pipe while this much read output waits to be cut into lines.
_BACKLOG = 256 * 1024
#: How often a reader paused for the service's log backlog looks again.
_RECHECK = 0.01


class OutputReader(asyncio.Protocol):
    """Reads one pipe of a process: reports its lines through ``events.log``, and keeps an exec's answer.

    ``answer`` (an exec's) keeps the first bytes of the stream, up to its
    cap. Lines are reported while ``budget`` allows (an exec's; the main
    process has none) and only as fast as the service takes them: while
    ``events.accepting_logs()`` is false, output waits here, and once
    ``_BACKLOG`` bytes wait the reader stops reading its pipe, so the process
    blocks on its next write. (A process that has exited left at most a
    pipe's worth, which still fits: its answer is whole.) Past the budget,
    output is read and dropped at pipe speed.
    """

    def __init__(
        self,
        events: RuntimeEvents,
        sandbox_id: str,
        exec_id: str,
        stream: Stream,
        answer: CappedOutput | None = None,
        budget: LogBudget | None = None,
    ) -> None:
        self._events = events
        self._sandbox_id = sandbox_id
        self._exec_id = exec_id
        self._stream = stream
        self.answer = answer
        self._budget = budget
        self._logging = True
        self._unsplit = bytearray()
        self._lines = LineSplitter()
        self._loop = asyncio.get_running_loop()
        self._draining = False
        self._paused = False
        self._eof = False
        self.transport: asyncio.BaseTransport | None = None
        #: Set once the pipe closed: the answer is complete.
        self.closed: asyncio.Future[None] = self._loop.create_future()
        #: Set once the pipe closed and every line was reported.
        self.done: asyncio.Future[None] = self._loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's pipe transports are not asyncio.ReadTransport subclasses: keep the base type.
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.answer is not None:
            self.answer.add(data)
        if not self._logging:
            return
        self._unsplit += data
        if len(self._unsplit) > _BACKLOG:
            self._pause()
        if not self._draining:
            self._drain()

    def _drain(self) -> None:
        """Cut a slice of the waiting output into lines and report them; come back for the rest."""
        self._draining = False
        if self._unsplit and self._logging:
            if not self._accepting():
                self._draining = True
                self._loop.call_later(_RECHECK, self._drain)
                return
            piece = bytes(self._unsplit[:_SLICE])
            del self._unsplit[:_SLICE]
            self._emit(self._lines.feed(piece))
            if len(self._unsplit) <= _BACKLOG // 2:
                self._resume()
            if self._unsplit and self._logging:
                self._draining = True
                self._loop.call_soon(self._drain)
                return
        self._resume()
        if self._eof:
            self._finish()

    def _accepting(self) -> bool:
        try:
            return self._events.accepting_logs()
        except Exception:  # the service's bug must not stop our reader
            logger.exception("events.accepting_logs failed")
            return True

    def _emit(self, lines: list[str]) -> None:
        budget = self._budget
        for line in lines:
            if budget is not None and not budget.take(line):
                self._stop_logging()
                return
            try:
                self._events.log(self._sandbox_id, self._exec_id, self._stream, line)
            except Exception:  # the service's bug must not kill our reader
                logger.exception("events.log failed")

    def _stop_logging(self) -> None:
        """The budget is spent: say so once (per exec), then only read and drop."""
        self._logging = False
        self._unsplit = bytearray()
        self._lines = LineSplitter()
        note = self._budget.note() if self._budget is not None else None
        if note is not None:
            try:
                self._events.log(self._sandbox_id, self._exec_id, self._stream, note)
            except Exception:
                logger.exception("events.log failed")
        self._resume()

    def _pause(self) -> None:
        if not self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = True
            self.transport.pause_reading()  # type: ignore[attr-defined]

    def _resume(self) -> None:
        if self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = False
            self.transport.resume_reading()  # type: ignore[attr-defined]

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if not self.closed.done():
            self.closed.set_result(None)
        if not self._draining:
            self._finish()

    def _finish(self) -> None:
        if self.done.done():
            return
        if self._logging:
            self._emit(self._lines.flush())
        self.done.set_result(None)

    def close(self) -> None:
        """Stop reading (the pipe's other end may stay open in a background process)."""
        if self.transport is not None:
            self.transport.close()
        self._logging = False
        self._unsplit = bytearray()


class _LibuvOwned:
    """A pipe's read end as uvloop's ``connect_read_pipe`` takes it: libuv closes the descriptor, so this never does."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        """Nothing: libuv closed the descriptor already (see ``pipe_file``)."""


def pipe_file(fd: int) -> Any:
    """What ``connect_read_pipe`` is given for the read end ``fd``; its transport then owns ``fd``.

    asyncio's transport closes the file it was given. uvloop's closes the
    descriptor itself (libuv), then closes the file as well: a second close of
    that number, and if another thread opened a file in between (a scratch
    removal, a store checkpoint; a syscall needs no GIL) it got that number, so
    its file, or later a pidfd or a client's connection, is closed under it.
    So uvloop gets an object whose close does nothing.
    """
    if type(asyncio.get_running_loop()).__module__.startswith("uvloop"):
        return _LibuvOwned(fd)
    return open(fd, "rb", buffering=0)


async def read_pipe(fd: int, reader: asyncio.Protocol) -> None:
    """Feed ``reader`` from the pipe's read end ``fd``, which it now owns (closed on failure too)."""
    loop = asyncio.get_running_loop()
    pipe = pipe_file(fd)
    try:
        await loop.connect_read_pipe(lambda: reader, pipe)
    except BaseException:
        pipe.close()
        raise


class StderrReader(asyncio.Protocol):
    """Keeps the last few KiB that bwrap or the agent wrote; passes each chunk to ``listener``."""

    def __init__(self) -> None:
        self.tail = b""
        self.listener: Callable[[bytes], None] | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.tail = (self.tail + data)[-4096:]
        if self.listener is not None:
            self.listener(data)

    def eof_received(self) -> bool | None:
        return None  # close the transport (uvloop keeps it open on True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)

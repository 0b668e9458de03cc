"""What every runtime's ``Process`` shares: a bounded queue of output, and a process that never started.

``ChunkQueue`` sits between the readers of a process's output (asyncio
transports, or a thread reading a socket) and the caller's ``read``. It holds
at most about ``HIGH_WATER`` bytes: past that it pauses its producers (a
transport stops reading its pipe, a thread waits), so the process blocks on
its next write; once the caller has taken half of it, they go on. So however
fast a process prints and however slowly its client reads, the server holds a
bounded amount.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable, Iterable

from .base import OutputChunk, Process, StdinClosed, Stream, TerminalSize

#: Bytes a queue holds before it pauses its producers.
HIGH_WATER = 256 * 1024
#: The most one ``get`` joins into one chunk (consecutive pieces of one stream).
MAX_CHUNK = 64 * 1024


class ChunkQueue:
    """Output between a process's readers and its caller: bounded, in order per stream (see the module doc).

    Every method but ``put_from_thread`` runs on the event loop.
    """

    def __init__(self, streams: Iterable[Stream], high_water: int = HIGH_WATER) -> None:
        self._loop = asyncio.get_running_loop()
        self._chunks: collections.deque[OutputChunk] = collections.deque()
        self._size = 0
        self._open: set[Stream] = set(streams)
        self._high = high_water
        self._waiter: asyncio.Future[None] | None = None
        self._flows: list[Callable[[bool], None]] = []
        #: Set while producers may go on; threads wait on it.
        self.room = threading.Event()
        self.room.set()
        self._resumed = asyncio.Event()
        self._resumed.set()

    @property
    def paused(self) -> bool:
        """Whether the producers are paused (the caller has not taken what waits)."""
        return not self.room.is_set()

    def add_flow(self, flow: Callable[[bool], None]) -> None:
        """Call ``flow(True)`` to pause a producer and ``flow(False)`` to resume it."""
        self._flows.append(flow)
        if self.paused:
            flow(True)

    def put(self, stream: Stream, data: bytes) -> None:
        """Take the next bytes of ``stream``; pause the producers once too much waits."""
        if not data or stream not in self._open:
            return
        self._chunks.append((stream, data))
        self._size += len(data)
        self._wake()
        if self._size >= self._high and not self.paused:
            self.room.clear()
            self._resumed.clear()
            for flow in self._flows:
                flow(True)

    def put_from_thread(self, stream: Stream, data: bytes, stopped: Callable[[], bool]) -> bool:
        """``put`` from a reader thread, waiting while the queue is full; False once ``stopped()`` (or the loop closed)."""
        while not self.room.wait(0.5):
            if stopped():
                return False
        try:
            self._loop.call_soon_threadsafe(self.put, stream, data)
        except RuntimeError:  # the loop is closed: the server is gone
            return False
        return True

    def end(self, stream: Stream) -> None:
        """``stream`` has no more output."""
        self._open.discard(stream)
        self._wake()

    def end_all(self) -> None:
        """No stream has more output; what waits is still read."""
        self._open.clear()
        self._wake()

    def discard(self) -> None:
        """Drop what waits and end every stream (the caller will read no more)."""
        self._chunks.clear()
        self._size = 0
        self.end_all()
        self._unpause()

    def call_from_thread(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the queue's event loop (a thread's way to ``end`` a stream)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody reads any more
            self._loop.call_soon_threadsafe(function)

    async def get(self) -> OutputChunk | None:
        """The next output (consecutive pieces of one stream joined); ``None`` once every stream ended."""
        while not self._chunks:
            if not self._open:
                return None
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        stream, data = self._chunks.popleft()
        if self._chunks and self._chunks[0][0] == stream and len(data) < MAX_CHUNK:
            parts = [data]
            size = len(data)
            while self._chunks and self._chunks[0][0] == stream and size + len(self._chunks[0][1]) <= MAX_CHUNK:
                piece = self._chunks.popleft()[1]
                parts.append(piece)
                size += len(piece)
            data = b"".join(parts)
        self._size -= len(data)
        if self.paused and self._size <= self._high // 2:
            self._unpause()
        return stream, data

    async def wait_unpaused(self) -> None:
        """Return once the producers may go on."""
        await self._resumed.wait()

    def _unpause(self) -> None:
        if self.paused:
            self.room.set()
            self._resumed.set()
            for flow in self._flows:
                flow(False)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class NeverStarted(Process):
    """A process that could not start: it wrote why on stderr and exited with ``exit_code`` (127 or 126)."""

    def __init__(self, exit_code: int, message: str) -> None:
        self._exit_code = exit_code
        self._output: list[OutputChunk] = [("stderr", (message.rstrip("\n") + "\n").encode("utf-8", "replace"))]

    async def read(self) -> OutputChunk | None:
        """Its one line of stderr, then nothing."""
        return self._output.pop() if self._output else None

    async def write(self, data: bytes) -> None:
        """It never ran: there is no stdin."""
        raise StdinClosed("the process did not start")

    async def close_stdin(self) -> None:
        """Nothing to close."""

    async def signal(self, signum: int) -> None:
        """Nothing to signal."""

    async def resize(self, size: TerminalSize) -> None:
        """No terminal."""

    async def wait(self) -> int:
        """127 when the program does not exist, 126 when it cannot run."""
        return self._exit_code

    async def close(self) -> None:
        """Nothing held."""
        self._output.clear()

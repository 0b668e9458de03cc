"""Processes the agent started with ``RUN``: their output read into a bounded queue, their stdin, their end.

The server holds the read ends of a process's stdout and stderr pipes (or,
on a terminal, the master the agent sent back) and the write end of its
stdin. ``ChunkReader`` feeds a ``ChunkQueue`` from a pipe and stops reading it
while the queue is full; ``PipeWriter`` writes stdin without blocking the
event loop. ``AgentProcess`` is the ``Process`` the runtime answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections.abc import Awaitable, Callable

from ..base import OutputChunk, Process, SandboxGone, StdinClosed, Stream, TerminalSize
from ..processes import ChunkQueue

#: Once a process exited, how long (of reading, not of waiting for its caller) its pipes may stay open
#: before what its leftover children write is dropped.
EXIT_GRACE = 0.5


class ChunkReader(asyncio.Protocol):
    """Reads one pipe (or a terminal's master) of a process into its queue, pausing while the queue is full."""

    def __init__(self, queue: ChunkQueue, stream: Stream) -> None:
        self._queue = queue
        self._stream = stream
        self.transport: asyncio.BaseTransport | None = None
        #: Set once the pipe closed (for a terminal: once no process holds it open).
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self._queue.add_flow(self._flow)

    def _flow(self, paused: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if paused:
            transport.pause_reading()  # type: ignore[attr-defined]
        else:
            transport.resume_reading()  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self._queue.put(self._stream, data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        # A terminal's master reads EIO once no process holds the terminal: its end, too.
        self._queue.end(self._stream)
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        """Stop reading (a leftover child may hold the pipe's other end)."""
        if self.transport is not None:
            self.transport.close()
        self._queue.end(self._stream)


class PipeWriter:
    """Writes a process's stdin (a pipe's write end, or a terminal's master) without blocking the event loop."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self._waiting: asyncio.Future[None] | None = None

    async def write(self, data: bytes) -> None:
        """Write all of ``data``, waiting while the pipe is full; ``StdinClosed`` when it is closed."""
        loop = asyncio.get_running_loop()
        view = memoryview(data)
        while view:
            if self.fd < 0:
                raise StdinClosed("the process's stdin is closed")
            try:
                written = os.write(self.fd, view[: 1 << 16])
            except BlockingIOError:
                self._waiting = loop.create_future()
                loop.add_writer(self.fd, _settle, self._waiting)
                try:
                    await self._waiting
                finally:
                    self._waiting = None
                    if self.fd >= 0:
                        loop.remove_writer(self.fd)
                continue
            except OSError as error:  # EPIPE: it closed its stdin or ended; EIO: its terminal is gone
                raise StdinClosed(f"the process does not read its stdin any more ({error.strerror})") from None
            view = view[written:]

    def close(self) -> None:
        """Close it (the process reads end of file); a write waiting now fails."""
        if self.fd < 0:
            return
        fd, self.fd = self.fd, -1
        if self._waiting is not None:
            asyncio.get_running_loop().remove_writer(fd)
            if not self._waiting.done():
                self._waiting.set_exception(StdinClosed("the process's stdin was closed"))
        os.close(fd)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class AgentProcess(Process):
    """A process the agent started: output from its queue, stdin through a ``PipeWriter``, signals through the agent.

    ``ended`` is the agent's answer for its token (``EXITED`` with the wait
    status); ``exit_code`` turns that status into an exit code; ``oom_note``
    says whether the sandbox's memory limit killed it. ``signal_group``
    sends ``SIGNAL`` to the agent; ``release`` forgets the token.
    """

    def __init__(
        self,
        *,
        queue: ChunkQueue,
        readers: list[ChunkReader],
        stdin: PipeWriter | None,
        terminal: bool,
        ended: asyncio.Future[tuple[bytes, list[bytes]]],
        exit_code: Callable[[int], int],
        oom_note: Callable[[int], str | None],
        signal_group: Callable[[int], Awaitable[None]],
        release: Callable[[], None],
    ) -> None:
        self._queue = queue
        self._readers = readers
        self._stdin = stdin
        #: Whether it runs on a terminal (then ``stdin`` writes to the terminal's master).
        self._terminal = terminal
        self._ended = ended
        self._exit_code_of = exit_code
        self._oom_note = oom_note
        self._signal_group = signal_group
        self._release = release
        self._code: int | None = None
        self._closed = False
        self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        """Once it exited: note a memory kill, read what its pipes still hold, then end the output."""
        try:
            _kind, fields = await asyncio.shield(self._ended)
            self._code = self._exit_code_of(int(fields[0])) if fields and fields[0].isdigit() else -1
        except SandboxGone:
            pass
        else:
            note = self._oom_note(self._code)
            if note is not None:
                self._queue.put("stderr", (note + "\n").encode())
        finally:
            self._release()
        closed = [reader.closed for reader in self._readers if not reader.closed.done()]
        loop = asyncio.get_running_loop()
        budget = EXIT_GRACE
        while closed and budget > 0:
            if self._queue.paused:
                await self._queue.wait_unpaused()  # the caller reads slowly: its time, not ours
                continue
            started = loop.time()
            await asyncio.wait(closed, timeout=min(budget, 0.05))
            budget -= loop.time() - started
            closed = [future for future in closed if not future.done()]
        for reader in self._readers:
            reader.close()

    async def read(self) -> OutputChunk | None:
        """The next output, as the process writes it; ``None`` once it is over."""
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        """Write to its stdin (or, on a terminal, type into it)."""
        if self._stdin is None:
            raise StdinClosed("the process was started without a stdin")
        await self._stdin.write(data)

    async def close_stdin(self) -> None:
        """Close its stdin; on a terminal, type end of file (Ctrl-D) instead."""
        if self._stdin is None:
            return
        if self._terminal:
            with contextlib.suppress(StdinClosed):
                await self._stdin.write(b"\x04")
            return
        self._stdin.close()

    async def signal(self, signum: int) -> None:
        """Signal its process group, through the agent."""
        if not self._ended.done():
            await self._signal_group(signum)

    async def resize(self, size: TerminalSize) -> None:
        """Set the terminal's window size: the process gets ``SIGWINCH``."""
        if not self._terminal or self._stdin is None or self._stdin.fd < 0:
            return
        import fcntl
        import termios

        with contextlib.suppress(OSError):
            fcntl.ioctl(self._stdin.fd, termios.TIOCSWINSZ, struct.pack("HHHH", size.rows, size.cols, 0, 0))

    async def wait(self) -> int:
        """Its exit code; ``SandboxGone`` when the sandbox ended first."""
        await asyncio.shield(self._watcher)
        if self._code is None:
            raise SandboxGone("the sandbox ended while the process ran")
        return self._code

    async def close(self) -> None:
        """Stop reading, close its stdin, forget it (it keeps running if it still does)."""
        if self._closed:
            return
        self._closed = True
        for reader in self._readers:
            reader.close()
        self._queue.discard()
        if self._stdin is not None:
            self._stdin.close()
        self._watcher.cancel()  # its end forgets the token

"""Reading a sandbox's pipes on the event loop: output lines for the logs, and bwrap's or the agent's stderr."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..base import RuntimeEvents, Stream
from ..lines import LineSplitter

logger = logging.getLogger(__name__)


class OutputReader(asyncio.Protocol):
    """Reads one pipe: reports each line through ``events.log``, optionally keeps all of it."""

    def __init__(self, events: RuntimeEvents, sandbox_id: str, exec_id: str, stream: Stream, keep: bool) -> None:
        self._events = events
        self._sandbox_id = sandbox_id
        self._exec_id = exec_id
        self._stream = stream
        self._keep = keep
        self._chunks: list[bytes] = []
        self._lines = LineSplitter()
        self.transport: asyncio.BaseTransport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's pipe transports are not asyncio.ReadTransport subclasses: keep the base type.
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._keep:
            self._chunks.append(data)
        self._emit(self._lines.feed(data))

    def _emit(self, lines: list[str]) -> None:
        for line in lines:
            try:
                self._events.log(self._sandbox_id, self._exec_id, self._stream, line)
            except Exception:  # the service's bug must not kill our reader
                logger.exception("events.log failed")

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._emit(self._lines.flush())
        if not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        """Stop reading (the pipe's other end may stay open in a background process)."""
        if self.transport is not None:
            self.transport.close()

    def text(self) -> str:
        """Everything read so far."""
        return b"".join(self._chunks).decode("utf-8", "replace")


async def read_pipe(fd: int, reader: OutputReader) -> None:
    """Feed ``reader`` from the pipe's read end ``fd``, which it now owns (closed on failure too)."""
    loop = asyncio.get_running_loop()
    pipe = open(fd, "rb", buffering=0)  # noqa: SIM115 (the transport owns it)
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

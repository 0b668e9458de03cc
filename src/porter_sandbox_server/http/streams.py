"""Answers that last: newline-delimited JSON streams with keep-alives, and the client going away.

A stream of events (a streamed exec, a followed log) is an
``application/x-ndjson`` answer: one JSON object a line, and an empty line
after ``KEEPALIVE_SECONDS`` of silence, so that proxies and clients with a
read timeout keep the connection. Starlette cancels the stream's producer
when the client goes away (it listens for the disconnect); ``OwnedStream``
then calls its ``on_close`` so what the stream started is stopped even if
the producer never ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

#: An empty line after this many seconds without an event.
KEEPALIVE_SECONDS = 10.0
KEEPALIVE = b"\n"
#: What every stream answers with: never cached, never buffered by a proxy (nginx's header).
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

T = TypeVar("T")


class OwnedStream(StreamingResponse):
    """An NDJSON stream that calls ``on_close`` once it is over, however it ended (the client gone, too)."""

    def __init__(self, content: AsyncIterator[bytes], on_close: Callable[[], None]) -> None:
        super().__init__(content, media_type="application/x-ndjson", headers=STREAM_HEADERS)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


async def until_disconnected(request: Request) -> None:
    """Return once the client of ``request`` (whose body was read) went away."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def unless_disconnected(request: Request, work: Awaitable[T]) -> tuple[bool, Any]:
    """Run ``work`` while watching the client: ``(True, its result)``, or ``(False, None)`` once the client left."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(until_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    return False, None

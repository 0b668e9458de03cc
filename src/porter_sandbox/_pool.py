"""The gate in front of the SDK's own connection pool that keeps the pool's queue empty.

httpcore's pool assigns waiting requests to connections by scanning every
waiting request against every connection, on every request that starts or
ends. With a thousand requests in flight through 100 connections (a fan-out
of a thousand sandboxes through one ``AsyncPorter``) that is quadratic: the
client spent 11 s of CPU on it for 300 sandboxes (create, exec, terminate),
seven times what the server spent on them. So the SDK lets at most
:data:`MAX_CONNECTIONS` (httpx's pool size) requests into the pool at once and
queues the rest in a semaphore, which wakes one waiter per freed connection. A
request holds its place until its response is closed (a stream holds it while
it is read), and waits for it at most the request's ``pool`` timeout
(:class:`httpx.PoolTimeout` past it, as httpcore says). httpx's keep-alive of
20 idle connections stays: the pool checks every idle connection on each
request, so keeping all 100 cost more CPU than reconnecting did.

The sync client takes the same gate with a thread semaphore: many threads
sharing one ``Porter`` meet the same queue.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Final

import httpx

from ._tls import LazyTrust

if TYPE_CHECKING:
    import asyncio

#: Requests in flight at once per client: httpx's default pool size.
MAX_CONNECTIONS: Final = 100
LIMITS: Final = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=20)


def _pool_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("pool") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


class _Release:
    """Gives a place back once, however many times the response is closed."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def __call__(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


class _ReleasingStream(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, release: _Release) -> None:
        self._stream = stream
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._release()


class _AsyncReleasingStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: _Release) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


class GatedTransport(httpx.BaseTransport):
    """An ``httpx.HTTPTransport`` with :data:`LIMITS`, entered by at most :data:`MAX_CONNECTIONS` requests at once."""

    def __init__(self) -> None:
        self._trust = LazyTrust()
        self._transport = httpx.HTTPTransport(limits=LIMITS, verify=self._trust.context)
        self._gate = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a place (at most the pool timeout), then send; the place is freed when the response closes."""
        self._trust.before(request)
        if not self._gate.acquire(blocking=False):
            wait = _pool_timeout(request)
            if not self._gate.acquire(timeout=wait):
                raise httpx.PoolTimeout(f"no connection free within {wait} s", request=request)
        release = _Release(self._gate.release)
        try:
            response = self._transport.handle_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _ReleasingStream(response.stream, release)
        return response

    def close(self) -> None:
        """Close the pool's connections."""
        self._transport.close()


class AsyncGatedTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`GatedTransport`."""

    def __init__(self) -> None:
        import asyncio  # here, not at the top: a sync-only user's import stays without it (~10 ms)

        self._trust = LazyTrust()
        self._transport = httpx.AsyncHTTPTransport(limits=LIMITS, verify=self._trust.context)
        self._gate: asyncio.BoundedSemaphore = asyncio.BoundedSemaphore(MAX_CONNECTIONS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a place (at most the pool timeout), then send; the place is freed when the response closes."""
        self._trust.before(request)  # blocks once per client, as httpx's own client does when made
        if self._gate.locked():  # wait_for costs a task: only when there is a wait
            import asyncio

            wait = _pool_timeout(request)
            try:
                await asyncio.wait_for(self._gate.acquire(), wait)
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                raise httpx.PoolTimeout(f"no connection free within {wait} s", request=request) from None
        else:
            await self._gate.acquire()
        release = _Release(self._gate.release)
        try:
            response = await self._transport.handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _AsyncReleasingStream(response.stream, release)
        return response

    async def aclose(self) -> None:
        """Close the pool's connections."""
        await self._transport.aclose()

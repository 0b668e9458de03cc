"""``sandbox.logs(follow=True)``: a sandbox's log lines as they are written, until it ends (sync and async).

One ``GET /x/v1/sandbox/{id}/logs/follow`` whose answer is newline-delimited
JSON: the lines already written (after ``since``, the newest ``limit``), then
each new one, then ``end`` with the phase the sandbox ended in. Read through
the client's own httpx client, with a read timeout longer than the server's
keep-alives. What each event means is decided once, in ``LogEvents``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ._base_client import transport_error
from ._enums import LogLineLevel, member
from ._exceptions import SandboxError
from ._extensions import answer_error, event_of, stream_timeout
from ._models import LogLine

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client

    RawClient = AuthenticatedClient | Client

__all__ = ["AsyncLogStream", "LogStream"]

WHAT = "following logs (logs(follow=True))"


def follow_path(sandbox_id: str) -> str:
    """Where a sandbox's log is followed."""
    return f"/x/v1/sandbox/{sandbox_id}/logs/follow"


class LogEvents:
    """Turns a followed log's events into :class:`LogLine` s, and remembers how the sandbox ended."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.exit_code: int | None = None
        self.done = False

    def take(self, event: Mapping[str, Any] | None) -> LogLine | None:
        """The line an event carries; ``None`` for the end (then ``done``) or a kind this client does not know."""
        if event is None:
            self.done = True
            raise SandboxError("the server's stream of log lines ended before the sandbox did: the connection was cut")
        kind = event.get("type")
        if kind == "line":
            from dateutil.parser import isoparse

            return LogLine(
                timestamp=isoparse(str(event["timestamp"])),
                line=str(event.get("line", "")),
                level=member(LogLineLevel, str(event.get("level", "info"))),
                exec_id=str(event.get("exec_id", "")),
            )
        if kind == "end":
            self.done = True
            self.phase = str(event.get("phase")) if event.get("phase") is not None else None
            self.exit_code = int(event["exit_code"]) if event.get("exit_code") is not None else None
        return None


class LogStream:
    """A sandbox's log lines as they are written, from ``sandbox.logs(follow=True)``; ends when the sandbox ends.

    ::

        with sandbox.logs(follow=True) as lines:
            for line in lines:
                print(line.line)
        print(lines.phase)   # how the sandbox ended

    ``close()`` (or leaving the ``with`` block) stops following; the sandbox runs on.
    """

    def __init__(self, client: RawClient, sandbox_id: str, query: dict[str, Any]) -> None:
        http = client.get_httpx_client()
        self._events = LogEvents()
        request = http.build_request("GET", follow_path(sandbox_id), params=query, timeout=stream_timeout(http.timeout))
        try:
            self._response = http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        if self._response.status_code >= 300:
            content = self._response.read()
            self._response.close()
            raise answer_error(WHAT, self._response.status_code, content)
        self._lines = self._response.iter_lines()

    @property
    def phase(self) -> str | None:
        """The phase the sandbox ended in, once the stream reached its end."""
        return self._events.phase

    @property
    def exit_code(self) -> int | None:
        """The sandbox's main process's exit code, once the stream reached its end (when it had one)."""
        return self._events.exit_code

    def __iter__(self) -> Iterator[LogLine]:
        return self

    def __next__(self) -> LogLine:
        while not self._events.done:
            try:
                line = next(self._lines, None)
            except httpx.TransportError as exc:
                self.close()
                raise transport_error(exc) from exc
            event = event_of(line) if line is not None else None
            if line is not None and event is None:
                continue  # a keep-alive
            try:
                found = self._events.take(event)
            except BaseException:
                self.close()
                raise
            if found is not None:
                return found
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Stop following (the sandbox is not touched)."""
        self._response.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncLogStream:
    """The async twin of :class:`LogStream`: ``async for line in await sandbox.logs(follow=True)``."""

    def __init__(self, client: RawClient, sandbox_id: str) -> None:
        self._http = client.get_async_httpx_client()
        self._sandbox_id = sandbox_id
        self._events = LogEvents()
        self._response: httpx.Response | None = None
        self._lines: Any = None

    async def _open(self, query: dict[str, Any]) -> AsyncLogStream:
        request = self._http.build_request(
            "GET", follow_path(self._sandbox_id), params=query, timeout=stream_timeout(self._http.timeout)
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        self._response = response
        if response.status_code >= 300:
            content = await response.aread()
            await response.aclose()
            raise answer_error(WHAT, response.status_code, content)
        self._lines = response.aiter_lines()
        return self

    @property
    def phase(self) -> str | None:
        """The phase the sandbox ended in, once the stream reached its end."""
        return self._events.phase

    @property
    def exit_code(self) -> int | None:
        """The sandbox's main process's exit code, once the stream reached its end (when it had one)."""
        return self._events.exit_code

    def __aiter__(self) -> AsyncLogStream:
        return self

    async def __anext__(self) -> LogLine:
        while not self._events.done:
            try:
                line = await self._lines.__anext__()
            except StopAsyncIteration:
                line = None
            except httpx.TransportError as exc:
                await self.aclose()
                raise transport_error(exc) from exc
            event = event_of(line) if line is not None else None
            if line is not None and event is None:
                continue  # a keep-alive
            try:
                found = self._events.take(event)
            except BaseException:
                await self.aclose()
                raise
            if found is not None:
                return found
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop following (the sandbox is not touched)."""
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> AsyncLogStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

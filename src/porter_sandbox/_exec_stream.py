"""``sandbox.exec_stream()``: a command's output as it is written, sync (:class:`ExecStream`) and async.

A streamed exec is one ``POST /x/v1/sandbox/{id}/exec/stream`` whose answer
is newline-delimited JSON: ``start``, output pieces, ``exit``. The stream is
read through the client's own httpx client (its connections, key and
retries), with a read timeout longer than the server's keep-alives. Stdin
too large for the request is written while the command runs, through
``POST .../processes/{exec_id}/stdin``, by a thread (sync) or a task (async).

Closing a stream before its end (leaving its ``with`` block, ``close()``,
``break`` then ``close()``) drops the connection, and the server kills the
command's whole process group.

What each event means, and the errors, are decided once, in ``EventReader``;
the two classes only do the I/O.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ._base_client import transport_error
from ._exceptions import CommandTimeoutError, ConflictError, SandboxError
from ._extensions import StdinSource, TextDecoders, answer_error, data_of, event_of, stream_timeout
from ._models import ExecEvent, ExecResult

if TYPE_CHECKING:
    import asyncio

    from porter_sandbox_api.client import AuthenticatedClient, Client

    RawClient = AuthenticatedClient | Client

__all__ = ["AsyncExecStream", "ExecGathering", "ExecStream"]

WHAT = "streamed exec, stdin, cwd, env and server-side timeouts"


def stream_path(sandbox_id: str) -> str:
    """Where a streamed exec starts."""
    return f"/x/v1/sandbox/{sandbox_id}/exec/stream"


def stdin_path(sandbox_id: str, exec_id: str) -> str:
    """Where a running command's stdin is written."""
    return f"/x/v1/sandbox/{sandbox_id}/processes/{exec_id}/stdin"


class EventReader:
    """Turns a streamed exec's events into :class:`ExecEvent` s, and remembers how it ended."""

    def __init__(self) -> None:
        self.exec_id: str | None = None
        self.exit_code: int | None = None
        self.timed_out = False
        self.done = False
        self._decoders = TextDecoders()
        self._ready: collections.deque[ExecEvent] = collections.deque()

    def start(self, event: Mapping[str, Any] | None) -> str:
        """The exec id of the stream's first event."""
        if event is None or event.get("type") != "start" or not isinstance(event.get("exec_id"), str):
            raise SandboxError(f"the server's stream did not start with the command's id: {event!r}")
        self.exec_id = event["exec_id"]
        return self.exec_id

    def take(self, event: Mapping[str, Any] | None) -> None:
        """Take the next event of the stream (``None``: it ended without one)."""
        if event is None:
            self.done = True
            raise SandboxError("the server's stream ended before the command did: the connection was cut")
        kind = event.get("type")
        if kind in ("stdout", "stderr"):
            data = data_of(event)
            self._ready.append(ExecEvent(kind, data, self._decoders.decode(kind, data)))
        elif kind == "exit":
            self.done = True
            for stream in ("stdout", "stderr"):
                rest = self._decoders.flush(stream)
                if rest:
                    self._ready.append(ExecEvent(stream, b"", rest))
            self.exit_code = int(event.get("exit_code", -1))
            self.timed_out = bool(event.get("timed_out", False))
            self._ready.append(ExecEvent("exit", exit_code=self.exit_code, timed_out=self.timed_out))
        elif kind == "error":
            self.done = True
            raise ConflictError(
                str(event.get("error") or "the command's end is unknown"), status_code=409, body=dict(event)
            )
        # Other kinds are a newer server's: skipped.

    def next_ready(self) -> ExecEvent | None:
        """The next event to hand out, if one is ready."""
        return self._ready.popleft() if self._ready else None


class ExecGathering:
    """What ``exec()`` with options gathers from a streamed exec: all of each stream, and the callbacks called."""

    def __init__(self, on_stdout: Callable[[str], object] | None, on_stderr: Callable[[str], object] | None) -> None:
        self._callbacks = {"stdout": on_stdout, "stderr": on_stderr}
        self._data = {"stdout": bytearray(), "stderr": bytearray()}
        self.exit_code = -1
        self.timed_out = False

    def take(self, event: ExecEvent) -> None:
        """Take one event: keep its bytes and hand its text to the stream's callback."""
        if event.kind == "exit":
            self.exit_code = event.exit_code if event.exit_code is not None else -1
            self.timed_out = event.timed_out
            return
        self._data[event.kind] += event.data
        callback = self._callbacks[event.kind]
        if callback is not None and event.text:
            callback(event.text)

    def result(self, exec_id: str, command: Sequence[str], check: bool) -> ExecResult:
        """The :class:`ExecResult`; :class:`CommandTimeoutError` when it timed out, :class:`CommandError` per ``check``."""
        stdout, stderr = bytes(self._data["stdout"]), bytes(self._data["stderr"])
        result = ExecResult(
            stdout=stdout.decode("utf-8", "replace"),
            stderr=stderr.decode("utf-8", "replace"),
            exit_code=self.exit_code,
            exec_id=exec_id,
            command=tuple(command),
            timed_out=self.timed_out,
            stdout_bytes=stdout,
            stderr_bytes=stderr,
        )
        if result.timed_out:
            raise CommandTimeoutError(result, command)
        return result.check() if check else result


class ExecStream:
    """The output of ``sandbox.exec_stream()`` as it is written: iterate it for :class:`ExecEvent` s.

    ::

        with sandbox.exec_stream(["sh", "-c", "for i in 1 2 3; do echo $i; sleep 1; done"]) as stream:
            for event in stream:
                if event.kind == "stdout":
                    print(event.text, end="")
        print(stream.exit_code)

    The last event is ``exit`` (with ``exit_code`` and ``timed_out``); the
    stream also keeps them. Closing it before the end kills the command.
    """

    def __init__(self, client: RawClient, sandbox_id: str, body: dict[str, Any], stdin: StdinSource | None) -> None:
        self._http = client.get_httpx_client()
        self._sandbox_id = sandbox_id
        self._reader = EventReader()
        self._closed = threading.Event()
        request = self._http.build_request(
            "POST", stream_path(sandbox_id), json=body, timeout=stream_timeout(self._http.timeout)
        )
        try:
            self._response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        try:
            if self._response.status_code >= 300:
                raise answer_error(WHAT, self._response.status_code, self._response.read())
            self._lines = self._response.iter_lines()
            self._reader.start(self._next_event())
        except BaseException:
            self._response.close()
            raise
        self._feeder: threading.Thread | None = None
        if stdin is not None:
            self._feeder = threading.Thread(target=self._feed, args=(stdin,), name="porter-sandbox-stdin", daemon=True)
            self._feeder.start()

    @property
    def exec_id(self) -> str:
        """The command's exec id (its log lines carry it; it is also its process id)."""
        return self._reader.exec_id or ""

    @property
    def exit_code(self) -> int | None:
        """Its exit code, once the stream reached its end."""
        return self._reader.exit_code

    @property
    def timed_out(self) -> bool:
        """Whether its ``timeout=`` ran out (the server killed its whole process group)."""
        return self._reader.timed_out

    def _next_event(self) -> dict[str, Any] | None:
        try:
            for line in self._lines:
                event = event_of(line)
                if event is not None:
                    return event
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        return None

    def __iter__(self) -> Iterator[ExecEvent]:
        return self

    def __next__(self) -> ExecEvent:
        while True:
            ready = self._reader.next_ready()
            if ready is not None:
                return ready
            if self._reader.done or self._closed.is_set():
                self.close()
                raise StopIteration
            try:
                self._reader.take(self._next_event())
            except BaseException:
                self.close()
                raise

    def _feed(self, stdin: StdinSource) -> None:
        path = stdin_path(self._sandbox_id, self.exec_id)
        try:
            for chunk in stdin.chunks():
                if self._closed.is_set() or not self._write(path, chunk, close=False):
                    return
            self._write(path, b"", close=True)
        except (httpx.HTTPError, OSError, ValueError, TypeError):
            return  # the stream says how the command ended; what it did not read is dropped, as a pipe does

    def _write(self, path: str, chunk: bytes, close: bool) -> bool:
        answer = self._http.post(path, content=chunk, params={"close": "true"} if close else None, timeout=None)
        return answer.status_code < 300

    def close(self) -> None:
        """Stop reading; a command still running is killed by the server (its whole process group)."""
        self._closed.set()
        self._response.close()

    def __enter__(self) -> ExecStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncExecStream:
    """The async twin of :class:`ExecStream`: ``async for event in await sandbox.exec_stream(...)``."""

    def __init__(self, client: RawClient, sandbox_id: str) -> None:
        self._http = client.get_async_httpx_client()
        self._sandbox_id = sandbox_id
        self._reader = EventReader()
        self._closed = False
        self._response: httpx.Response | None = None
        self._lines: Any = None
        self._feeder: asyncio.Task[None] | None = None

    async def _open(self, body: dict[str, Any], stdin: StdinSource | None) -> AsyncExecStream:
        request = self._http.build_request(
            "POST", stream_path(self._sandbox_id), json=body, timeout=stream_timeout(self._http.timeout)
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        self._response = response
        try:
            if response.status_code >= 300:
                raise answer_error(WHAT, response.status_code, await response.aread())
            self._lines = response.aiter_lines()
            self._reader.start(await self._next_event())
        except BaseException:
            await response.aclose()
            raise
        if stdin is not None:
            import asyncio  # here: the SDK's import stays without it for sync-only users

            self._feeder = asyncio.ensure_future(self._feed(stdin))
        return self

    @property
    def exec_id(self) -> str:
        """The command's exec id (its log lines carry it; it is also its process id)."""
        return self._reader.exec_id or ""

    @property
    def exit_code(self) -> int | None:
        """Its exit code, once the stream reached its end."""
        return self._reader.exit_code

    @property
    def timed_out(self) -> bool:
        """Whether its ``timeout=`` ran out (the server killed its whole process group)."""
        return self._reader.timed_out

    async def _next_event(self) -> dict[str, Any] | None:
        try:
            async for line in self._lines:
                event = event_of(line)
                if event is not None:
                    return event
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        return None

    def __aiter__(self) -> AsyncExecStream:
        return self

    async def __anext__(self) -> ExecEvent:
        while True:
            ready = self._reader.next_ready()
            if ready is not None:
                return ready
            if self._reader.done or self._closed:
                await self.aclose()
                raise StopAsyncIteration
            try:
                self._reader.take(await self._next_event())
            except BaseException:
                await self.aclose()
                raise

    async def _feed(self, stdin: StdinSource) -> None:
        path = stdin_path(self._sandbox_id, self.exec_id)
        try:
            async for chunk in stdin.achunks():
                if self._closed or not await self._write(path, chunk, close=False):
                    return
            await self._write(path, b"", close=True)
        except (httpx.HTTPError, OSError, ValueError, TypeError):
            return  # the stream says how the command ended; what it did not read is dropped, as a pipe does

    async def _write(self, path: str, chunk: bytes, close: bool) -> bool:
        answer = await self._http.post(path, content=chunk, params={"close": "true"} if close else None, timeout=None)
        return answer.status_code < 300

    async def aclose(self) -> None:
        """Stop reading; a command still running is killed by the server (its whole process group)."""
        self._closed = True
        if self._feeder is not None and not self._feeder.done():
            self._feeder.cancel()
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> AsyncExecStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

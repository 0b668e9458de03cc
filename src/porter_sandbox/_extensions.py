"""Decisions shared by every call to the server's extensions (``/x/...``), sync and async alike.

The extensions (commands with stdin, cwd, env and a timeout; streamed
output; background processes; log follow) are this project's server's, not
Porter's API. What is decided here, once:

- the request body of a command (``command_body``): arguments checked before
  anything is sent; stdin up to ``INLINE_STDIN`` bytes goes in the body,
  more (or a file, or an iterator of chunks) is written after the start in
  chunks of ``STDIN_CHUNK`` (``StdinSource``), so nothing of any size is held
  twice;
- what a server without an extension answers becomes one
  :class:`UnsupportedByServerError` (``unsupported``): a 404 for the route
  itself (a Porter cluster), a 405, or a 501 (a runtime that cannot);
- streams (NDJSON) read with a read timeout longer than the server's
  keep-alives (``stream_timeout``), their lines parsed (``event_of``), their
  bytes decoded to text per stream (``TextDecoders``).
"""

from __future__ import annotations

import base64
import codecs
import io
import json
import math
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, Final, TypeAlias

import httpx

from ._exceptions import (
    APIStatusError,
    RouteNotFoundError,
    SandboxError,
    UnsupportedByServerError,
    error_for_status,
)

__all__ = [
    "INLINE_STDIN",
    "STDIN_CHUNK",
    "StdinData",
    "StdinSource",
    "TextDecoders",
    "command_body",
    "event_of",
    "extension_error",
    "stream_timeout",
    "unsupported",
]

#: Stdin up to this size goes in the request; more is written in chunks once the command started.
INLINE_STDIN: Final = 1024 * 1024
#: The size of each write of a longer stdin (the server takes at most 4 MiB a write).
STDIN_CHUNK: Final = 1024 * 1024
#: The server sends an empty line after this many seconds of silence; a stream's read timeout is longer.
KEEPALIVE_SECONDS: Final = 10.0
_MIN_STREAM_READ: Final = 3 * KEEPALIVE_SECONDS

#: What ``stdin=`` takes: bytes or text, a binary file, or an iterable (or async iterable) of byte chunks.
StdinData: TypeAlias = bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]


class StdinSource:
    """A stdin too large (or too open-ended) for the request: written in chunks once the command runs."""

    def __init__(self, data: StdinData) -> None:
        self._data = data

    def chunks(self) -> Iterator[bytes]:
        """The bytes to write, a chunk at a time (for the sync client)."""
        data = self._data
        if isinstance(data, (bytes, bytearray, memoryview)):
            view = memoryview(data)
            for start in range(0, len(view), STDIN_CHUNK):
                yield bytes(view[start : start + STDIN_CHUNK])
            return
        if isinstance(data, io.IOBase) or hasattr(data, "read"):
            yield from _file_chunks(data)  # type: ignore[arg-type]
            return
        if isinstance(data, AsyncIterable):
            raise TypeError("an async iterable stdin needs the async client (AsyncPorter)")
        for chunk in data:
            if not isinstance(chunk, (bytes, bytearray)):
                raise TypeError(f"stdin chunks must be bytes, not {type(chunk).__name__}")
            if chunk:
                yield bytes(chunk)

    async def achunks(self) -> AsyncIterator[bytes]:
        """The bytes to write, a chunk at a time (for the async client; a file is read in a thread)."""
        import asyncio

        data = self._data
        if isinstance(data, AsyncIterable):
            async for piece in data:
                if not isinstance(piece, (bytes, bytearray)):
                    raise TypeError(f"stdin chunks must be bytes, not {type(piece).__name__}")
                if piece:
                    yield bytes(piece)
            return
        chunks = self.chunks()
        reading = hasattr(data, "read")
        while True:
            chunk: bytes | None = await asyncio.to_thread(_next_chunk, chunks) if reading else _next_chunk(chunks)
            if chunk is None:
                return
            yield chunk


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    # read1 answers what a pipe has now instead of waiting for a whole chunk: typed input flows on.
    read = getattr(file, "read1", None) or file.read
    while True:
        chunk = read(STDIN_CHUNK)
        if not chunk:
            return
        if isinstance(chunk, str):
            raise TypeError("stdin must be a binary file (open it with 'rb', or pass sys.stdin.buffer)")
        yield chunk


def command_body(
    command: Sequence[str],
    *,
    stdin: StdinData | None = None,
    stdin_open: bool = False,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[dict[str, Any], StdinSource | None]:
    """The JSON of a ``CommandRequest``, and the stdin to write after the start (``None`` when it is all in the body)."""
    from ._sandboxes import check_env, exec_request

    body: dict[str, Any] = {"command": exec_request(command).command}
    later: StdinSource | None = None
    if stdin is not None:
        if isinstance(stdin, str):
            stdin = stdin.encode()
        if isinstance(stdin, (bytes, bytearray, memoryview)) and len(stdin) <= INLINE_STDIN:
            body["stdin_base64"] = base64.b64encode(stdin).decode()
        elif isinstance(stdin, (bytes, bytearray, memoryview, Iterable, AsyncIterable)) or hasattr(stdin, "read"):
            later = StdinSource(stdin)
        else:
            raise TypeError(f"stdin must be bytes, text, a binary file or an iterable of bytes, not {stdin!r}")
    if stdin_open or later is not None:
        body["stdin_open"] = True
    if cwd is not None:
        if not isinstance(cwd, str) or not cwd.startswith("/"):
            raise ValueError(f"cwd must be an absolute path in the sandbox, such as '/workspace', not {cwd!r}")
        body["cwd"] = cwd
    if env is not None:
        body["env"] = check_env(env)
    if timeout is not None:
        body["timeout_seconds"] = check_timeout(timeout)
    return body, later


def check_timeout(timeout: float) -> float:
    """``timeout`` when it is a number of seconds the server takes (more than 0, at most a week)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 7 * 86400:
        raise ValueError(f"timeout must be a number of seconds, more than 0 and at most a week, not {timeout!r}")
    if isinstance(timeout, float) and math.isnan(timeout):
        raise ValueError("timeout must be a number of seconds, not NaN")
    return max(float(timeout), 0.001)


def stream_timeout(timeout: httpx.Timeout) -> httpx.Timeout:
    """The client's timeout for a stream: its read timeout at least three keep-alive periods (or none, as it was)."""
    read = timeout.read
    if read is not None:
        read = max(read, _MIN_STREAM_READ)
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)


def unsupported(what: str, cause: APIStatusError) -> UnsupportedByServerError:
    """The error for an extension the server does not serve; ``cause`` is what it answered."""
    return UnsupportedByServerError(
        f"this server does not support {what}: it is an extension of porter-sandbox's own server, which Porter's "
        f"API does not have (the server answered {cause.status_code}: {cause.message}). Plain exec works everywhere",
        status_code=cause.status_code,
        body=cause.body,
    )


def extension_error(what: str, error: SandboxError) -> SandboxError:
    """``error`` from an extension call, or the :class:`UnsupportedByServerError` it means."""
    if isinstance(error, UnsupportedByServerError):
        if "extension of porter-sandbox" in error.message:
            return error
        return unsupported(what, error)
    if isinstance(error, RouteNotFoundError) or (isinstance(error, APIStatusError) and error.status_code == 405):
        return unsupported(what, error)
    return error


def answer_error(what: str, status_code: int, content: bytes) -> SandboxError:
    """The SDK error for an extension's error answer."""
    return extension_error(what, error_for_status(status_code, content))


def event_of(line: str) -> dict[str, Any] | None:
    """The event of one NDJSON line; ``None`` for a keep-alive (an empty line)."""
    if not line.strip():
        return None
    event = json.loads(line)
    if not isinstance(event, dict):
        raise SandboxError(f"the server streamed a line that is not an event: {line[:200]!r}")
    return event


def data_of(event: Mapping[str, Any]) -> bytes:
    """The bytes an output event carries (base64 on the wire)."""
    return base64.b64decode(event.get("data") or "")


class TextDecoders:
    """One incremental UTF-8 decoder per stream: a character split between pieces comes whole in the later one."""

    def __init__(self) -> None:
        self._decoders = {
            "stdout": codecs.getincrementaldecoder("utf-8")("replace"),
            "stderr": codecs.getincrementaldecoder("utf-8")("replace"),
        }

    def decode(self, stream: str, data: bytes) -> str:
        """The text ``data`` completes on ``stream``."""
        return self._decoders[stream].decode(data)

    def flush(self, stream: str) -> str:
        """What is left of ``stream`` once it ended (an incomplete character, replaced)."""
        return self._decoders[stream].decode(b"", final=True)

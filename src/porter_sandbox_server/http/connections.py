"""What a connection may hold: a request's head arrives whole, small and soon, and a body keeps coming.

uvicorn alone keeps a connection that sends half a request forever, and its
httptools protocol gathers a header of any size in memory. So each of
uvicorn's protocols is wrapped here:

- a request's head (request line and headers) must come within
  ``head_timeout`` seconds of the connection opening or of the previous
  answer, or the connection is answered 408 and closed (one that sends
  nothing is closed too);
- a head longer than ``MAX_HEAD_BYTES`` is answered 431 and closed, before
  more of it is read;
- a request body that stops arriving for ``body_idle_timeout`` seconds
  closes the connection (the handler sees the client gone; an upload is
  dropped, leaving the old file). That holds too for a body the answer did
  not wait for (a refused upload): uvicorn reads it to its end, then waits
  for the next head.

The phase a connection is in (waiting for a head, reading a body, serving)
is read from uvicorn's request cycle, so the same guard fits both of its
protocols. Between requests, uvicorn's keep-alive timeout closes idle
connections first.
"""

from __future__ import annotations

import asyncio
import enum
import json
from typing import Any

#: The most a request's head (request line and headers) may take, in bytes.
MAX_HEAD_BYTES = 64 * 1024
#: How long a request's head may take to arrive, in seconds (``serve --header-timeout``).
HEAD_TIMEOUT = 10.0
#: How long a request body may stop arriving before the connection is closed, in seconds (``--idle-timeout``).
BODY_IDLE_TIMEOUT = 60.0
#: How long an idle connection is kept open between requests, in seconds. Longer than the 5 s after
#: which httpx's clients stop reusing one: at uvicorn's own 5 s, a client sometimes sent its request
#: on a connection the server was closing at that instant, and a POST (an exec) failed unretried.
#: Shorter than ``HEAD_TIMEOUT``, so an idle connection ends this quiet way, not with a 408.
KEEP_ALIVE_TIMEOUT = 8.0
#: The largest WebSocket message taken (a terminal's keystrokes come a few bytes at a time; a paste in one).
WS_MAX_MESSAGE = 1024 * 1024

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _Phase(enum.Enum):
    """Where a connection is, as uvicorn's request cycle shows it."""

    #: Waiting for a request's head: the first, or the next once the last was read and answered.
    HEAD = "head"
    #: A request's body is still coming (also one the answer did not wait for).
    BODY = "body"
    #: The request is in; the app is answering it (an exec may take minutes).
    SERVING = "serving"


class _Guard(asyncio.Protocol):
    """Mixin for uvicorn's HTTP protocols (before them in the bases): the limits of the module doc."""

    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT
    body_idle_timeout = BODY_IDLE_TIMEOUT

    # uvicorn's protocols have these.
    loop: Any
    transport: Any
    cycle: Any
    flow: Any

    _timer: asyncio.TimerHandle | None = None
    _phase: _Phase | None = None
    _upgraded = False
    #: When the current wait for a head began, and how many bytes of it came since.
    _head_since = 0.0
    _head_bytes = 0
    _last_data = 0.0

    def _current(self) -> _Phase:
        cycle = self.cycle
        if cycle is None or (cycle.response_complete and not cycle.more_body):
            return _Phase.HEAD
        return _Phase.BODY if cycle.more_body else _Phase.SERVING

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._last_data = self.loop.time()
        self._moved()

    def data_received(self, data: bytes) -> None:
        self._last_data = self.loop.time()
        waiting_for_head = self._phase is _Phase.HEAD
        super().data_received(data)
        if waiting_for_head:
            # Until the head is whole, every byte is head (a body comes only after it).
            self._head_bytes += len(data)
        self._moved()
        if self._phase is _Phase.HEAD and self._head_bytes > self.max_head_bytes and not self._upgraded:
            self._refuse(
                431,
                f"the request's head (request line and headers) is over {self.max_head_bytes} bytes; send less",
            )

    def handle_websocket_upgrade(self, *args: Any) -> None:
        # The connection is a WebSocket's from here: no more heads or bodies to time, and the
        # WebSocket protocol keeps it alive (pings) and bounded (message sizes, a receive queue).
        self._upgraded = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().handle_websocket_upgrade(*args)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._moved()

    def _moved(self) -> None:
        """After anything that may change the phase: start a new wait for a head, set the timer."""
        phase = self._current()
        if phase is self._phase:
            return
        self._phase = phase
        if phase is _Phase.HEAD:
            self._head_since = self.loop.time()
            self._head_bytes = 0
        self._check()

    def _check(self) -> None:
        """Act on a deadline passed, or arm the timer for the phase's next one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._upgraded or self.transport is None or self.transport.is_closing():
            return
        now = self.loop.time()
        phase = self._phase
        if phase is _Phase.HEAD:
            deadline = self._head_since + self.head_timeout
            if now >= deadline:
                self._refuse(408, f"the request's head did not arrive within {self.head_timeout:g} seconds")
                return
        elif phase is _Phase.BODY:
            if self.flow.read_paused:
                self._last_data = now  # we stopped reading it ourselves: the client is not idle
            deadline = self._last_data + self.body_idle_timeout
            if now >= deadline:
                self.transport.close()  # the handler sees the client gone; an upload is dropped
                return
        else:
            return  # serving: the app decides how long an answer takes
        self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._phase = self._current()
        self._check()

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with ``{"error": message}`` (unless an answer is being written) and close."""
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            body = json.dumps({"error": message}).encode()
            head = (
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
                % (status, _REASONS[status], len(body))
            )
            self.transport.write(head + body)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)


def guarded_protocol(
    kind: str, *, head_timeout: float = HEAD_TIMEOUT, body_idle_timeout: float = BODY_IDLE_TIMEOUT
) -> type[asyncio.Protocol]:
    """uvicorn's ``kind`` protocol (``httptools`` or ``h11``) with the limits of the module doc."""
    if kind == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol as base  # type: ignore[assignment]
    return type(
        f"Guarded{base.__name__}",
        (_Guard, base),
        {"head_timeout": head_timeout, "body_idle_timeout": body_idle_timeout},
    )

"""The one retry policy, decided once for sync and async, and the transports that apply it.

What is retried (at most ``max_retries`` times, 2 by default):

- a failure to connect, for every request: the request never reached the server;
- a connection dropped before the answer, and answers 429, 502, 503 and 504,
  for idempotent requests only (GET, which covers lookups, listings and
  reads; DELETE; PUT, which replaces a whole file), and only when the body
  can be sent again from its start;
- never a blind replay of a POST (``exec``, ``create``, moves): the server may
  have acted on it. They are retried only when the connection failed;
- never a timeout: the server may still be working, and waiting again would
  double the wait the caller asked for.

The wait before retry ``n`` (from 0) is the answer's ``Retry-After`` (seconds,
``Retry-After-Ms`` milliseconds, or an HTTP date), capped at
:data:`MAX_RETRY_AFTER` seconds; without one, ``0.5 * 2**n`` seconds with up to
25% jitter, capped at :data:`MAX_BACKOFF` seconds.

The policy lives in httpx transports (:class:`RetryTransport`,
:class:`AsyncRetryTransport`) installed in the single httpx client that the SDK
and the generated ``.raw`` client share, so ``.raw`` calls are retried the same
way. The SDK passes per-call options (a timeout, whether the body can be
replayed) to the transport through a context variable.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
import time
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

import httpx

from ._config import NOT_GIVEN, NotGiven

__all__ = [
    "MAX_BACKOFF",
    "MAX_RETRY_AFTER",
    "AsyncRetryTransport",
    "CallOptions",
    "CallScope",
    "RetryTransport",
    "backoff_seconds",
    "last_response",
    "retry_after_seconds",
    "retry_delay",
]

logger = logging.getLogger("porter_sandbox")

INITIAL_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0
# Looked up at call time, so tests can record the waits instead of sleeping them.
_sleep = time.sleep


async def _async_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The connection broke after the request may have been sent: safe to resend only when idempotent.
_DROPPED: Final = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.CloseError)


@dataclass(frozen=True)
class CallOptions:
    """Options for the requests made inside one SDK call."""

    timeout: httpx.Timeout | NotGiven = NOT_GIVEN
    """This call's timeout instead of the client's."""
    max_retries: int | NotGiven = NOT_GIVEN
    """This call's retry budget instead of the client's."""
    replayable_body: bool = True
    """Whether the request body can be sent again from its start (False for a one-shot stream)."""


_call_options: ContextVar[CallOptions | None] = ContextVar("porter_sandbox_call_options", default=None)
_last_response: ContextVar[httpx.Response | None] = ContextVar("porter_sandbox_last_response", default=None)


class CallScope:
    """Applies ``options`` to the requests made in a ``with`` block (this thread or task only).

    It also forgets the last answer, so :func:`last_response` inside the block
    only ever answers one of the block's own. (A class rather than a
    generator-based context manager: it is entered on every call, and costs
    half as much.)
    """

    __slots__ = ("_options", "_tokens")

    _tokens: tuple[Token[CallOptions | None], Token[httpx.Response | None]]

    def __init__(self, options: CallOptions | None) -> None:
        self._options = options

    def __enter__(self) -> None:
        self._tokens = (_call_options.set(self._options), _last_response.set(None))

    def __exit__(self, *exc_info: object) -> None:
        options_token, response_token = self._tokens
        _last_response.reset(response_token)
        _call_options.reset(options_token)


def last_response() -> httpx.Response | None:
    """The last answer the transport handed back in this thread or task (to recover from a failed parse)."""
    return _last_response.get()


def backoff_seconds(attempt: int) -> float:
    """The wait before retry ``attempt`` (from 0) when the server named none: 0.5·2ⁿ s, jittered, capped."""
    base = min(INITIAL_BACKOFF * 2.0**attempt, MAX_BACKOFF)
    return base * (1.0 - 0.25 * random.random())


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait the server asked for in ``Retry-After-Ms`` / ``Retry-After``, capped; ``None`` when it named none."""
    seconds: float | None = None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        with contextlib.suppress(ValueError):
            seconds = float(millis) / 1000.0
    value = headers.get("retry-after")
    if seconds is None and value is not None:
        try:
            seconds = float(value)
        except ValueError:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                when = email.utils.parsedate_to_datetime(value)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds is None or seconds != seconds:  # absent, or NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def retry_delay(
    *,
    method: str,
    attempt: int,
    max_retries: int,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
    error: Exception | None = None,
    replayable_body: bool = True,
) -> float | None:
    """Seconds to wait before sending the request again, or ``None`` when it must not be retried.

    ``attempt`` counts the retries already made. Pass either the answer's
    ``status_code`` and ``headers``, or the transport ``error``.
    """
    if attempt >= max_retries:
        return None
    idempotent = method.upper() in IDEMPOTENT_METHODS and replayable_body
    if error is not None:
        if isinstance(error, httpx.TimeoutException):
            return None
        if isinstance(error, httpx.ConnectError) or (idempotent and isinstance(error, _DROPPED)):
            return backoff_seconds(attempt)
        return None
    if status_code in RETRYABLE_STATUSES and idempotent:
        asked = retry_after_seconds(headers or {})
        return asked if asked is not None else backoff_seconds(attempt)
    return None


def _prepare(request: httpx.Request, default_retries: int) -> tuple[int, bool]:
    options = _call_options.get()
    if options is None:
        return default_retries, True
    if isinstance(options.timeout, httpx.Timeout):
        request.extensions = {**request.extensions, "timeout": options.timeout.as_dict()}
    retries = options.max_retries if isinstance(options.max_retries, int) else default_retries
    return retries, options.replayable_body


def _next_delay(
    request: httpx.Request,
    attempt: int,
    max_retries: int,
    replayable: bool,
    *,
    response: httpx.Response | None = None,
    error: httpx.TransportError | None = None,
) -> float | None:
    """:func:`retry_delay` for what one attempt of ``request`` met, logging the retry it allows."""
    if response is not None:
        if response.status_code not in RETRYABLE_STATUSES:
            return None  # nearly every answer: nothing to weigh
        delay = retry_delay(
            method=request.method,
            attempt=attempt,
            max_retries=max_retries,
            status_code=response.status_code,
            headers=response.headers,
            replayable_body=replayable,
        )
        why = f"status {response.status_code}"
    else:
        delay = retry_delay(
            method=request.method, attempt=attempt, max_retries=max_retries, error=error, replayable_body=replayable
        )
        why = type(error).__name__
    if delay is not None:
        logger.info(
            "retrying %s %s after %s in %.2fs (retry %d of %d)",
            request.method,
            request.url.path,
            why,
            delay,
            attempt + 1,
            max_retries,
        )
    return delay


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport to retry what :func:`retry_delay` allows; the SDK's sync client sends through it."""

    def __init__(self, transport: httpx.BaseTransport, *, max_retries: int) -> None:
        self._transport = transport
        self.max_retries = max_retries

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, again while the policy allows, and answer the last response."""
        max_retries, replayable = _prepare(request, self.max_retries)
        attempt = 0
        while True:
            try:
                response = self._transport.handle_request(request)
            except httpx.TransportError as exc:
                delay = _next_delay(request, attempt, max_retries, replayable, error=exc)
                if delay is None:
                    raise
            else:
                delay = _next_delay(request, attempt, max_retries, replayable, response=response)
                if delay is None:
                    _last_response.set(response)
                    return response
                with contextlib.suppress(httpx.HTTPError):
                    response.read()
                response.close()
            _sleep(delay)
            attempt += 1

    def close(self) -> None:
        """Close the wrapped transport."""
        self._transport.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`RetryTransport`, deciding with the same :func:`retry_delay`."""

    def __init__(self, transport: httpx.AsyncBaseTransport, *, max_retries: int) -> None:
        self._transport = transport
        self.max_retries = max_retries

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, again while the policy allows, and answer the last response."""
        max_retries, replayable = _prepare(request, self.max_retries)
        attempt = 0
        while True:
            try:
                response = await self._transport.handle_async_request(request)
            except httpx.TransportError as exc:
                delay = _next_delay(request, attempt, max_retries, replayable, error=exc)
                if delay is None:
                    raise
            else:
                delay = _next_delay(request, attempt, max_retries, replayable, response=response)
                if delay is None:
                    _last_response.set(response)
                    return response
                with contextlib.suppress(httpx.HTTPError):
                    await response.aread()
                await response.aclose()
            await _async_sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()

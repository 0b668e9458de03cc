"""Calling the generated operations: one place that turns their answers into values or SDK errors.

Every SDK method calls a generated ``*_detailed`` function through
:func:`sync_call` or :func:`async_call`, then reads the answer with
:func:`expect` / :func:`expect_no_content`. Those decide, for sync and async
alike, what is an error: transport failures become :class:`APIConnectionError`
or :class:`SandboxTimeoutError`; error statuses become the
:mod:`porter_sandbox._exceptions` class for the status, with the server's
message. The generated code raises ``ValueError`` on statuses Python's
``HTTPStatus`` does not know (499, 520) and on error bodies that are not JSON
(a proxy's HTML page); those are recovered from the raw answer too.

Every 2xx is a success, as in Porter's published client: one the spec does
not list for an operation (Porter answers a create with ``202``, a delete with
``200`` or ``204``) is read with the model the operation answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._exceptions import APIConnectionError, SandboxError, SandboxTimeoutError, decode_body, error_for_status
from ._retry import CallOptions, CallScope, last_response

if TYPE_CHECKING:
    from porter_sandbox_api.types import Response

__all__ = ["async_call", "expect", "expect_content", "expect_no_content", "parse_body", "sync_call"]

T = TypeVar("T")

# What the generated parsers raise on an answer they cannot read.
_PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError)


def sync_call(
    operation: Callable[..., Response[Any]], /, *args: Any, options: CallOptions | None = None, **kwargs: Any
) -> Response[Any]:
    """Call a generated sync ``*_detailed`` operation, turning transport and parse failures into SDK errors."""
    with CallScope(options):
        try:
            return operation(*args, **kwargs)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        except _PARSE_ERRORS as exc:
            raise unreadable_answer(exc) from exc


async def async_call(
    operation: Callable[..., Awaitable[Response[Any]]],
    /,
    *args: Any,
    options: CallOptions | None = None,
    **kwargs: Any,
) -> Response[Any]:
    """Call a generated ``asyncio_detailed`` operation, turning transport and parse failures into SDK errors."""
    with CallScope(options):
        try:
            return await operation(*args, **kwargs)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        except _PARSE_ERRORS as exc:
            raise unreadable_answer(exc) from exc


def transport_error(exc: httpx.TransportError) -> SandboxError:
    """The SDK error for an httpx transport failure: a timeout, or a connection that failed or dropped."""
    where = _describe_request(exc)
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.replace("Timeout", "").lower() or "request"
        return SandboxTimeoutError(
            f"{where} timed out ({kind}); the server may still be acting on it. Pass a longer timeout= "
            "(to the client, or to this call where it takes one) if it needs more time"
        )
    return APIConnectionError(f"{where} failed: {exc or type(exc).__name__}")


def unreadable_answer(exc: Exception) -> SandboxError:
    """The SDK error when the generated code could not read an answer; re-raise ``exc`` if there was no answer."""
    response = last_response()
    if response is None:
        raise exc
    if not 200 <= response.status_code < 300:
        return error_for_status(response.status_code, response.content)
    return SandboxError(
        f"the server answered {response.status_code} with a body this client cannot read ({exc!r}); "
        "is base_url a Porter Sandbox API?",
        status_code=response.status_code,
        body=decode_body(response.content),
    )


def expect(response: Response[Any], kind: type[T]) -> T:
    """The parsed body of a successful answer, as ``kind``; raise the SDK error for an error answer."""
    _raise_for_status(response)
    value = response.parsed
    if isinstance(value, kind):
        return value
    return parse_body(response, kind)


def parse_body(response: Response[Any], kind: type[T]) -> T:
    """The body of a 2xx answer the generated code did not parse (a status the spec does not list), as ``kind``."""
    body = decode_body(response.content)
    from_dict = getattr(kind, "from_dict", None)
    if isinstance(body, dict) and from_dict is not None:
        try:
            parsed = from_dict(body)
        except _PARSE_ERRORS:
            pass
        else:
            if isinstance(parsed, kind):
                return parsed
    raise SandboxError(
        f"the server answered {int(response.status_code)} without the {kind.__name__} this client expected",
        status_code=int(response.status_code),
        body=body,
    )


def expect_no_content(response: Response[Any]) -> None:
    """Check that an answer is a success; raise the SDK error for an error answer."""
    _raise_for_status(response)


def expect_content(response: Response[Any]) -> bytes:
    """The raw body of a successful answer; raise the SDK error for an error answer."""
    _raise_for_status(response)
    return response.content


def _raise_for_status(response: Response[Any]) -> None:
    status = int(response.status_code)
    if not 200 <= status < 300:
        raise error_for_status(status, response.content)


def _describe_request(exc: httpx.TransportError) -> str:
    try:
        request = exc.request
    except RuntimeError:
        return "the request"
    return f"{request.method} {request.url.path}"

"""Errors the API answers: each becomes ``{"error": message}`` with its status code.

Raise these anywhere below the routes (service, store, volume files); the
app turns them into answers. Anything else that escapes is a bug: the app
logs it and answers a 500 without a stack trace.
"""

from __future__ import annotations


class ApiError(Exception):
    """An answer with a status code and a message that says what to do."""

    status_code = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    """400: the request is invalid."""

    status_code = 400


class Unauthorized(ApiError):
    """401: the API key is missing or wrong."""

    status_code = 401


class NotFound(ApiError):
    """404: no such sandbox, volume or file."""

    status_code = 404


class Conflict(ApiError):
    """409: name taken, sandbox not running, volume attached, file exists."""

    status_code = 409


class PayloadTooLarge(ApiError):
    """413: the request body is over the limit."""

    status_code = 413


class RangeNotSatisfiable(ApiError):
    """416: the byte range lies outside the file."""

    status_code = 416


class NotSupported(ApiError):
    """501: this server (its runtime) does not do this; the message says what it cannot do."""

    status_code = 501


class Unavailable(ApiError):
    """503: the runtime cannot be reached now; retry later."""

    status_code = 503


class InsufficientStorage(ApiError):
    """507: the disk of the server's data directory is full; nothing of the request was recorded."""

    status_code = 507

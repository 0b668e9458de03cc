"""Every error the SDK raises, under one root.

The tree is drawn once, in the docstring of :class:`SandboxError`, so that
``help(porter_sandbox.SandboxError)`` shows it to users.

Other error statuses (413, 416, ...) raise :class:`APIStatusError` itself.
Every error carries ``message``; errors from an answer carry ``status_code``
and ``body`` (the parsed JSON, or the text when it is not JSON), and the
others have ``None`` there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import ExecResult

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "CommandError",
    "CommandTimeoutError",
    "ConfigurationError",
    "ConflictError",
    "InvalidNameError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RouteNotFoundError",
    "SandboxEndedError",
    "SandboxError",
    "SandboxTimeoutError",
    "ServerError",
    "SnapshotFailedError",
    "UnsupportedByServerError",
]


class SandboxError(Exception):
    """The root of every error this SDK raises: catch it to catch them all.

    ::

        SandboxError                      anything this SDK raises on purpose
        ├── APIStatusError                the server answered with an error status
        │   ├── BadRequestError           400: the request is invalid; the message says what to change
        │   ├── AuthenticationError       401: the API key is missing or wrong
        │   ├── PermissionDeniedError     403: the key may not do this
        │   ├── NotFoundError             404: no sandbox, volume or file has this id, name or path
        │   │   └── RouteNotFoundError    404: the server has no such route at all: is base_url right?
        │   ├── ConflictError             409: name taken, sandbox not running, volume attached, file exists
        │   ├── RateLimitError            429: too many requests (retried for you where safe)
        │   ├── UnsupportedByServerError  the server (or its runtime) does not have this extension: a Porter cluster
        │   └── ServerError               5xx: the server failed (502/503/504 retried for you where safe)
        ├── APIConnectionError            the server could not be reached, or the connection dropped
        ├── SandboxTimeoutError           a request or a wait took longer than its timeout (also a TimeoutError)
        │   └── CommandTimeoutError       a command's ``timeout=`` ran out: the server killed it (``.result``)
        ├── CommandError                  a command exited non-zero under ``exec(check=True)`` / ``ExecResult.check()``
        ├── SandboxEndedError             ``wait()`` saw the sandbox end in another phase than the one awaited
        ├── SnapshotFailedError           ``snapshot.wait()`` saw the capture fail; ``failure_reason`` says why
        ├── ConfigurationError            no base URL could be found, or the API key cannot give one (also a ValueError)
        └── InvalidNameError              a name or mount path is invalid; raised before any request (also a ValueError)
    """

    message: str
    """What went wrong, in words."""
    status_code: int | None
    """The HTTP status of the answer that caused it, or ``None`` when there was none."""
    body: object | None
    """The answer's body: its parsed JSON, or its text when it is not JSON; ``None`` when there was none."""

    def __init__(self, message: str, *, status_code: int | None = None, body: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


class APIStatusError(SandboxError):
    """The server answered with an error status; ``status_code``, ``body`` and ``message`` say which and why.

    Made without a ``status_code`` (as code written for Porter's published
    client may raise one), each subclass takes its own status: 404 for
    :class:`NotFoundError`, 500 for :class:`ServerError`, ...
    """

    status_code: int
    _default_status = 500  # (no annotation: errors show as porter_sandbox.X, whose namespace has no ClassVar)

    def __init__(self, message: str, *, status_code: int | None = None, body: object | None = None) -> None:
        super().__init__(message, status_code=self._default_status if status_code is None else status_code, body=body)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


class BadRequestError(APIStatusError):
    """400: the request is invalid; the message says what to change."""

    _default_status = 400


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong (set ``api_key=`` or ``PORTER_SANDBOX_API_KEY``)."""

    _default_status = 401


class PermissionDeniedError(APIStatusError):
    """403: the API key may not do this."""

    _default_status = 403


class NotFoundError(APIStatusError):
    """404: no sandbox, volume or file has this id, name or path."""

    _default_status = 404


class RouteNotFoundError(NotFoundError):
    """404 for the route itself, not for a sandbox or volume: the server has no such path.

    Most often ``base_url`` is wrong (a path too many, such as ``/api/v2``, or
    not a Sandbox API at all); the message says what the server answered.
    """


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (name taken, sandbox not running, volume attached, file exists)."""

    _default_status = 409


class RateLimitError(APIStatusError):
    """429: too many requests; raised once the retries allowed for this call are spent."""

    _default_status = 429


class ServerError(APIStatusError):
    """5xx: the server failed; raised once the retries allowed for this call are spent."""


class APIConnectionError(SandboxError):
    """The server could not be reached, or the connection dropped before an answer came."""


class SandboxTimeoutError(SandboxError, TimeoutError):
    """A request, or a ``wait()``, took longer than its timeout. Never retried: the server may still be working."""


class UnsupportedByServerError(APIStatusError):
    """The server does not serve this extension (streamed exec, stdin, background processes, log follow, terminals).

    Porter's API has none of them: a Porter cluster answers this, and so does
    a local server whose runtime cannot (501). Plain ``exec`` works everywhere.
    """


class CommandTimeoutError(SandboxTimeoutError):
    """A command ran longer than its ``timeout=``: the server killed its whole process group.

    ``result`` holds what it printed until then (``result.timed_out`` is true).
    """

    def __init__(self, result: ExecResult, command: Sequence[str] | None = None) -> None:
        shown = " ".join(command) if command else "the command"
        super().__init__(f"{shown} ran past its timeout and was killed (exit code {result.exit_code})")
        self.result = result
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr


class InvalidNameError(SandboxError, ValueError):
    """A sandbox or volume name, or a mount path, is invalid; raised before any request is sent."""


class ConfigurationError(SandboxError, ValueError):
    """The client cannot tell where the API is or how to reach it; the message says what to set."""


class SandboxEndedError(SandboxError):
    """``wait()`` saw the sandbox reach a terminal phase other than the one it was waiting for.

    The message says why, where the server said: the phase, the termination
    reason, the exit code and the last lines the sandbox wrote to stderr.
    """

    phase: str
    """The phase the sandbox ended in."""
    termination_reason: str | None
    """Why it ended (``launch_failed``, ``workload_exited``, ``ttl_expired``, ...), when the server says."""
    exit_code: int | None
    """Its main process's exit code, when it had one."""
    log_tail: tuple[str, ...]
    """The last lines its main process wrote to stderr (empty when there were none, or the logs were unreadable)."""

    def __init__(
        self,
        message: str,
        *,
        phase: str,
        termination_reason: str | None = None,
        exit_code: int | None = None,
        log_tail: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.phase = phase
        self.termination_reason = termination_reason
        self.exit_code = exit_code
        self.log_tail = tuple(log_tail)


class SnapshotFailedError(SandboxError):
    """``snapshot.wait()`` saw the snapshot's capture fail; ``failure_reason`` says why, where the server said."""

    snapshot_id: str
    """The snapshot's id."""
    failure_reason: str | None
    """Why the capture failed, when the server says."""

    def __init__(self, message: str, *, snapshot_id: str, failure_reason: str | None = None) -> None:
        super().__init__(message)
        self.snapshot_id = snapshot_id
        self.failure_reason = failure_reason


class CommandError(SandboxError):
    """A command exited non-zero and the caller asked for that to be an error (``check=True``).

    The command's whole output is here: ``stdout``, ``stderr``, ``exit_code``,
    and ``result`` (the :class:`ExecResult`).
    """

    def __init__(self, result: ExecResult, command: Sequence[str] | None = None) -> None:
        shown = " ".join(command) if command else "the command"
        tail = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else []
        detail = f": {tail[0]}" if tail else ""
        super().__init__(f"{shown} exited with code {result.exit_code}{detail}")
        self.result = result
        self.command = list(command) if command is not None else None
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    501: UnsupportedByServerError,
}


def decode_body(content: bytes) -> object | None:
    """The body of an answer: its JSON when it parses, else its text, else ``None`` when empty."""
    if not content:
        return None
    try:
        parsed: object = json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")
    return parsed


_NO_ROUTE = re.compile(r"^no route for (\S+ \S+?)(?:;|$)")


def error_for_status(status_code: int, content: bytes) -> APIStatusError:
    """The exception for an error answer: the class by status, the message from ``{"error": ...}``."""
    body = decode_body(content)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = body["error"]
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    else:
        message = "no message"
    if status_code == 404 and _is_unknown_route(body, message):
        return route_not_found(message, body)
    cls = _BY_STATUS.get(status_code) or (ServerError if status_code >= 500 else APIStatusError)
    return cls(message, status_code=status_code, body=body)


def _is_unknown_route(body: object, message: str) -> bool:
    # The Sandbox API names a missing sandbox or volume in {"error": ...}; a 404 for an unknown path says
    # "no route for ...", and a 404 without that body is not the API answering at all (a proxy, another app).
    if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
        return True
    return _NO_ROUTE.match(message) is not None


def route_not_found(message: str, body: object) -> RouteNotFoundError:
    """The error for a 404 that names no sandbox or volume but the route: the server has no such path."""
    match = _NO_ROUTE.match(message)
    what = match.group(1) if match else "this request"
    return RouteNotFoundError(
        f"the server has no route for {what}: check base_url, which should be the Sandbox API's root, such as "
        f"http://127.0.0.1:8080 for a local server, with no path after it unless the API is served under one "
        f"(the server said: {message})",
        status_code=404,
        body=body,
    )

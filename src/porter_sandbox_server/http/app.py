"""The Starlette app: the routes of ``routes/`` over a started ``SandboxService``, auth, and error answers.

Each route checks its request against ``openapi.yaml`` (``validation``), calls
the service, and answers the contract's JSON (``answers``). Errors:
``errors.ApiError`` becomes ``{"error": message}`` with its status; unknown
paths and methods answer 404/405 the same way; anything else is logged and
answers a bare 500, never a stack trace, except a full disk, wherever it is
met: that answers 507 with a message saying so.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from .. import errors
from ..core.service import SandboxService
from ..store import StoreFull
from .auth import BearerAuth
from .origins import SameOrigin
from .routes import (
    capabilities,
    health,
    log_follow,
    metrics,
    processes,
    sandboxes,
    snapshots,
    terminal,
    volume_files,
    volumes,
)
from .validation import ApiSpec

logger = logging.getLogger("porter_sandbox_server")


def _routes(service: SandboxService, spec: ApiSpec) -> list[BaseRoute]:
    return [
        *health.routes(service, spec),
        *sandboxes.routes(service, spec),
        *snapshots.routes(service, spec),
        *metrics.routes(service, spec),
        *volumes.routes(service, spec),
        *volume_files.routes(),
        # The extensions, under /x/ where Porter's API has no paths.
        *capabilities.routes(service, spec),
        *processes.routes(service, spec),
        *log_follow.routes(service, spec),
        *terminal.routes(service, spec),
    ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ApiError)
    return JSONResponse({"error": exc.message}, status_code=exc.status_code, headers=exc.headers or None)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route for {request.method} {request.url.path}; see openapi.yaml for the API's paths"
    elif exc.status_code == 405:
        allowed = _allowed_methods(request)
        message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        return JSONResponse({"error": message}, status_code=405, headers={"Allow": ", ".join(allowed)})
    else:
        message = str(exc.detail)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


def _allowed_methods(request: Request) -> list[str]:
    # Several routes may serve one path (one per method): Allow must name them all.
    # The router takes the first route whose path matches; the others with that path share it.
    allowed: set[str] = set()
    path_format: str | None = None
    for route in request.app.routes:
        if not isinstance(route, Route) or not route.methods:
            continue
        if path_format is None and route.matches(request.scope)[0] != Match.NONE:
            path_format = route.path_format
        if route.path_format == path_format:
            allowed |= route.methods
    return sorted(allowed)


#: What a request that found the disk full is answered (507), wherever the disk refused it.
DISK_FULL = (
    "the disk where the server keeps its records and volumes is full, so nothing of this request was "
    "recorded: free some space on it (delete volumes or files, or sandboxes' large outputs) and retry"
)


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is the disk refusing a write: the store's, or any file's."""
    if isinstance(exc, StoreFull):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "database or disk is full" in str(exc)


async def _disk_error(request: Request, exc: Exception) -> Response:
    if not disk_full(exc):
        raise exc  # a fault of another kind: the 500 below
    logger.warning("%s %s: the disk is full: %s", request.method, request.url.path, exc)
    return JSONResponse({"error": DISK_FULL}, status_code=errors.InsufficientStorage.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this answer, so the server logs its traceback.
    return JSONResponse({"error": "the server failed to answer this request; see the server's log"}, status_code=500)


def create_app(
    service: SandboxService, *, api_key: str | None = None, host: str = "127.0.0.1", spec: ApiSpec | None = None
) -> Starlette:
    """The ASGI app serving the Sandbox API over ``service`` (already started), at ``host`` (``--host``).

    With ``api_key``, every route but ``/healthz`` and ``/readyz`` needs it. Requests from web pages
    of other origins, and without a key requests to Hosts other than loopback's and ``host``, are
    refused (``origins``).
    """
    middleware = [Middleware(SameOrigin, host=host, check_host=not api_key)]
    if api_key:
        middleware.append(Middleware(BearerAuth, api_key=api_key))
    app = Starlette(
        routes=_routes(service, spec or ApiSpec()),
        middleware=middleware,
        exception_handlers={
            errors.ApiError: _api_error,
            HTTPException: _http_error,
            StoreFull: _disk_error,
            OSError: _disk_error,
            sqlite3.OperationalError: _disk_error,
            Exception: _server_error,
        },
    )
    app.state.service = service
    return app

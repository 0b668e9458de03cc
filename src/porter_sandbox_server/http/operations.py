"""Routes checked against the spec: each request's parameters are checked before its handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .validation import ApiSpec

#: A route's handler: the request, its checked query parameters and path parameters.
OperationHandler = Callable[[Request, dict[str, Any], dict[str, Any]], Awaitable[Response]]


def route(spec: ApiSpec, path: str, handlers: dict[str, OperationHandler]) -> Route:
    """One route for ``path``: checks each request's parameters against the spec, then calls its method's handler."""
    checked = {method: (spec.operation(method, path), handler) for method, handler in handlers.items()}

    async def endpoint(request: Request) -> Response:
        # Starlette answers HEAD wherever GET is allowed.
        operation, handler = checked["GET" if request.method == "HEAD" else request.method]
        return await handler(request, operation.query(request), operation.path(request))

    return Route(path, endpoint, methods=list(handlers))


def json_answer(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON answer."""
    return JSONResponse(body, status_code=status_code, headers=headers)

"""The HTTP layer: thin Starlette routes over ``SandboxService``.

Each route checks its request against ``openapi.yaml`` (``validation``), calls
the service, and answers what the service built from the generated models.
Errors: ``errors.ApiError`` becomes ``{"error": message}`` with its status;
unknown paths and methods answer 404/405 the same way; anything else is
logged and answers a bare 500, never a stack trace.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from porter_sandbox_api.models.health_response import HealthResponse
from porter_sandbox_api.models.ready_response import ReadyResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import errors
from .service import SandboxService, parse_time
from .store import SandboxFilter
from .validation import ApiSpec
from .volume_files_routes import routes as volume_file_routes

#: Routes anyone may call, API key or not: probes must work without secrets.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class BearerAuth:
    """ASGI middleware: every path but ``OPEN_PATHS`` needs ``Authorization: Bearer <api key>``."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            given = b""
            for key, value in scope["headers"]:
                if key == b"authorization":
                    given = value
                    break
            if not hmac.compare_digest(given, self._expected):
                message = (
                    "the API key is wrong; check the key the server was started with"
                    if given
                    else "this server needs an API key: send Authorization: Bearer <api key>"
                )
                response = JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=headers)


def _filters(query: dict[str, Any]) -> SandboxFilter:
    tags: list[tuple[str, str | None]] = []
    for tag in query.get("tag", []):
        # "key=value" must match exactly; a bare "key" only needs the key; "" filters nothing.
        key, sep, value = tag.partition("=")
        if key or sep:
            tags.append((key, value if sep else None))
    return SandboxFilter(
        search=query.get("search") or None,
        tags=tags,
        phases=list(query.get("phase", [])),
        image=query.get("image"),
        start=parse_time(query["start_time"], "start_time") if "start_time" in query else None,
        end=parse_time(query["end_time"], "end_time") if "end_time" in query else None,
    )


#: A route's handler: the request, its checked query parameters and path parameters.
OperationHandler = Callable[[Request, dict[str, Any], dict[str, Any]], Awaitable[Response]]


def _route(spec: ApiSpec, path: str, handlers: dict[str, OperationHandler]) -> Route:
    """One route for ``path``: checks each request's parameters against the spec, then calls its method's handler."""
    checked = {method: (spec.operation(method, path), handler) for method, handler in handlers.items()}

    async def endpoint(request: Request) -> Response:
        # Starlette answers HEAD wherever GET is allowed.
        operation, handler = checked["GET" if request.method == "HEAD" else request.method]
        return await handler(request, operation.query(request), operation.path(request))

    return Route(path, endpoint, methods=list(handlers))


def _routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    create_op = spec.operation("POST", "/v1/sandbox/run")
    exec_op = spec.operation("POST", "/v1/sandbox/{id}/exec")
    create_volume_op = spec.operation("POST", "/v1/volume")

    async def healthz(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(HealthResponse(status="ok").to_dict())

    async def readyz(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        reason, active = await service.readiness()
        if reason is not None:
            return _json(ReadyResponse(status="unavailable", active_sandboxes=active).to_dict(), 503)
        return _json(ReadyResponse(status="ready", active_sandboxes=active).to_dict())

    async def list_sandboxes(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(
            service.list_sandboxes(_filters(query), query.get("page", 1), query.get("include_filter_values", False))
        )

    async def counts(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.counts(_filters(query)))

    async def create_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        body = await create_op.json_body(request)
        return _json(await service.create_sandbox(body), 201)

    async def lookup_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.lookup_sandbox(query["name"]))

    async def get_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.status(path["id"]))

    async def delete_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        await service.terminate(path["id"], query.get("source", "sdk"))
        return Response(status_code=204)

    async def exec_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.get_record(path["id"])  # 404 for unknown ids before reading the body
        body = await exec_op.json_body(request)
        return _json(await service.exec(path["id"], body["command"]))

    async def sandbox_logs(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.logs(path["id"], query.get("limit"), query.get("since")))

    async def list_volumes(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.list_volumes())

    async def create_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        body = await create_volume_op.json_body(request)
        return _json(service.create_volume(body), 201)

    async def lookup_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.lookup_volume(query["name"]))

    async def get_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return _json(service.get_volume(path["id"]))

    async def delete_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        await service.delete_volume(path["id"])
        return Response(status_code=204)

    # Fixed paths before /{id}, so "lookup" and "counts" are never taken for ids.
    return [
        _route(spec, "/healthz", {"GET": healthz}),
        _route(spec, "/readyz", {"GET": readyz}),
        _route(spec, "/v1/sandbox", {"GET": list_sandboxes}),
        _route(spec, "/v1/sandbox/run", {"POST": create_sandbox}),
        _route(spec, "/v1/sandbox/lookup", {"GET": lookup_sandbox}),
        _route(spec, "/v1/sandbox/counts", {"GET": counts}),
        _route(spec, "/v1/sandbox/{id}", {"GET": get_sandbox, "DELETE": delete_sandbox}),
        _route(spec, "/v1/sandbox/{id}/exec", {"POST": exec_sandbox}),
        _route(spec, "/v1/sandbox/{id}/logs", {"GET": sandbox_logs}),
        _route(spec, "/v1/volume", {"GET": list_volumes, "POST": create_volume}),
        _route(spec, "/v1/volume/lookup", {"GET": lookup_volume}),
        _route(spec, "/v1/volume/{id}", {"GET": get_volume, "DELETE": delete_volume}),
        *volume_file_routes,
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


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this answer, so the server logs its traceback.
    return JSONResponse({"error": "the server failed to answer this request; see the server's log"}, status_code=500)


def create_app(service: SandboxService, *, api_key: str | None = None, spec: ApiSpec | None = None) -> Starlette:
    """The ASGI app serving the Sandbox API over ``service`` (already started).

    With ``api_key``, every route but ``/healthz`` and ``/readyz`` needs it.
    """
    app = Starlette(
        routes=_routes(service, spec or ApiSpec()),
        middleware=[Middleware(BearerAuth, api_key=api_key)] if api_key else [],
        exception_handlers={
            errors.ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.service = service
    return app

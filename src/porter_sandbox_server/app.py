"""The HTTP layer: thin Starlette routes over ``SandboxService``.

Each route checks its request against ``openapi.yaml`` (``validation``), calls
the service, and answers what the service built from the generated models.
Errors: ``errors.ApiError`` becomes ``{"error": message}`` with its status;
unknown paths and methods answer 404/405 the same way; anything else is
logged and answers a bare 500, never a stack trace.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from porter_sandbox_api.models.health_response import HealthResponse
from porter_sandbox_api.models.ready_response import ReadyResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import errors
from .service import SandboxService, parse_time
from .store import SandboxFilter
from .validation import ApiSpec, Operation
from .volume_files_routes import routes as volume_file_routes

logger = logging.getLogger("porter_sandbox_server")

#: Routes anyone may call, API key or not: probes must work without secrets.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})

Handler = Callable[[Request], Awaitable[Response]]


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
    tags: list[tuple[str, str]] = []
    for tag in query.get("tag", []):
        key, sep, value = tag.partition("=")
        if not sep or not key:
            raise errors.BadRequest(f"query parameter 'tag': {tag!r} is not key=value; send tags as tag=env%3Dprod")
        tags.append((key, value))
    return SandboxFilter(
        search=query.get("search") or None,
        tags=tags,
        phases=list(query.get("phase", [])),
        image=query.get("image"),
        start=parse_time(query["start_time"], "start_time") if "start_time" in query else None,
        end=parse_time(query["end_time"], "end_time") if "end_time" in query else None,
    )


def _routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    op: Callable[[str, str], Operation] = spec.operation

    health_op = op("GET", "/healthz")
    ready_op = op("GET", "/readyz")
    list_op = op("GET", "/v1/sandbox")
    counts_op = op("GET", "/v1/sandbox/counts")
    create_op = op("POST", "/v1/sandbox/run")
    lookup_op = op("GET", "/v1/sandbox/lookup")
    get_op = op("GET", "/v1/sandbox/{id}")
    delete_op = op("DELETE", "/v1/sandbox/{id}")
    exec_op = op("POST", "/v1/sandbox/{id}/exec")
    logs_op = op("GET", "/v1/sandbox/{id}/logs")
    list_volumes_op = op("GET", "/v1/volume")
    create_volume_op = op("POST", "/v1/volume")
    lookup_volume_op = op("GET", "/v1/volume/lookup")
    get_volume_op = op("GET", "/v1/volume/{id}")
    delete_volume_op = op("DELETE", "/v1/volume/{id}")

    async def healthz(request: Request) -> Response:
        health_op.query(request)
        return _json(HealthResponse(status="ok").to_dict())

    async def readyz(request: Request) -> Response:
        ready_op.query(request)
        reason, active = await service.readiness()
        if reason is not None:
            return _json(ReadyResponse(status="unavailable", active_sandboxes=active).to_dict(), 503)
        return _json(ReadyResponse(status="ready", active_sandboxes=active).to_dict())

    async def list_sandboxes(request: Request) -> Response:
        query = list_op.query(request)
        return _json(
            service.list_sandboxes(_filters(query), query.get("page", 1), query.get("include_filter_values", False))
        )

    async def counts(request: Request) -> Response:
        return _json(service.counts(_filters(counts_op.query(request))))

    async def create_sandbox(request: Request) -> Response:
        body = await create_op.json_body(request)
        return _json(await service.create_sandbox(body), 201)

    async def lookup_sandbox(request: Request) -> Response:
        return _json(service.lookup_sandbox(lookup_op.query(request)["name"]))

    async def get_sandbox(request: Request) -> Response:
        return _json(service.status(get_op.path(request)["id"]))

    async def delete_sandbox(request: Request) -> Response:
        sandbox_id = delete_op.path(request)["id"]
        source = delete_op.query(request).get("source", "sdk")
        await service.terminate(sandbox_id, source)
        return Response(status_code=204)

    async def exec_sandbox(request: Request) -> Response:
        sandbox_id = exec_op.path(request)["id"]
        service.get_record(sandbox_id)  # 404 for unknown ids before reading the body
        body = await exec_op.json_body(request)
        return _json(await service.exec(sandbox_id, body["command"]))

    async def sandbox_logs(request: Request) -> Response:
        sandbox_id = logs_op.path(request)["id"]
        query = logs_op.query(request)
        return _json(service.logs(sandbox_id, query.get("limit"), query.get("since")))

    async def list_volumes(request: Request) -> Response:
        list_volumes_op.query(request)
        return _json(service.list_volumes())

    async def create_volume(request: Request) -> Response:
        body = await create_volume_op.json_body(request)
        return _json(service.create_volume(body), 201)

    async def lookup_volume(request: Request) -> Response:
        return _json(service.lookup_volume(lookup_volume_op.query(request)["name"]))

    async def get_volume(request: Request) -> Response:
        return _json(service.get_volume(get_volume_op.path(request)["id"]))

    async def delete_volume(request: Request) -> Response:
        await service.delete_volume(delete_volume_op.path(request)["id"])
        return Response(status_code=204)

    # Fixed paths before /{id}, so "lookup" and "counts" are never taken for ids.
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/v1/sandbox", list_sandboxes, methods=["GET"]),
        Route("/v1/sandbox/run", create_sandbox, methods=["POST"]),
        Route("/v1/sandbox/lookup", lookup_sandbox, methods=["GET"]),
        Route("/v1/sandbox/counts", counts, methods=["GET"]),
        Route("/v1/sandbox/{id}", get_sandbox, methods=["GET"]),
        Route("/v1/sandbox/{id}", delete_sandbox, methods=["DELETE"]),
        Route("/v1/sandbox/{id}/exec", exec_sandbox, methods=["POST"]),
        Route("/v1/sandbox/{id}/logs", sandbox_logs, methods=["GET"]),
        Route("/v1/volume", list_volumes, methods=["GET"]),
        Route("/v1/volume", create_volume, methods=["POST"]),
        Route("/v1/volume/lookup", lookup_volume, methods=["GET"]),
        Route("/v1/volume/{id}", get_volume, methods=["GET"]),
        Route("/v1/volume/{id}", delete_volume, methods=["DELETE"]),
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
        message = f"{request.method} is not allowed on {request.url.path}; see openapi.yaml for its methods"
    else:
        message = str(exc.detail)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
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

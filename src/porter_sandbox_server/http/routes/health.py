"""``GET /healthz`` (the process is up) and ``GET /readyz`` (sandboxes can run now)."""

from __future__ import annotations

from typing import Any

from porter_sandbox_api.models.health_response import HealthResponse
from porter_sandbox_api.models.ready_response import ReadyResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.service import SandboxService
from ..operations import json_answer, route
from ..validation import ApiSpec


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The probes' routes."""

    async def healthz(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(HealthResponse(status="ok").to_dict())

    async def readyz(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        reason, active = await service.readiness()
        if reason is not None:
            return json_answer(ReadyResponse(status="unavailable", active_sandboxes=active).to_dict(), 503)
        return json_answer(ReadyResponse(status="ready", active_sandboxes=active).to_dict())

    return [
        route(spec, "/healthz", {"GET": healthz}),
        route(spec, "/readyz", {"GET": readyz}),
    ]

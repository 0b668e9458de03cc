"""``GET /x/v1/capabilities`` (an extension): the runtime, and which extensions this server serves with it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.service import SandboxService
from .. import answers
from ..operations import json_answer, route
from ..validation import ApiSpec


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The capabilities route."""

    async def capabilities(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.capabilities(service.runtime.name, service.extensions()))

    return [route(spec, "/x/v1/capabilities", {"GET": capabilities})]

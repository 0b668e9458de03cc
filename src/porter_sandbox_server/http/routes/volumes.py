"""``/v1/volume...``: create, find, list and delete volumes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.requests import VolumeRequest
from ...core.service import SandboxService
from .. import answers
from ..operations import json_answer, route
from ..validation import ApiSpec


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The volume routes; ``/v1/volume/lookup`` comes before ``/{id}``."""
    create_op = spec.operation("POST", "/v1/volume")

    async def list_volumes(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.volumes(await service.list_volumes()))

    async def create_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        body = await create_op.json_body(request)
        return json_answer(answers.volume(await service.create_volume(VolumeRequest.from_json(body))), 201)

    async def lookup_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer({"id": service.lookup_volume(query["name"])})

    async def get_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.volume(await service.get_volume(path["id"])))

    async def delete_volume(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        await service.delete_volume(path["id"])
        return Response(status_code=204)

    return [
        route(spec, "/v1/volume", {"GET": list_volumes, "POST": create_volume}),
        route(spec, "/v1/volume/lookup", {"GET": lookup_volume}),
        route(spec, "/v1/volume/{id}", {"GET": get_volume, "DELETE": delete_volume}),
    ]

"""``/v1/sandbox/{id}/snapshot`` and ``/v1/snapshot...``: take, list, read and delete snapshots."""

from __future__ import annotations

from typing import Any

from porter_sandbox_api.models.snapshot import Snapshot
from porter_sandbox_api.models.snapshot_list_response import SnapshotListResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.service import SandboxService
from ...store import SnapshotRecord
from ..operations import json_answer, route
from ..validation import ApiSpec


def _millis(seconds: float) -> int:
    return round(seconds * 1000)


def snapshot(record: SnapshotRecord) -> Snapshot:
    """``Snapshot``, built with the generated model."""
    answer = Snapshot(
        id=record.id,
        sandbox_id=record.sandbox_id,
        mode=record.mode,
        status=record.status,
        t_created_unix_ms=_millis(record.created_at),
    )
    if record.ready_at is not None:
        answer.t_ready_unix_ms = _millis(record.ready_at)
    if record.failure_reason is not None:
        answer.failure_reason = record.failure_reason
    if record.size_bytes is not None:
        answer.size_bytes = record.size_bytes
    return answer


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The snapshot routes."""
    create_op = spec.operation("POST", "/v1/sandbox/{id}/snapshot")

    async def create_snapshot(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        sandbox = service.get_record(path["id"])  # 404 for unknown ids before reading the body
        body = await create_op.json_body(request, optional=True)
        record = service.snapshots.create(sandbox, body.get("mode") or "filesystem")
        return json_answer(snapshot(record).to_dict(), 201)

    async def list_snapshots(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        records = service.snapshots.list(query.get("sandbox_id"))
        return json_answer(SnapshotListResponse(snapshots=[snapshot(record) for record in records]).to_dict())

    async def get_snapshot(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(snapshot(service.snapshots.get(path["id"])).to_dict())

    async def delete_snapshot(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        await service.snapshots.delete(path["id"])
        return Response(status_code=204)

    return [
        route(spec, "/v1/sandbox/{id}/snapshot", {"POST": create_snapshot}),
        route(spec, "/v1/snapshot", {"GET": list_snapshots}),
        route(spec, "/v1/snapshot/{id}", {"GET": get_snapshot, "DELETE": delete_snapshot}),
    ]

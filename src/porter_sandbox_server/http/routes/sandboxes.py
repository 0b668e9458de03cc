"""``/v1/sandbox...``: create, find, list, count, exec into, read the logs of and terminate sandboxes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ...core.requests import SandboxRequest
from ...core.service import SandboxService
from ...core.times import parse_time
from ...store import SandboxFilter
from .. import answers
from ..operations import json_answer, route
from ..validation import ApiSpec


def filters(query: dict[str, Any]) -> SandboxFilter:
    """The list and counts filters of a checked query."""
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


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The sandbox routes; fixed paths come before ``/{id}`` so "lookup" and "counts" are never taken for ids."""
    create_op = spec.operation("POST", "/v1/sandbox/run")
    exec_op = spec.operation("POST", "/v1/sandbox/{id}/exec")

    async def list_sandboxes(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        page = service.list_sandboxes(filters(query), query.get("page", 1), query.get("include_filter_values", False))
        return json_answer(answers.sandbox_page(page))

    async def counts(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.counts(service.counts(filters(query))))

    async def create_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        body = await create_op.json_body(request)
        record = await service.create_sandbox(SandboxRequest.from_json(body))
        return json_answer(answers.created(record), 201)

    async def lookup_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer({"id": service.lookup_sandbox(query["name"])})

    async def get_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.status(service.get_record(path["id"])))

    async def delete_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        await service.terminate(path["id"], query.get("source", "sdk"))
        return Response(status_code=204)

    async def exec_sandbox(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.get_record(path["id"])  # 404 for unknown ids before reading the body
        body = await exec_op.json_body(request)
        result = await service.exec(path["id"], body["command"])
        if len(result.output.stdout) + len(result.output.stderr) <= answers.CHUNK_CHARS:
            return json_answer(answers.exec_result(result))
        return StreamingResponse(answers.exec_result_chunks(result), media_type="application/json")

    async def sandbox_logs(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        page = service.logs(path["id"], query.get("limit"), query.get("since"))
        if len(page.rows) <= answers.CHUNK_ROWS:
            return json_answer(answers.logs(path["id"], page))
        return StreamingResponse(answers.logs_chunks(path["id"], page), media_type="application/json")

    return [
        route(spec, "/v1/sandbox", {"GET": list_sandboxes}),
        route(spec, "/v1/sandbox/run", {"POST": create_sandbox}),
        route(spec, "/v1/sandbox/lookup", {"GET": lookup_sandbox}),
        route(spec, "/v1/sandbox/counts", {"GET": counts}),
        route(spec, "/v1/sandbox/{id}", {"GET": get_sandbox, "DELETE": delete_sandbox}),
        route(spec, "/v1/sandbox/{id}/exec", {"POST": exec_sandbox}),
        route(spec, "/v1/sandbox/{id}/logs", {"GET": sandbox_logs}),
    ]

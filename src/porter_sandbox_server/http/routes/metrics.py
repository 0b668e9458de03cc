"""``/v1/sandbox/{id}/metrics-summary`` and ``/v1/sandbox/{id}/metrics``: a sandbox's CPU and memory use."""

from __future__ import annotations

from typing import Any

from porter_sandbox_api.models.metric_summary_response import MetricSummaryResponse
from porter_sandbox_api.models.sandbox_metrics_point import SandboxMetricsPoint
from porter_sandbox_api.models.sandbox_metrics_response import SandboxMetricsResponse
from porter_sandbox_api.models.sandbox_metrics_result import SandboxMetricsResult
from porter_sandbox_api.models.sandbox_metrics_series import SandboxMetricsSeries
from porter_sandbox_api.models.string_map import StringMap
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.metrics import Series, Summary
from ...core.service import SandboxService
from ...core.times import parse_since, parse_time
from ..answers import timestamp
from ..operations import json_answer, route
from ..validation import ApiSpec


def summary(found: Summary) -> dict[str, Any]:
    """``MetricSummaryResponse``."""
    return MetricSummaryResponse(
        window_seconds=found.window_seconds,
        has_data=found.has_data,
        cpu_cores_p50=found.cpu_cores_p50,
        cpu_cores_p90=found.cpu_cores_p90,
        cpu_limit_cores=found.cpu_limit_cores,
        cpu_util_p50_pct=found.cpu_util_p50_pct,
        cpu_util_p90_pct=found.cpu_util_p90_pct,
        mem_bytes_p50=found.mem_bytes_p50,
        mem_bytes_p90=found.mem_bytes_p90,
        mem_limit_bytes=found.mem_limit_bytes,
        mem_util_p50_pct=found.mem_util_p50_pct,
        mem_util_p90_pct=found.mem_util_p90_pct,
    ).to_dict()


def series(sandbox_id: str, found: Series) -> dict[str, Any]:
    """``SandboxMetricsResponse``: one result, with one series (none when nothing was measured)."""
    listed: list[SandboxMetricsSeries] = []
    if found.points is not None:
        points = [
            SandboxMetricsPoint(timestamp_utc=timestamp(ts).isoformat().replace("+00:00", "Z"), value=value)
            for ts, value in found.points
        ]
        labels = StringMap.from_dict({"sandbox_id": sandbox_id, "metric": found.metric})
        listed.append(SandboxMetricsSeries(time_series=points, labels=labels, unit=found.unit))
    return SandboxMetricsResponse(results=[SandboxMetricsResult(series=listed)]).to_dict()


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The metrics routes."""

    async def metrics_summary(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        record = service.get_record(path["id"])
        since = parse_since(query["since"], service.clock.time()) if "since" in query else None
        return json_answer(summary(service.metrics.summary(record, since)))

    async def metrics(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        record = service.get_record(path["id"])
        start = parse_time(query["start_time_utc"], "start_time_utc")
        end = parse_time(query["end_time_utc"], "end_time_utc")
        return json_answer(series(record.id, service.metrics.series(record, query["metric"], start, end)))

    return [
        route(spec, "/v1/sandbox/{id}/metrics-summary", {"GET": metrics_summary}),
        route(spec, "/v1/sandbox/{id}/metrics", {"GET": metrics}),
    ]

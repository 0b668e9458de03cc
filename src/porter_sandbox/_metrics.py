"""A sandbox's CPU and memory: ``sandbox.metrics_summary()`` and ``sandbox.metrics()``, their answers and queries.

The answers keep the API's shape and Porter's published names
(``MetricSummaryResponse``, ``SandboxMetricsResponse`` -> ``results`` ->
``series`` -> ``time_series`` of ``SandboxMetricsPoint``); the query
decisions live here once for ``Sandbox`` and ``AsyncSandbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, Literal

from ._enums import SandboxMetric, check_member
from ._times import aware, moment, since_value

if TYPE_CHECKING:
    from porter_sandbox_api.models import MetricSummaryResponse as GeneratedSummary
    from porter_sandbox_api.models import SandboxMetricsResponse as GeneratedMetrics

__all__ = [
    "MetricName",
    "MetricSummaryResponse",
    "SandboxMetricsPoint",
    "SandboxMetricsResponse",
    "SandboxMetricsResult",
    "SandboxMetricsSeries",
    "metrics_from",
    "metrics_query",
    "summary_from",
    "summary_query",
]

MetricName = Literal["cpu_usage", "cpu_reserved", "memory_usage", "memory_reserved", "network_rx", "network_tx"]
"""A metric ``sandbox.metrics()`` answers the time series of."""
DEFAULT_WINDOW: Final = timedelta(hours=1)


@dataclass(frozen=True)
class MetricSummaryResponse:
    """The 50th and 90th percentiles of a sandbox's CPU and memory use over a window (``sandbox.metrics_summary()``).

    Percentages are of the sandbox's limits (``resources``), zero without one.
    Memory includes page cache. While ``has_data`` is false (a sandbox not
    sampled yet in the window) every figure is zero and means "no data yet".
    The published client's names (``cpu_cores_p_50``, ...) answer the same.
    """

    window_seconds: int
    """The length of the window, in seconds."""
    has_data: bool
    """Whether the sandbox was sampled in the window."""
    cpu_cores_p50: float
    """The median CPU use, in cores."""
    cpu_cores_p90: float
    """The 90th percentile of CPU use, in cores."""
    cpu_limit_cores: float
    """The CPU limit, in cores; zero without one."""
    cpu_util_p50_pct: float
    """The median CPU use, as a percentage of the limit."""
    cpu_util_p90_pct: float
    """The 90th percentile of CPU use, as a percentage of the limit."""
    mem_bytes_p50: int
    """The median memory use, in bytes."""
    mem_bytes_p90: int
    """The 90th percentile of memory use, in bytes."""
    mem_limit_bytes: int
    """The memory limit, in bytes; zero without one."""
    mem_util_p50_pct: float
    """The median memory use, as a percentage of the limit."""
    mem_util_p90_pct: float
    """The 90th percentile of memory use, as a percentage of the limit."""

    @property
    def cpu_cores_p_50(self) -> float:
        """The published client's name for :attr:`cpu_cores_p50`."""
        return self.cpu_cores_p50

    @property
    def cpu_cores_p_90(self) -> float:
        """The published client's name for :attr:`cpu_cores_p90`."""
        return self.cpu_cores_p90

    @property
    def cpu_util_p_50_pct(self) -> float:
        """The published client's name for :attr:`cpu_util_p50_pct`."""
        return self.cpu_util_p50_pct

    @property
    def cpu_util_p_90_pct(self) -> float:
        """The published client's name for :attr:`cpu_util_p90_pct`."""
        return self.cpu_util_p90_pct

    @property
    def mem_bytes_p_50(self) -> int:
        """The published client's name for :attr:`mem_bytes_p50`."""
        return self.mem_bytes_p50

    @property
    def mem_bytes_p_90(self) -> int:
        """The published client's name for :attr:`mem_bytes_p90`."""
        return self.mem_bytes_p90

    @property
    def mem_util_p_50_pct(self) -> float:
        """The published client's name for :attr:`mem_util_p50_pct`."""
        return self.mem_util_p50_pct

    @property
    def mem_util_p_90_pct(self) -> float:
        """The published client's name for :attr:`mem_util_p90_pct`."""
        return self.mem_util_p90_pct


@dataclass(frozen=True)
class SandboxMetricsPoint:
    """One sample of a metric."""

    timestamp_utc: str
    """When it was taken, as the server wrote it (RFC 3339, UTC)."""
    value: float
    """Its value, in the series' ``unit``."""

    @property
    def timestamp(self) -> datetime:
        """When it was taken, as an aware ``datetime``."""
        return moment(self.timestamp_utc, "timestamp_utc")


@dataclass(frozen=True)
class SandboxMetricsSeries:
    """The samples of one metric from one source, oldest first."""

    time_series: list[SandboxMetricsPoint]
    """The samples, oldest first."""
    labels: dict[str, str] | None = None
    """What identifies the source, when the server says."""
    unit: str | None = None
    """The unit of the values: ``cores``, ``bytes`` or ``bytes/sec``."""


@dataclass(frozen=True)
class SandboxMetricsResult:
    """The series one query answered."""

    series: list[SandboxMetricsSeries]
    """One series per source (normally one; none when the metric has no data)."""


@dataclass(frozen=True)
class SandboxMetricsResponse:
    """A sandbox's metric over a time range (``sandbox.metrics()``): ``results`` -> ``series`` -> ``time_series``."""

    results: list[SandboxMetricsResult]
    """One result per query (one)."""

    @property
    def series(self) -> list[SandboxMetricsSeries]:
        """Every series of every result: usually one, empty when the metric has no data for the range."""
        return [series for result in self.results for series in result.series]

    @property
    def points(self) -> list[SandboxMetricsPoint]:
        """The samples of the only series, oldest first (empty without data); ``ValueError`` when there are several."""
        found = self.series
        if len(found) > 1:
            raise ValueError(f"the answer holds {len(found)} series; read them from .series")
        return list(found[0].time_series) if found else []


def summary_query(since: str | datetime | timedelta | None) -> dict[str, Any]:
    """The query of ``metrics_summary()``: ``since`` as a duration back from now or an RFC 3339 time."""
    return {} if since is None else {"since": since_value(since)}


def metrics_query(
    metric: SandboxMetric | MetricName,
    start_time: str | datetime | timedelta | None,
    end_time: str | datetime | None,
) -> dict[str, Any]:
    """The query of ``metrics()``: the metric, and a range that ends at ``end_time`` (now) and starts at
    ``start_time`` (a time, or a duration before the end; an hour when ``None``)."""
    from porter_sandbox_api.models import SandboxMetric as GeneratedMetric

    chosen = check_member(SandboxMetric, metric, "metric")
    end = datetime.now(timezone.utc) if end_time is None else aware(moment(end_time, "end_time"))
    if start_time is None:
        start = end - DEFAULT_WINDOW
    elif isinstance(start_time, timedelta):
        if start_time <= timedelta(0):
            raise ValueError(f"start_time as a duration must be above zero, not {start_time!r}")
        start = end - start_time
    else:
        start = aware(moment(start_time, "start_time"))
    if start >= end:
        raise ValueError(f"start_time ({start.isoformat()}) must be before end_time ({end.isoformat()})")
    return {"metric": GeneratedMetric(chosen.value), "start_time_utc": start, "end_time_utc": end}


def summary_from(answer: GeneratedSummary) -> MetricSummaryResponse:
    """A :class:`MetricSummaryResponse` from the generated one."""
    return MetricSummaryResponse(
        window_seconds=answer.window_seconds,
        has_data=answer.has_data,
        cpu_cores_p50=answer.cpu_cores_p50,
        cpu_cores_p90=answer.cpu_cores_p90,
        cpu_limit_cores=answer.cpu_limit_cores,
        cpu_util_p50_pct=answer.cpu_util_p50_pct,
        cpu_util_p90_pct=answer.cpu_util_p90_pct,
        mem_bytes_p50=int(answer.mem_bytes_p50),
        mem_bytes_p90=int(answer.mem_bytes_p90),
        mem_limit_bytes=int(answer.mem_limit_bytes),
        mem_util_p50_pct=answer.mem_util_p50_pct,
        mem_util_p90_pct=answer.mem_util_p90_pct,
    )


def metrics_from(answer: GeneratedMetrics) -> SandboxMetricsResponse:
    """A :class:`SandboxMetricsResponse` from the generated one."""
    from porter_sandbox_api.types import Unset

    def labels(value: Any) -> dict[str, str] | None:
        return None if isinstance(value, Unset) else dict(value.additional_properties)

    return SandboxMetricsResponse(
        results=[
            SandboxMetricsResult(
                series=[
                    SandboxMetricsSeries(
                        time_series=[
                            SandboxMetricsPoint(timestamp_utc=point.timestamp_utc, value=point.value)
                            for point in series.time_series
                        ],
                        labels=labels(series.labels),
                        unit=None if isinstance(series.unit, Unset) else series.unit,
                    )
                    for series in result.series
                ]
            )
            for result in answer.results
        ]
    )

"""The new arguments (specs, snapshot modes, metrics, times) are checked before anything is sent, and sent as the API
takes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import pytest
from sdk_mock import STATUS, Script, answer, porter_with, refuse_requests

from porter_sandbox import (
    SandboxDomainSpec,
    SandboxEgressSpec,
    SandboxNetworkingSpec,
    SandboxResourcesSpec,
    SnapshotMode,
    SnapshotSpec,
    VolumeObjectSpec,
    VolumeObjectSpecAccess,
)


@pytest.mark.parametrize(
    ("make", "complaint"),
    [
        (lambda: SandboxNetworkingSpec(port=0), "port must be a whole number from 1 to 65535"),
        (lambda: SandboxNetworkingSpec(port="8000"), "port must be"),
        (lambda: SandboxNetworkingSpec(port=8000, domains={"domain": "x"}), "list of SandboxDomainSpec"),
        (lambda: SandboxNetworkingSpec(port=8000, domains=[{"host": "x"}]), r"keys \['domain', 'visibility'\]"),
        (lambda: SandboxNetworkingSpec(port=8000, internal="yes"), "internal must be"),
        (lambda: SandboxDomainSpec(visibility="secret"), "visibility must be one of 'public', 'private'"),
        (lambda: SandboxEgressSpec(allowed_destinations="pypi.org"), "list of strings"),
        (lambda: SandboxEgressSpec(allowed_destinations=[""]), "non-empty string"),
        (lambda: SandboxResourcesSpec(cpu=True), "Kubernetes quantity"),
        (lambda: VolumeObjectSpec(bucket=""), "bucket must be"),
        (lambda: VolumeObjectSpec(bucket="b", access="readonly"), "access must be one of 'read_write'"),
        (lambda: VolumeObjectSpec(bucket="b", mode="block"), "mode must be one of 'object', 'filesystem'"),
        (lambda: SnapshotSpec(mode="memory"), "mode must be one of 'filesystem', 'full'"),
    ],
)
def test_a_spec_is_checked_when_it_is_made(make: Any, complaint: str) -> None:
    with pytest.raises((TypeError, ValueError), match=complaint):
        make()


def test_a_spec_holds_enum_members_and_equals_its_twin_made_from_strings() -> None:
    spec = VolumeObjectSpec(bucket="datasets", prefix="runs", access="read_only", mode="object")
    assert spec.access is VolumeObjectSpecAccess.READ_ONLY and spec.access.value == "read_only"
    assert spec == VolumeObjectSpec(
        bucket="datasets", prefix="runs", access=VolumeObjectSpecAccess.READ_ONLY, mode="object"
    )
    assert SnapshotSpec(mode="full").mode is SnapshotMode.FULL
    assert SandboxResourcesSpec(cpu=0.5, memory="1Gi").cpu == "0.5"


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (lambda p: p.sandboxes.create(), "unless snapshot_id"),
        (lambda p: p.sandboxes.create(snapshot_id=""), "snapshot_id must be"),
        (lambda p: p.sandboxes.create("img", env_groups="team"), "list of strings"),
        (lambda p: p.sandboxes.create("img", env_groups=[" "]), "env_groups must name groups"),
        (lambda p: p.sandboxes.create("img", networking={"port": 80}), "networking must be a list"),
        (lambda p: p.sandboxes.create("img", networking=[{"port": 80, "tls": True}]), "takes the keys"),
        (lambda p: p.sandboxes.create("img", egress=["pypi.org"]), "SandboxEgressSpec or a mapping"),
        (lambda p: p.sandboxes.create("img", resources={"gpu": "1"}), r"keys \['cpu', 'memory'\]"),
        (lambda p: p.volumes.create(type="object"), "needs object=VolumeObjectSpec"),
        (lambda p: p.volumes.create(type="disk", object={"bucket": "b"}), "pass type='object'"),
        (lambda p: p.volumes.create(type="tape"), "type must be one of 'disk', 'object'"),
        (lambda p: p.snapshots.create("sb-1", SnapshotSpec(mode="full"), mode="full"), "not both"),
        (lambda p: p.snapshots.create("sb-1", mode="fulll"), "mode must be one of"),
        (lambda p: p.snapshots.create(""), "sandbox's id"),
        (lambda p: p.sandboxes.list(start_time="yesterday"), "start_time must be an RFC 3339 time"),
        (lambda p: p.sandboxes.list(end_time=20260101), "end_time must be a datetime"),
        (lambda p: p.sandboxes.list(page=0), "page must be"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(call: Any, complaint: str) -> None:
    with porter_with(refuse_requests) as porter, pytest.raises((TypeError, ValueError), match=complaint):
        call(porter)


def _query(script: Script, index: int = -1) -> dict[str, list[str]]:
    return parse_qs(script.requests[index].url.query.decode())


def test_list_takes_times_as_strings_or_datetimes_and_asks_for_filter_values() -> None:
    page = {
        "sandboxes": [STATUS],
        "pagination": {"current_page": 1, "total_pages": 1, "has_next_page": False},
        "filter_values": {"tags": ["workflow=demo"], "images": ["python:3.12-slim"], "phases": ["queued", "paused"]},
    }
    script = Script(answer(200, page))
    with porter_with(script) as porter:
        found = porter.sandboxes.list(
            start_time="2026-01-01T00:00:00Z",
            end_time=datetime(2026, 1, 2, tzinfo=timezone.utc),
            include_filter_values=True,
            page=None,
            phase=["running"],
        )
        assert found.filter_values is not None and found.filter_values.tags == ["workflow=demo"]
        assert [phase.value for phase in found.filter_values.phases] == ["queued", "paused"]
        porter.sandboxes.list()
    query = _query(script, 0)
    assert query["start_time"] == ["2026-01-01T00:00:00+00:00"] and query["end_time"] == ["2026-01-02T00:00:00+00:00"]
    assert query["include_filter_values"] == ["true"] and query["page"] == ["1"] and query["phase"] == ["running"]
    assert "include_filter_values" not in _query(script)


def test_metrics_ask_for_the_range_and_the_summary_for_its_window() -> None:
    summary = {
        "window_seconds": 300,
        "has_data": True,
        "cpu_cores_p50": 0.25,
        "cpu_cores_p90": 0.5,
        "cpu_limit_cores": 1.0,
        "cpu_util_p50_pct": 25.0,
        "cpu_util_p90_pct": 50.0,
        "mem_bytes_p50": 1024,
        "mem_bytes_p90": 2048,
        "mem_limit_bytes": 4096,
        "mem_util_p50_pct": 25.0,
        "mem_util_p90_pct": 50.0,
    }
    points = [
        {"timestamp_utc": "2026-01-01T00:00:00Z", "value": 1024.0},
        {"timestamp_utc": "2026-01-01T00:00:05Z", "value": 2048.0},
    ]
    series = {"results": [{"series": [{"unit": "bytes", "time_series": points}]}]}
    script = Script(answer(200, {"id": "sb-1"}), answer(200, STATUS), answer(200, summary), answer(200, series))
    end = datetime(2026, 1, 1, 0, 10, tzinfo=timezone.utc)
    with porter_with(script) as porter:
        sandbox = porter.sandboxes.get("sb-1")
        found = sandbox.metrics_summary(since=timedelta(minutes=5))
        assert (found.cpu_cores_p90, found.cpu_cores_p_90, found.mem_util_p_50_pct) == (0.5, 0.5, 25.0)
        usage = sandbox.metrics("memory_usage", start_time=timedelta(minutes=10), end_time=end)
        assert [point.value for point in usage.points] == [1024.0, 2048.0]
        assert usage.series[0].unit == "bytes" and usage.points[1].timestamp == datetime(
            2026, 1, 1, 0, 0, 5, tzinfo=timezone.utc
        )
        with pytest.raises(ValueError, match="metric must be one of 'cpu_usage'"):
            sandbox.metrics("gpu_usage")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="must be before end_time"):
            sandbox.metrics("cpu_usage", start_time=end, end_time=end)
    assert _query(script, 2) == {"since": ["300s"]}
    assert _query(script, 3) == {
        "metric": ["memory_usage"],
        "start_time_utc": ["2026-01-01T00:00:00+00:00"],
        "end_time_utc": ["2026-01-01T00:10:00+00:00"],
    }

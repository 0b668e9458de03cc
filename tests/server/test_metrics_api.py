"""Sandbox metrics over real HTTP on every runtime: percentiles against limits, series, what is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from runtime_servers import RuntimeServer, start_server
from server_calls import create, wait_for

from porter_sandbox.testing import LocalServer

pytestmark = pytest.mark.slow

RUNTIMES = [
    pytest.param("process", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
]
INTERVAL = 0.2
MEMORY_LIMIT = 256 * 1024 * 1024


@pytest.fixture(scope="module", params=RUNTIMES)
def sampled(request: pytest.FixtureRequest) -> Iterator[RuntimeServer]:
    """A server that samples every 0.2 s."""
    server = start_server(request.param, extra_args=["--metrics-interval", str(INTERVAL)])
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def http(sampled: RuntimeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sampled.url, timeout=60) as client:
        yield client


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def summary_with_data(client: httpx.Client, sandbox_id: str, samples: int = 8) -> dict[str, Any]:
    """The last minute's summary, once the sandbox has been sampled ``samples`` times."""
    time.sleep(samples * INTERVAL)
    deadline = time.monotonic() + 30
    while True:
        answer = client.get(f"/v1/sandbox/{sandbox_id}/metrics-summary", params={"since": "1m"})
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        if found["has_data"]:
            return found
        assert time.monotonic() < deadline, "the sandbox was never sampled"
        time.sleep(INTERVAL)


def series(client: httpx.Client, sandbox_id: str, metric: str) -> list[dict[str, Any]]:
    now = datetime.now(timezone.utc)
    answer = client.get(
        f"/v1/sandbox/{sandbox_id}/metrics",
        params={"metric": metric, "start_time_utc": iso(now - timedelta(minutes=5)), "end_time_utc": iso(now)},
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 1
    found: list[dict[str, Any]] = results[0]["series"]
    return found


def test_a_busy_sandbox_has_percentiles_against_its_limits_and_series(
    http: httpx.Client, sampled: RuntimeServer
) -> None:
    # Half a core, a loop that wants a whole one, and 24 MB of files in the page cache.
    busy = "head -c 25165824 /dev/zero > /tmp/fill; while :; do :; done"
    sandbox_id = create(
        http, image=sampled.image, command=["sh", "-c", busy], resources={"cpu": "500m", "memory": "256Mi"}
    )
    wait_for(http, sandbox_id, {"running"}, timeout=60)
    found = summary_with_data(http, sandbox_id)
    assert found["window_seconds"] == 60
    assert (found["cpu_limit_cores"], found["mem_limit_bytes"]) == (0.5, MEMORY_LIMIT)
    # Held near half a core (a sample over 0.2 s may catch one CFS period more or less than its share).
    assert 0.15 < found["cpu_cores_p90"] < 0.9, found
    assert found["cpu_cores_p50"] <= found["cpu_cores_p90"]
    assert found["cpu_util_p90_pct"] == pytest.approx(found["cpu_cores_p90"] / 0.5 * 100)
    assert found["mem_bytes_p50"] >= 16 * 1024 * 1024, found
    assert found["mem_bytes_p50"] <= found["mem_bytes_p90"] < MEMORY_LIMIT
    assert found["mem_util_p50_pct"] == pytest.approx(found["mem_bytes_p50"] / MEMORY_LIMIT * 100)

    [cpu] = series(http, sandbox_id, "cpu_usage")
    assert cpu["unit"] == "cores"
    assert cpu["labels"] == {"sandbox_id": sandbox_id, "metric": "cpu_usage"}
    stamps = [point["timestamp_utc"] for point in cpu["time_series"]]
    assert len(stamps) >= 5 and stamps == sorted(stamps)
    assert all(point["value"] >= 0 for point in cpu["time_series"])
    [memory] = series(http, sandbox_id, "memory_usage")
    assert memory["unit"] == "bytes" and max(point["value"] for point in memory["time_series"]) >= 16 * 1024 * 1024
    [reserved] = series(http, sandbox_id, "memory_reserved")
    assert {point["value"] for point in reserved["time_series"]} == {MEMORY_LIMIT}
    [cores] = series(http, sandbox_id, "cpu_reserved")
    assert {point["value"] for point in cores["time_series"]} == {0.5}
    # Neither runtime gives these sandboxes a network of their own to count (docker: --network none).
    assert series(http, sandbox_id, "network_rx") == [] and series(http, sandbox_id, "network_tx") == []

    # Samples outlive the sandbox.
    assert http.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204
    after = http.get(f"/v1/sandbox/{sandbox_id}/metrics-summary", params={"since": "1m"}).json()
    assert after["has_data"] is True


def test_a_sandbox_without_limits_has_no_reservation_and_zero_utilisation(
    http: httpx.Client, sampled: RuntimeServer
) -> None:
    sandbox_id = create(
        http, image=sampled.image, command=["sh", "-c", "head -c 8388608 /dev/zero > /tmp/f; sleep 600"]
    )
    wait_for(http, sandbox_id, {"running"}, timeout=60)
    found = summary_with_data(http, sandbox_id, samples=3)
    assert (found["cpu_limit_cores"], found["mem_limit_bytes"]) == (0, 0)
    assert (found["cpu_util_p90_pct"], found["mem_util_p90_pct"]) == (0, 0)
    assert found["mem_bytes_p50"] > 0
    assert series(http, sandbox_id, "cpu_reserved") == [] and series(http, sandbox_id, "memory_reserved") == []
    http.delete(f"/v1/sandbox/{sandbox_id}")


def test_what_metrics_refuse_says_why(http: httpx.Client, sampled: RuntimeServer) -> None:
    sandbox_id = create(http, image=sampled.image)
    now = datetime.now(timezone.utc)
    window = {"start_time_utc": iso(now - timedelta(minutes=1)), "end_time_utc": iso(now)}
    path = f"/v1/sandbox/{sandbox_id}/metrics"
    assert http.get(path, params={"metric": "gpu_usage", **window}).status_code == 400
    assert http.get(path, params={"metric": "cpu_usage"}).status_code == 400
    backwards = {"start_time_utc": window["end_time_utc"], "end_time_utc": window["start_time_utc"]}
    assert "before" in http.get(path, params={"metric": "cpu_usage", **backwards}).json()["error"]
    future = iso(now + timedelta(hours=1))
    summary = f"/v1/sandbox/{sandbox_id}/metrics-summary"
    assert "future" in http.get(summary, params={"since": future}).json()["error"]
    assert http.get(summary, params={"since": "yesterday"}).status_code == 400
    assert http.get("/v1/sandbox/sb-nobody/metrics-summary").status_code == 404
    assert http.get("/v1/sandbox/sb-nobody/metrics", params={"metric": "cpu_usage", **window}).status_code == 404
    http.delete(f"/v1/sandbox/{sandbox_id}")


def test_a_server_that_samples_nothing_answers_no_data() -> None:
    with (
        LocalServer(isolation="none", extra_args=["--metrics-interval", "0"]) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        sandbox_id = create(client, resources={"memory": "64Mi"})
        wait_for(client, sandbox_id, {"running"})
        time.sleep(0.5)
        found = client.get(f"/v1/sandbox/{sandbox_id}/metrics-summary").json()
        assert found == {
            "window_seconds": 3600,
            "has_data": False,
            "cpu_cores_p50": 0.0,
            "cpu_cores_p90": 0.0,
            "cpu_limit_cores": 0.0,
            "cpu_util_p50_pct": 0.0,
            "cpu_util_p90_pct": 0.0,
            "mem_bytes_p50": 0,
            "mem_bytes_p90": 0,
            "mem_limit_bytes": 64 * 1024 * 1024,
            "mem_util_p50_pct": 0.0,
            "mem_util_p90_pct": 0.0,
        }
        assert series(client, sandbox_id, "cpu_usage") == []

"""Snapshots, metrics, environment groups and object volumes, through the SDK against a real local server on each
runtime (``configured``: the group ``team``, metrics sampled every 0.2 s)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from runtime_servers import RuntimeServer

from porter_sandbox import (
    AsyncPorter,
    BadRequestError,
    NotFoundError,
    Porter,
    SandboxResourcesSpec,
    SnapshotSpec,
    StatusResponsePhase,
    VolumeObjectSpec,
)

T = TypeVar("T")


def eventually(check: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@pytest.fixture
def porter(configured: RuntimeServer) -> Any:
    with configured.client() as client:
        yield client


def test_a_snapshot_starts_new_sandboxes_with_the_files_it_captured(porter: Porter, configured: RuntimeServer) -> None:
    source = porter.sandboxes.create(configured.image).wait()
    source.exec(["sh", "-c", "mkdir -p /workspace/out && echo 'from the source' > /workspace/out/note"], check=True)

    snapshot = source.snapshot()
    assert (snapshot.sandbox_id, snapshot.mode, snapshot.status.value in ("pending", "ready")) == (
        source.id,
        "filesystem",
        True,
    )
    assert snapshot.wait(timeout=120) is snapshot and snapshot.status == "ready"
    assert snapshot.size_bytes and snapshot.size_bytes > 0 and snapshot.t_ready_unix_ms
    assert [found.id for found in porter.snapshots.list(sandbox_id=source)] == [snapshot.id]
    assert porter.snapshots.list(source.id).snapshots[0] == snapshot
    assert porter.snapshots.get(snapshot.id).status.value == "ready"

    copy = porter.sandboxes.create(snapshot_id=snapshot).wait()  # the image comes with the snapshot
    assert copy.exec(["cat", "/workspace/out/note"]).stdout == "from the source\n"
    assert copy.image == source.image
    other = porter.snapshots.create(copy.id, SnapshotSpec(mode="filesystem")).wait(timeout=120)
    assert other.sandbox_id == copy.id

    with pytest.raises(BadRequestError, match="filesystem"):
        source.snapshot(mode="full")
    for taken in (snapshot, other):
        taken.delete()
    with pytest.raises(NotFoundError):
        porter.snapshots.get(snapshot.id)
    with pytest.raises(BadRequestError, match=snapshot.id):
        porter.sandboxes.create(snapshot_id=snapshot.id)
    for sandbox in (source, copy):
        sandbox.terminate()


async def test_snapshots_from_the_async_client(configured: RuntimeServer) -> None:
    async with configured.async_client() as porter:
        assert isinstance(porter, AsyncPorter)
        sandbox = await (await porter.sandboxes.create(configured.image)).wait()
        await sandbox.exec(["sh", "-c", "echo async > /workspace/mark"], check=True)
        snapshot = await (await sandbox.snapshot()).wait(timeout=120)
        assert snapshot.id in [found.id for found in await porter.snapshots.list()]
        copy = await (await porter.sandboxes.create(snapshot_id=snapshot.id)).wait()
        assert (await copy.exec(["cat", "/workspace/mark"])).stdout == "async\n"
        await porter.snapshots.delete(snapshot)
        for each in (sandbox, copy):
            await each.terminate()


def test_metrics_summarise_and_chart_what_a_sandbox_uses(porter: Porter, configured: RuntimeServer) -> None:
    busy = "head -c 8388608 /dev/zero > /tmp/fill; while :; do :; done"
    sandbox = porter.sandboxes.create(
        configured.image, command=["sh", "-c", busy], resources=SandboxResourcesSpec(cpu="500m", memory="256Mi")
    ).wait()
    summary = eventually(
        lambda: (found := sandbox.metrics_summary(since="1m")).has_data and found, "the sandbox was sampled"
    )
    assert summary.window_seconds == 60 and summary.cpu_limit_cores == 0.5
    assert summary.mem_limit_bytes == 256 * 1024 * 1024 and summary.mem_bytes_p50 > 0
    assert summary.cpu_cores_p90 > 0 and summary.cpu_util_p_90_pct == summary.cpu_util_p90_pct > 0

    usage = eventually(
        lambda: len((found := sandbox.metrics("cpu_usage", start_time=timedelta(minutes=5))).points) >= 2 and found,
        "two CPU samples",
    )
    assert usage.series[0].unit == "cores" and all(point.value >= 0 for point in usage.points)
    assert usage.points[0].timestamp <= usage.points[-1].timestamp <= datetime.now(timezone.utc)
    reserved = sandbox.metrics("memory_reserved", start_time=datetime.now(timezone.utc) - timedelta(minutes=5))
    assert {point.value for point in reserved.points} == {256 * 1024 * 1024}
    assert sandbox.metrics("network_rx").points == []  # no per-sandbox network here: no series, not zeros
    sandbox.terminate()


def test_environment_groups_are_merged_under_the_sandboxs_own_env(porter: Porter, configured: RuntimeServer) -> None:
    with porter.sandboxes.create(configured.image, env_groups=["team"], env={"EXPLICIT": "mine"}) as sandbox:
        assert sandbox.exec(["sh", "-c", "echo $FROM_GROUP $EXPLICIT"]).stdout == "group-value mine\n"
    with pytest.raises(BadRequestError, match="no-such-group"):
        porter.sandboxes.create(configured.image, env_groups=["no-such-group"])


def test_an_object_volume_is_refused_locally_saying_why(porter: Porter) -> None:
    spec = VolumeObjectSpec(bucket="datasets", prefix="runs", access="read_only")
    with pytest.raises(BadRequestError, match="object") as caught:
        porter.volumes.create(name=f"bucket-{time.monotonic_ns()}", object=spec)
    assert caught.value.status_code == 400


def test_listing_takes_times_as_strings_and_answers_the_filter_values(
    porter: Porter, configured: RuntimeServer
) -> None:
    tag = {"listing": str(time.monotonic_ns())}
    with porter.sandboxes.create(configured.image, tags=tag) as sandbox:
        now = datetime.now(timezone.utc)
        window = {
            "start_time": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "end_time": (now + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
        }
        page = porter.sandboxes.list(tags=tag, include_filter_values=True, **window)
        assert [found.id for found in page] == [sandbox.id]
        assert page.filter_values is not None
        assert page.filter_values.phases == list(StatusResponsePhase.values())
        assert f"listing={tag['listing']}" in page.filter_values.tags and configured.image in page.filter_values.images
        assert porter.sandboxes.list(tags=tag, end_time=window["start_time"]).sandboxes == []

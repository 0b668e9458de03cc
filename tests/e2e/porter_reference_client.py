"""Porter's own published client (porter-sandbox 0.1.68) against our server: every one of its operations.

Not a test module: ``test_porter_client.py`` runs it with the interpreter of a
venv that has Porter's package installed (``python -I``, so our own
``porter_sandbox`` cannot shadow it):

    python -I porter_reference_client.py BASE_URL IMAGE ENV_GROUP

It prints ``ok <check>`` after each check; a failed one raises and exits non-zero.
Code here is written as a user of Porter's client would write it, unchanged.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import porter_sandbox
from porter_sandbox import (
    AsyncPorter,
    ExecRequest,
    NotFoundError,
    Porter,
    SandboxError,
    SandboxResourcesSpec,
    SnapshotSpec,
    VolumeFileMoveRequest,
    VolumeObjectSpec,
)

BASE_URL, IMAGE, ENV_GROUP = sys.argv[1:4]
RUN = uuid.uuid4().hex[:8]
OPERATIONS: set[str] = set()


def ok(check: str) -> None:
    print("ok", check, flush=True)


def name(what: str) -> str:
    return f"{what}-{RUN}-{uuid.uuid4().hex[:4]}"


def eventually(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def running(sandbox: Any) -> Any:
    """Refresh until it runs (Porter's create answers no phase)."""
    seen: list[Any] = []

    def runs() -> Any:
        seen[:] = [sandbox.refresh()]
        return seen[0].phase.value == "running" and sandbox

    try:
        return eventually(runs, f"{sandbox.id} runs")
    except AssertionError as error:
        status = seen[0] if seen else None
        raise AssertionError(f"{error}; last seen {status!r}") from None


def refused(call: Callable[[], Any], status: int, *words: str) -> str:
    try:
        call()
    except SandboxError as error:
        assert error.status_code == status, (error.status_code, error.message)
        for word in words:
            assert word in error.message, (word, error.message)
        return error.message
    raise AssertionError(f"expected a {status}")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def health(porter: Porter) -> None:
    assert porter.healthz.health_check().status == "ok"
    ready = porter.readyz.readiness_check()
    assert ready.status == "ready" and ready.active_sandboxes >= 0
    OPERATIONS.update({"health_check", "readiness_check"})
    ok("health")


def sandboxes(porter: Porter) -> None:
    sandbox_name = name("sandbox")
    sandbox = porter.sandboxes.create(
        IMAGE,
        name=sandbox_name,
        tags={"suite": RUN},
        env={"GREETING": "hello"},
        resources=SandboxResourcesSpec(cpu="500m", memory="256Mi"),
        ttl_seconds=600,
    )
    assert sandbox.phase is None  # a bare create answer: the phase comes with a refresh
    running(sandbox)
    assert sandbox.phase.value == "running" and sandbox.phase == "running"
    assert sandbox.tags == {"suite": RUN}
    result = sandbox.exec(["sh", "-c", "echo $GREETING; echo oops >&2; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code) == ("hello\n", "oops\n", 3) and result.exec_id
    lines = sandbox.logs(limit=10)
    assert [(line.line, line.level.value, line.exec_id) for line in lines][-2:] in (
        [("hello", "info", result.exec_id), ("oops", "error", result.exec_id)],
        [("oops", "error", result.exec_id), ("hello", "info", result.exec_id)],
    )
    assert sandbox.logs(since="5m", limit=1)
    found = porter.sandboxes.get(sandbox_name)
    assert found.id == sandbox.id and found.phase.value == "running"

    listed = porter.sandboxes.list(tags={"suite": RUN}, phase=["running"], search="sandbox-", page=1)
    assert [item.id for item in listed] == [sandbox.id]
    now = datetime.now(timezone.utc)
    window = {"start_time": iso(now - timedelta(hours=1)), "end_time": iso(now + timedelta(minutes=1))}
    assert sandbox.id in [item.id for item in porter.sandboxes.list(image=IMAGE, **window)]
    page = porter.sandboxes.raw.list_sandboxes(tag=[f"suite={RUN}"], include_filter_values=True)
    assert page.pagination.current_page == 1 and page.filter_values is not None
    assert [phase.value for phase in page.filter_values.phases] == [
        "queued",
        "creating",
        "running",
        "succeeded",
        "failed",
        "terminated",
    ]
    assert f"suite={RUN}" in page.filter_values.tags and IMAGE in page.filter_values.images
    counts = porter.sandboxes.raw.sandbox_counts(tag=[f"suite={RUN}"], **window)
    assert sum(point.count for point in counts.points) == 1 and counts.granularity_ms > 0
    assert porter.sandboxes.raw.exec_sandbox(sandbox.id, ExecRequest(command=["true"])).exit_code == 0

    sandbox.terminate()
    assert sandbox.refresh().phase.value == "terminated" and sandbox.refresh().termination_reason.value == "sdk"
    other = porter.sandboxes.create(IMAGE, command=["sh", "-c", "exit 0"])
    porter.sandboxes.raw.delete_sandbox(other.id, source="cli")
    assert other.refresh().termination_reason.value in ("cli", "workload_exited")
    refused(lambda: porter.sandboxes.get("no-such-sandbox"), 404)
    refused(lambda: sandbox.exec(["true"]), 409, "terminated")
    refused(lambda: porter.sandboxes.create(IMAGE, name="Not A Name"), 400, "name")
    OPERATIONS.update(
        {
            "create_sandbox",
            "get_sandbox",
            "exec_sandbox",
            "get_sandbox_logs",
            "lookup_sandbox",
            "list_sandboxes",
            "sandbox_counts",
            "delete_sandbox",
        }
    )
    ok("sandboxes")


def volumes(porter: Porter) -> None:
    volume_name = name("volume")
    volume = porter.volumes.create(name=volume_name)
    assert volume.type.value == "disk" and volume.phase.value == "ready"
    volume.write_text("/notes/hello.txt", "hello volume")
    volume.write_file("/empty.bin", b"")
    volume.write_file("/big.bin", bytes(range(256)) * 4096)
    assert volume.read_text("/notes/hello.txt") == "hello volume"
    assert volume.read_file("/notes/hello.txt", offset=6, length=6) == b"volume"
    # An empty file asked for its first 8 MiB chunk comes back whole (200), as the client expects.
    assert list(volume.stream("/empty.bin")) == []
    assert b"".join(volume.stream("/big.bin", chunk_size=100_000)) == bytes(range(256)) * 4096
    assert [file.path for file in volume.listdir("/")] == ["/notes", "/big.bin", "/empty.bin"]
    assert "/notes/hello.txt" in [file.path for file in volume.iterdir("/")]
    assert [file.path for file in volume.search("hello")] == ["/notes/hello.txt"]
    volume.move_file("/notes/hello.txt", "/notes/moved.txt")
    porter.volumes.raw.move_volume_file(
        volume.id, VolumeFileMoveRequest.model_validate({"from": "/notes/moved.txt", "to": "/moved.txt"})
    )
    assert volume.read_text("/moved.txt") == "hello volume"

    sandbox = running(porter.sandboxes.create(IMAGE, volume_mounts={"/data": volume.id}))
    assert sandbox.exec(["cat", "/data/moved.txt"]).stdout == "hello volume"
    assert porter.volumes.get(volume_name).attached_to == [sandbox.id]
    assert volume_name in [item.name for item in porter.volumes.list()]
    refused(lambda: porter.volumes.delete(volume_name), 409)
    sandbox.terminate()

    # Object volumes need a bucket registered on a Porter cluster: refused here, saying so.
    spec = VolumeObjectSpec(bucket="datasets", prefix="runs", access="read_only", mode="object")
    refused(lambda: porter.volumes.create(name=name("bucket"), type="object", object=spec), 400, "object")
    porter.volumes.delete(volume_name)
    refused(lambda: porter.volumes.get(volume_name), 404)
    OPERATIONS.update(
        {
            "create_volume",
            "get_volume",
            "lookup_volume",
            "list_volumes",
            "delete_volume",
            "list_volume_files",
            "read_volume_file",
            "write_volume_file",
            "move_volume_file",
        }
    )
    ok("volumes")


def snapshots(porter: Porter) -> None:
    source = running(porter.sandboxes.create(IMAGE))
    source.exec(["sh", "-c", "echo 'from the source' > /workspace/note"])
    taken = porter.snapshots.create(source.id, SnapshotSpec(mode="filesystem"))
    assert taken.sandbox_id == source.id and taken.mode.value == "filesystem"
    assert taken.status.value in ("pending", "ready") and taken.t_created_unix_ms
    ready = eventually(
        lambda: (snapshot := porter.snapshots.get(taken.id)).status.value == "ready" and snapshot, "snapshot ready"
    )
    assert ready.size_bytes > 0 and ready.t_ready_unix_ms >= ready.t_created_unix_ms
    assert [item.id for item in porter.snapshots.list(sandbox_id=source.id).snapshots] == [taken.id]
    assert taken.id in [item.id for item in porter.snapshots.list().snapshots]

    # Porter's client sends image "" with snapshot_id.
    restored = running(porter.sandboxes.create("", snapshot_id=taken.id))
    assert restored.exec(["cat", "/workspace/note"]).stdout == "from the source\n"
    assert restored.refresh().image == IMAGE

    refused(lambda: porter.snapshots.create(source.id, SnapshotSpec(mode="full")), 400, "filesystem")
    refused(lambda: porter.snapshots.create("sb-nobody", SnapshotSpec()), 404)
    porter.snapshots.delete(taken.id)
    try:
        porter.snapshots.get(taken.id)
        raise AssertionError("a deleted snapshot was found")
    except NotFoundError:
        pass
    refused(lambda: porter.sandboxes.create("", snapshot_id=taken.id), 400, taken.id)
    source.terminate()
    restored.terminate()
    OPERATIONS.update({"create_snapshot", "get_snapshot", "list_snapshots", "delete_snapshot"})
    ok("snapshots")


def metrics(porter: Porter) -> None:
    sandbox = porter.sandboxes.create(
        IMAGE,
        command=["sh", "-c", "head -c 8388608 /dev/zero > /tmp/fill; while :; do :; done"],
        resources=SandboxResourcesSpec(cpu="500m", memory="256Mi"),
    )
    running(sandbox)
    summary = eventually(
        lambda: (found := porter.sandboxes.raw.get_sandbox_metrics_summary(sandbox.id, since="1m")).has_data and found,
        "the sandbox was sampled",
    )
    assert summary.window_seconds == 60 and summary.cpu_limit_cores == 0.5
    assert summary.mem_limit_bytes == 256 * 1024 * 1024 and summary.mem_bytes_p_50 > 0
    assert summary.cpu_cores_p_90 > 0 and summary.cpu_util_p_90_pct > 0
    time.sleep(1)
    now = datetime.now(timezone.utc)
    window = {"start_time_utc": iso(now - timedelta(minutes=5)), "end_time_utc": iso(now)}
    usage = porter.sandboxes.raw.get_sandbox_metrics(sandbox.id, metric="cpu_usage", **window)
    [series] = usage.results[0].series
    assert series.unit == "cores" and len(series.time_series) >= 2
    reserved = porter.sandboxes.raw.get_sandbox_metrics(sandbox.id, metric="memory_reserved", **window)
    assert {point.value for point in reserved.results[0].series[0].time_series} == {256 * 1024 * 1024}
    network = porter.sandboxes.raw.get_sandbox_metrics(sandbox.id, metric="network_rx", **window)
    assert network.results[0].series == []
    refused(lambda: porter.sandboxes.raw.get_sandbox_metrics(sandbox.id, metric="gpu", **window), 400)
    sandbox.terminate()
    OPERATIONS.update({"get_sandbox_metrics_summary", "get_sandbox_metrics"})
    ok("metrics")


def env_groups(porter: Porter) -> None:
    sandbox = running(porter.sandboxes.create(IMAGE, env_groups=[ENV_GROUP], env={"EXPLICIT": "mine"}))
    out = sandbox.exec(["sh", "-c", "echo $FROM_GROUP $EXPLICIT"]).stdout
    assert out == "group-value mine\n", out
    refused(lambda: porter.sandboxes.create(IMAGE, env_groups=["no-such-group"]), 400, "no-such-group")
    sandbox.terminate()
    ok("env_groups")


async def async_client() -> None:
    async with AsyncPorter(base_url=BASE_URL) as porter:
        sandbox = await porter.sandboxes.create(IMAGE)
        for _ in range(600):
            if (await sandbox.refresh()).phase.value == "running":
                break
            await asyncio.sleep(0.05)
        assert (await sandbox.exec(["echo", "async"])).stdout == "async\n"
        snapshot = await porter.snapshots.create(sandbox.id, SnapshotSpec())
        assert snapshot.mode.value == "filesystem"
        for _ in range(600):
            if (await porter.snapshots.get(snapshot.id)).status.value != "pending":
                break
            await asyncio.sleep(0.05)
        await porter.snapshots.delete(snapshot.id)
        await sandbox.terminate()
    ok("async")


def published_operations() -> set[str]:
    """Every operation of the published client: the public methods of its generated resources."""
    from porter_sandbox.resources import healthz, readyz
    from porter_sandbox.resources import sandboxes as sandbox_resource
    from porter_sandbox.resources import snapshots as snapshot_resource
    from porter_sandbox.resources import volumes as volume_resource

    resources = [
        healthz.Healthz,
        readyz.Readyz,
        sandbox_resource.Sandboxes,
        snapshot_resource.Snapshots,
        volume_resource.Volumes,
    ]
    return {name for resource in resources for name in vars(resource) if not name.startswith("_")}


def main() -> None:
    assert porter_sandbox.__file__ and "site-packages" in porter_sandbox.__file__, porter_sandbox.__file__
    with Porter(base_url=BASE_URL) as porter:
        health(porter)
        sandboxes(porter)
        volumes(porter)
        snapshots(porter)
        metrics(porter)
        env_groups(porter)
    asyncio.run(async_client())
    missed = published_operations() - OPERATIONS
    assert not missed, f"operations of the published client never called: {sorted(missed)}"
    print("operations", len(OPERATIONS), flush=True)


if __name__ == "__main__":
    main()

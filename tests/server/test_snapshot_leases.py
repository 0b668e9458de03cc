"""The service's snapshot rules at the moments a real runtime cannot be held at: mid-launch, mid-capture.

A runtime that runs nothing (``fake_runtime``) whose launches and captures
wait for the test: a snapshot deleted while a sandbox starts from it keeps
its data until that launch is over; one deleted mid-capture is freed once
the capture ends; a capture that fails says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fake_runtime import FakeRuntime, serve

from porter_sandbox_server.runtimes.base import Capabilities, LaunchSpec, Placement, SandboxGone, SnapshotFailed


class SnapshottingRuntime(FakeRuntime):
    """A fake that takes ``filesystem`` snapshots: each capture waits for ``capture_gate``; deletes are recorded."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.capabilities = Capabilities(snapshot_modes=frozenset({"filesystem"}))
        self.capture_gate = asyncio.Event()
        self.capture_gate.set()
        self.capture_error: Exception | None = None
        self.deleted: list[str] = []
        self.launched_from: list[str | None] = []

    async def launch(self, spec: LaunchSpec) -> Placement:
        self.launched_from.append(spec.snapshot_id)
        return await super().launch(spec)

    async def snapshot(self, sandbox_id: str, snapshot_id: str, mode: str) -> int:
        await self.capture_gate.wait()
        if self.capture_error is not None:
            raise self.capture_error
        if sandbox_id not in self.running:
            raise SandboxGone(sandbox_id)
        return 4096

    async def delete_snapshot(self, snapshot_id: str) -> None:
        self.deleted.append(snapshot_id)


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.005)


async def until_status(client: httpx.AsyncClient, snapshot_id: str, status: str) -> dict[str, Any]:
    """Poll the snapshot until its status is ``status``; answer it."""
    for _ in range(400):
        found: dict[str, Any] = (await client.get(f"/v1/snapshot/{snapshot_id}")).json()
        if found["status"] == status:
            return found
        await asyncio.sleep(0.005)
    raise AssertionError(f"snapshot {snapshot_id} never {status}")


async def ready_snapshot(client: httpx.AsyncClient, runtime: SnapshottingRuntime) -> tuple[str, str]:
    """A running sandbox and a ready snapshot of it."""
    created = await client.post("/v1/sandbox/run", json={"image": "img:1"})
    sandbox_id = created.json()["id"]
    await until(lambda: sandbox_id in runtime.running)
    taken = await client.post(f"/v1/sandbox/{sandbox_id}/snapshot", json={})
    assert taken.status_code == 201, taken.text
    snapshot_id = taken.json()["id"]
    await until_status(client, snapshot_id, "ready")
    return sandbox_id, snapshot_id


async def test_a_snapshot_deleted_while_a_sandbox_starts_from_it_is_freed_after_the_launch(tmp_path: Path) -> None:
    runtime = SnapshottingRuntime(tmp_path)
    service, client = await serve(tmp_path, runtime)
    try:
        _, snapshot_id = await ready_snapshot(client, runtime)
        runtime.gate.clear()  # launches wait from now on
        runtime.launching.clear()
        started = await client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": snapshot_id})
        assert started.status_code == 201
        await runtime.launching.wait()
        assert (await client.delete(f"/v1/snapshot/{snapshot_id}")).status_code == 204
        assert (await client.get(f"/v1/snapshot/{snapshot_id}")).status_code == 404
        assert runtime.deleted == [], "freed under a launch that is using it"
        again = await client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": snapshot_id})
        assert again.status_code == 400, "a deleted snapshot starts nothing new"
        runtime.gate.set()
        await until(lambda: runtime.deleted == [snapshot_id])
        status = (await client.get(f"/v1/sandbox/{started.json()['id']}")).json()
        assert (status["phase"], status["image"]) == ("running", "img:1")
        assert runtime.launched_from[-1] == snapshot_id
    finally:
        await client.aclose()
        await service.close()


async def test_a_lease_is_returned_when_the_launch_fails_or_the_name_is_taken(tmp_path: Path) -> None:
    runtime = SnapshottingRuntime(tmp_path)
    service, client = await serve(tmp_path, runtime)
    try:
        _, snapshot_id = await ready_snapshot(client, runtime)
        runtime.fail_images = {"img:1"}
        failed = await client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": snapshot_id, "name": "taken"})
        await until(lambda: runtime.launched_from.count(snapshot_id) == 1)
        taken = await client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": snapshot_id, "name": "taken"})
        assert (failed.status_code, taken.status_code) == (201, 409)
        await until(lambda: service.get_record(failed.json()["id"]).phase == "failed")
        # No lease is left: deleting frees it at once.
        assert (await client.delete(f"/v1/snapshot/{snapshot_id}")).status_code == 204
        assert runtime.deleted == [snapshot_id]
    finally:
        await client.aclose()
        await service.close()


async def test_a_snapshot_deleted_mid_capture_is_freed_when_the_capture_ends(tmp_path: Path) -> None:
    runtime = SnapshottingRuntime(tmp_path)
    service, client = await serve(tmp_path, runtime)
    try:
        created = await client.post("/v1/sandbox/run", json={"image": "img:1"})
        sandbox_id = created.json()["id"]
        await until(lambda: sandbox_id in runtime.running)
        runtime.capture_gate.clear()
        taken = (await client.post(f"/v1/sandbox/{sandbox_id}/snapshot", json={"mode": "filesystem"})).json()
        assert taken["status"] == "pending"
        pending = await client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": taken["id"]})
        assert pending.status_code == 409 and "being captured" in pending.json()["error"]
        assert (await client.delete(f"/v1/snapshot/{taken['id']}")).status_code == 204
        assert runtime.deleted == []
        runtime.capture_gate.set()
        await until(lambda: runtime.deleted == [taken["id"]])
        assert (await client.get(f"/v1/snapshot/{taken['id']}")).status_code == 404
        assert (await client.get("/v1/snapshot")).json() == {"snapshots": []}
    finally:
        await client.aclose()
        await service.close()


async def test_a_capture_that_fails_says_why(tmp_path: Path) -> None:
    runtime = SnapshottingRuntime(tmp_path)
    service, client = await serve(tmp_path, runtime)
    try:
        created = await client.post("/v1/sandbox/run", json={"image": "img:1"})
        sandbox_id = created.json()["id"]
        await until(lambda: sandbox_id in runtime.running)
        runtime.capture_error = SnapshotFailed("the disk is full")
        first = (await client.post(f"/v1/sandbox/{sandbox_id}/snapshot")).json()
        assert (await until_status(client, first["id"], "failed"))["failure_reason"] == "the disk is full"
        runtime.capture_error = None
        runtime.capture_gate.clear()
        second = (await client.post(f"/v1/sandbox/{sandbox_id}/snapshot")).json()
        await client.delete(f"/v1/sandbox/{sandbox_id}")
        runtime.capture_gate.set()
        assert "ended" in (await until_status(client, second["id"], "failed"))["failure_reason"]
        failed = await client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": first["id"]})
        assert failed.status_code == 400 and "disk is full" in failed.json()["error"]
    finally:
        await client.aclose()
        await service.close()


async def test_a_runtime_without_snapshots_refuses_every_mode(tmp_path: Path) -> None:
    runtime = FakeRuntime(tmp_path)
    service, client = await serve(tmp_path, runtime)
    try:
        created = await client.post("/v1/sandbox/run", json={"image": "img:1"})
        sandbox_id = created.json()["id"]
        await until(lambda: sandbox_id in runtime.running)
        for mode in ("filesystem", "full"):
            answer = await client.post(f"/v1/sandbox/{sandbox_id}/snapshot", json={"mode": mode})
            assert answer.status_code == 400
            assert answer.json()["error"] == "the fake runtime of this server takes no snapshots"
    finally:
        await client.aclose()
        await service.close()

"""TTLs on the service's clock, across a server restart, and how the runtime's reports become phases.

A sandbox outliving its server cannot be produced with the process runtime
(its sandboxes die with the server), and waiting out TTLs in real time makes
slow tests; so these run the service in-process on the fake runtime (which
adopts whatever the store says is live) and a clock the test moves by hand.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import httpx
from fake_runtime import FakeRuntime, ManualClock, serve

from porter_sandbox_server.core.service import SandboxService
from porter_sandbox_server.runtimes.base import ExitKind, Placement, SandboxExit


def abandon(service: SandboxService) -> None:
    """Drop a service as a crash would: its timers never fire, its sandboxes stay live in the store."""
    service._ttl.cancel_all()
    service.store.close()


async def status_of(client: httpx.AsyncClient, sandbox_id: str) -> dict[str, object]:
    answer: dict[str, object] = (await client.get(f"/v1/sandbox/{sandbox_id}")).json()
    return answer


async def settle() -> None:
    """Let the tasks a timer started (a termination) run to their end."""
    for _ in range(20):
        await asyncio.sleep(0)


async def running(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    sandbox_id = str((await client.post("/v1/sandbox/run", json=body)).json()["id"])
    await settle()
    assert (await status_of(client, sandbox_id))["phase"] == "running"
    return sandbox_id


def lived(status: dict[str, object]) -> float:
    started = datetime.fromisoformat(str(status["started_at"]))
    finished = datetime.fromisoformat(str(status["finished_at"]))
    return (finished - started).total_seconds()


async def test_a_ttl_fires_at_its_deadline_not_before(tmp_path: Path) -> None:
    clock = ManualClock()
    service, client = await serve(tmp_path, FakeRuntime(tmp_path), clock)
    try:
        sandbox_id = await running(client, {"image": "x", "ttl_seconds": 30})
        clock.advance(29.9)
        await settle()
        assert (await status_of(client, sandbox_id))["phase"] == "running"
        clock.advance(0.2)
        await settle()
        status = await status_of(client, sandbox_id)
        assert (status["phase"], status["termination_reason"]) == ("terminated", "ttl_expired")
        assert 30 <= lived(status) < 30.3
    finally:
        await client.aclose()
        await service.close()


async def test_a_long_ttl_is_reached_through_daily_waits(tmp_path: Path) -> None:
    clock = ManualClock()
    service, client = await serve(tmp_path, FakeRuntime(tmp_path), clock)
    try:
        three_days = 3 * 86_400
        sandbox_id = await running(client, {"image": "x", "ttl_seconds": three_days})
        clock.advance(three_days - 1)
        await settle()
        assert (await status_of(client, sandbox_id))["phase"] == "running"
        clock.advance(1)
        await settle()
        assert (await status_of(client, sandbox_id))["termination_reason"] == "ttl_expired"
    finally:
        await client.aclose()
        await service.close()


async def test_ttl_fires_after_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    first, client = await serve(tmp_path, FakeRuntime(tmp_path, adopts=True), clock)
    async with client:
        sandbox_id = await running(client, {"image": "x", "ttl_seconds": 2})
    abandon(first)

    clock.advance(0.5)  # the server was down for half a second
    second, client = await serve(tmp_path, FakeRuntime(tmp_path, adopts=True), clock)
    try:
        async with client:
            assert (await status_of(client, sandbox_id))["phase"] == "running"
            clock.advance(1.4)
            await settle()
            assert (await status_of(client, sandbox_id))["phase"] == "running"
            clock.advance(0.2)
            await settle()
            status = await status_of(client, sandbox_id)
            assert status["termination_reason"] == "ttl_expired"
            assert 2 <= lived(status) < 2.2
    finally:
        await second.close()


async def test_a_ttl_that_ran_out_while_down_fires_at_start(tmp_path: Path) -> None:
    clock = ManualClock()
    first, client = await serve(tmp_path, FakeRuntime(tmp_path, adopts=True), clock)
    async with client:
        sandbox_id = await running(client, {"image": "x", "ttl_seconds": 1})
    abandon(first)

    clock.advance(5)
    second, client = await serve(tmp_path, FakeRuntime(tmp_path, adopts=True), clock)
    try:
        async with client:
            clock.advance(0)
            await settle()
            status = await status_of(client, sandbox_id)
            assert (status["phase"], status["termination_reason"]) == ("terminated", "ttl_expired")
    finally:
        await second.close()


async def test_without_adoption_live_sandboxes_are_backend_lost(tmp_path: Path) -> None:
    first, client = await serve(tmp_path, FakeRuntime(tmp_path, adopts=True))
    async with client:
        sandbox_id = await running(client, {"image": "x", "ttl_seconds": 60})
    abandon(first)

    second, client = await serve(tmp_path, FakeRuntime(tmp_path, adopts=False))
    try:
        async with client:
            status = await status_of(client, sandbox_id)
            assert (status["phase"], status["termination_reason"]) == ("failed", "backend_lost")
            assert (await client.get("/readyz")).json()["active_sandboxes"] == 0
    finally:
        await second.close()


async def test_what_the_runtime_assigns_and_reports_becomes_the_status(tmp_path: Path) -> None:
    assigned = Placement(host="8000-demo.example.test", internal_address="10.9.8.7:8000")
    runtime = FakeRuntime(tmp_path, placement=assigned)
    service, client = await serve(tmp_path, runtime)
    try:
        async with client:
            oom = await running(client, {"image": "x"})
            status = await status_of(client, oom)
            assert (status["host"], status["internal_address"]) == ("8000-demo.example.test", "10.9.8.7:8000")
            runtime.end(oom, SandboxExit(ExitKind.OUT_OF_MEMORY, 137, "killed: over its memory limit"))
            status = await status_of(client, oom)
            assert (status["phase"], status["termination_reason"], status["exit_code"]) == (
                "failed",
                "workload_exited",
                137,
            )
            lines = [entry["line"] for entry in (await client.get(f"/v1/sandbox/{oom}/logs")).json()["logs"]]
            assert lines == ["killed: over its memory limit"]

            lost = await running(client, {"image": "x"})
            runtime.end(lost, SandboxExit(ExitKind.LOST, None, "the pod was evicted"))
            status = await status_of(client, lost)
            assert (status["phase"], status["termination_reason"]) == ("failed", "backend_lost")

            done = await running(client, {"image": "x"})
            runtime.end(done, SandboxExit(ExitKind.EXITED, 0))
            status = await status_of(client, done)
            assert (status["phase"], status["termination_reason"], status["exit_code"]) == (
                "succeeded",
                "workload_exited",
                0,
            )
    finally:
        await service.close()

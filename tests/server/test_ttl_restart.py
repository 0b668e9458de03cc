"""A TTL outlives a server restart: the deadline is stored, and a runtime that adopts its sandboxes keeps it.

The process runtime cannot adopt (its sandboxes die with the server), so this
test runs the service in-process on a small runtime that can: it starts no
processes and adopts whatever the store says is live. That is the one fault
the real runtimes cannot produce on demand here (a sandbox surviving its server).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import httpx

from porter_sandbox_server.app import create_app
from porter_sandbox_server.runtime import ExecOutput, LaunchSpec, Runtime, RuntimeEvents
from porter_sandbox_server.service import SandboxService


class AdoptingRuntime(Runtime):
    """Pretends to run sandboxes, and adopts every live one at start-up."""

    name = "process"

    def __init__(self) -> None:
        self.running: set[str] = set()

    async def open(self, events: RuntimeEvents) -> None:
        self.events = events

    async def readiness(self) -> str | None:
        return None

    async def launch(self, spec: LaunchSpec) -> None:
        self.running.add(spec.sandbox_id)

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        return ExecOutput("", "", 0)

    async def stop(self, sandbox_id: str) -> None:
        self.running.discard(sandbox_id)

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        self.running = {spec.sandbox_id for spec in live}
        return set(self.running)

    async def close(self, stop_sandboxes: bool) -> None:
        if stop_sandboxes:
            self.running.clear()


def abandon(service: SandboxService) -> None:
    """Drop a service as a crash would: its timers never fire, its sandboxes stay live in the store."""
    for entry in service._live.values():
        if entry.ttl_timer is not None:
            entry.ttl_timer.cancel()
    assert service.store is not None
    service.store.close()


async def status_of(client: httpx.AsyncClient, sandbox_id: str) -> dict[str, object]:
    answer: dict[str, object] = (await client.get(f"/v1/sandbox/{sandbox_id}")).json()
    return answer


async def wait_phase(client: httpx.AsyncClient, sandbox_id: str, phase: str, timeout: float = 15) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while (status := await status_of(client, sandbox_id))["phase"] != phase:
        assert time.monotonic() < deadline, f"{sandbox_id} stayed {status['phase']}"
        await asyncio.sleep(0.02)
    return status


def client_for(service: SandboxService) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(service)), base_url="http://server")


async def test_ttl_fires_after_a_restart(tmp_path: Path) -> None:
    first = SandboxService(tmp_path, AdoptingRuntime())
    await first.start()
    async with client_for(first) as client:
        created = await client.post("/v1/sandbox/run", json={"image": "x", "ttl_seconds": 2})
        sandbox_id = created.json()["id"]
        await wait_phase(client, sandbox_id, "running")
    abandon(first)

    second = SandboxService(tmp_path, AdoptingRuntime())
    await second.start()
    try:
        async with client_for(second) as client:
            assert (await status_of(client, sandbox_id))["phase"] == "running"
            status = await wait_phase(client, sandbox_id, "terminated")
            assert status["termination_reason"] == "ttl_expired"
            lived = datetime.fromisoformat(str(status["finished_at"])) - datetime.fromisoformat(
                str(status["started_at"])
            )
            assert 2 <= lived.total_seconds() < 4
    finally:
        await second.close()


async def test_a_ttl_that_ran_out_while_down_fires_at_start(tmp_path: Path) -> None:
    first = SandboxService(tmp_path, AdoptingRuntime())
    await first.start()
    async with client_for(first) as client:
        sandbox_id = (await client.post("/v1/sandbox/run", json={"image": "x", "ttl_seconds": 1})).json()["id"]
        await wait_phase(client, sandbox_id, "running")
    abandon(first)
    await asyncio.sleep(1.2)

    second = SandboxService(tmp_path, AdoptingRuntime())
    await second.start()
    try:
        async with client_for(second) as client:
            status = await wait_phase(client, sandbox_id, "terminated", timeout=5)
            assert status["termination_reason"] == "ttl_expired"
    finally:
        await second.close()


async def test_without_adoption_live_sandboxes_are_backend_lost(tmp_path: Path) -> None:
    first = SandboxService(tmp_path, AdoptingRuntime())
    await first.start()
    async with client_for(first) as client:
        sandbox_id = (await client.post("/v1/sandbox/run", json={"image": "x", "ttl_seconds": 60})).json()["id"]
        await wait_phase(client, sandbox_id, "running")
    abandon(first)

    class Forgetful(AdoptingRuntime):
        async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
            return set()

    second = SandboxService(tmp_path, Forgetful())
    await second.start()
    try:
        async with client_for(second) as client:
            status = await status_of(client, sandbox_id)
            assert (status["phase"], status["termination_reason"]) == ("failed", "backend_lost")
            assert (await client.get("/readyz")).json()["active_sandboxes"] == 0
    finally:
        await second.close()

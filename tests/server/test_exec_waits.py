"""An exec sent while the sandbox is still starting waits for it; one whose launch fails answers 409.

Holding a launch half-way on purpose cannot be done with a real runtime, so
this runs the app in-process over the fake runtime, whose launches wait for the test.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fake_runtime import FakeRuntime, serve

from porter_sandbox_server.core.service import SandboxService


async def start(tmp_path: Path) -> tuple[SandboxService, FakeRuntime, httpx.AsyncClient]:
    runtime = FakeRuntime(tmp_path, held=True, fail_images=["broken"])
    service, client = await serve(tmp_path, runtime)
    return service, runtime, client


async def test_exec_waits_for_a_starting_sandbox(tmp_path: Path) -> None:
    service, runtime, client = await start(tmp_path)
    try:
        sandbox_id = (await client.post("/v1/sandbox/run", json={"image": "x"})).json()["id"]
        await runtime.launching.wait()
        assert (await client.get(f"/v1/sandbox/{sandbox_id}")).json()["phase"] == "creating"
        pending = asyncio.ensure_future(client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["echo", "a"]}))
        await asyncio.sleep(0.1)
        assert not pending.done()
        runtime.gate.set()
        answer = await pending
        assert answer.status_code == 200
        assert answer.json()["stdout"] == "echo a\n"
        assert (await client.get(f"/v1/sandbox/{sandbox_id}")).json()["phase"] == "running"
    finally:
        await client.aclose()
        await service.close()


async def test_exec_into_a_sandbox_that_fails_to_start_is_409(tmp_path: Path) -> None:
    service, runtime, client = await start(tmp_path)
    try:
        sandbox_id = (await client.post("/v1/sandbox/run", json={"image": "broken"})).json()["id"]
        await runtime.launching.wait()
        pending = asyncio.ensure_future(client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]}))
        await asyncio.sleep(0.05)
        runtime.gate.set()
        answer = await pending
        assert answer.status_code == 409
        assert "failed to start" in answer.json()["error"]
        assert "no such entrypoint" in answer.json()["error"]
        status = (await client.get(f"/v1/sandbox/{sandbox_id}")).json()
        assert (status["phase"], status["termination_reason"]) == ("failed", "launch_failed")
        logs = (await client.get(f"/v1/sandbox/{sandbox_id}/logs")).json()["logs"]
        assert "no such entrypoint" in logs[-1]["line"] and logs[-1]["level"] == "error"
    finally:
        await client.aclose()
        await service.close()


async def test_delete_while_starting_then_exec_is_409(tmp_path: Path) -> None:
    service, runtime, client = await start(tmp_path)
    try:
        sandbox_id = (await client.post("/v1/sandbox/run", json={"image": "x"})).json()["id"]
        await runtime.launching.wait()
        pending = asyncio.ensure_future(client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]}))
        await asyncio.sleep(0.05)
        assert (await client.delete(f"/v1/sandbox/{sandbox_id}")).status_code == 204
        answer = await pending
        assert answer.status_code == 409
        runtime.gate.set()
        await asyncio.sleep(0.05)
        status = (await client.get(f"/v1/sandbox/{sandbox_id}")).json()
        assert (status["phase"], status["termination_reason"]) == ("terminated", "sdk")
    finally:
        await client.aclose()
        await service.close()

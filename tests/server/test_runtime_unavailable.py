"""While the runtime cannot run sandboxes: readyz answers 503 with its usual shape, create answers 503.

An engine that is down cannot be produced on demand with the process runtime,
so this runs the app in-process over a runtime whose readiness says no.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from porter_sandbox_server.app import create_app
from porter_sandbox_server.runtime import ExecOutput, LaunchSpec, Runtime, RuntimeEvents
from porter_sandbox_server.service import SandboxService


class DownRuntime(Runtime):
    """A runtime whose backend is unreachable."""

    name = "docker"

    async def open(self, events: RuntimeEvents) -> None:
        pass

    async def readiness(self) -> str | None:
        return "the Docker engine does not answer at unix:///var/run/docker.sock; start it"

    async def launch(self, spec: LaunchSpec) -> None:
        raise AssertionError("nothing may launch while the runtime is down")

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        raise AssertionError("nothing runs")

    async def stop(self, sandbox_id: str) -> None:
        pass

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        return set()

    async def close(self, stop_sandboxes: bool) -> None:
        pass


async def test_readyz_and_create_answer_503(tmp_path: Path) -> None:
    service = SandboxService(tmp_path, DownRuntime())
    await service.start()
    try:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] != "ready"
            assert ready.json()["active_sandboxes"] == 0
            assert (await client.get("/healthz")).status_code == 200

            created = await client.post("/v1/sandbox/run", json={"image": "x", "name": "waits"})
            assert created.status_code == 503
            assert "Docker engine does not answer" in created.json()["error"]
            assert created.headers["Retry-After"]
            # Nothing was recorded: the name is still free.
            assert (await client.get("/v1/sandbox/lookup", params={"name": "waits"})).status_code == 404
    finally:
        await service.close()

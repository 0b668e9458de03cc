"""While the runtime cannot run sandboxes: readyz answers 503 with its usual shape, create answers 503.

An engine that is down cannot be produced on demand with the process runtime,
so this runs the app in-process over the fake runtime, told it is down.
"""

from __future__ import annotations

from pathlib import Path

from fake_runtime import FakeRuntime, serve


async def test_readyz_and_create_answer_503(tmp_path: Path) -> None:
    down = "the Docker engine does not answer at unix:///var/run/docker.sock; start it"
    service, client = await serve(tmp_path, FakeRuntime(tmp_path, down=down))
    try:
        async with client:
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

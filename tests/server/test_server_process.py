"""The server as a process: API keys, refusing open binds, restarts, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest
from runtimes import require_bwrap
from server_calls import TERMINAL, create, sandbox_processes, wait_for

from porter_sandbox.testing import LocalServer


@pytest.mark.parametrize("how", ["env", "flag"])
def test_api_key_guards_everything_but_probes(how: str) -> None:
    options: dict[str, Any] = {"api_key": "s3cret-key"} if how == "env" else {"extra_args": ["--api-key", "s3cret-key"]}
    with LocalServer(isolation="none", **options) as server:
        with httpx.Client(base_url=server.url) as anonymous:
            assert anonymous.get("/healthz").status_code == 200
            assert anonymous.get("/readyz").status_code == 200
            missing = anonymous.get("/v1/sandbox")
            assert missing.status_code == 401 and "API key" in missing.json()["error"]
            wrong = anonymous.get("/v1/sandbox", headers={"Authorization": "Bearer wrong"})
            assert wrong.status_code == 401 and wrong.json()["error"]
            assert anonymous.post("/v1/sandbox/run", json={"image": "x"}).status_code == 401
            assert anonymous.get("/v1/no-such-route").status_code == 401
        with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer s3cret-key"}) as authorized:
            assert authorized.get("/v1/sandbox").status_code == 200


def test_refuses_a_non_loopback_host_without_a_key(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORTER_SANDBOX_SERVER_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "porter_sandbox_server", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode != 0
    assert "API key" in result.stderr
    assert result.stdout == ""


def test_restart_keeps_records_logs_and_volume_files_and_loses_live_sandboxes() -> None:
    require_bwrap()  # the live sandbox mounts a volume
    server = LocalServer(isolation="bwrap")
    with server:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            volume = api.post("/v1/volume", json={"name": "kept"}).json()
            (server.data_dir / "volumes" / volume["path"] / "note.txt").write_text("still here")
            done = create(api, name="finished", command=["sh", "-c", "echo remembered"])
            wait_for(api, done, TERMINAL)
            live = create(api, name="was-live", volume_mounts={"/data": volume["id"]})
            wait_for(api, live, {"running"})
        server.kill()
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as api:
            assert api.get("/v1/sandbox/lookup", params={"name": "finished"}).json() == {"id": done}
            assert api.get(f"/v1/sandbox/{done}").json()["phase"] == "succeeded"
            assert [e["line"] for e in api.get(f"/v1/sandbox/{done}/logs").json()["logs"]] == ["remembered"]
            lost = api.get(f"/v1/sandbox/{live}").json()
            assert (lost["phase"], lost["termination_reason"]) == ("failed", "backend_lost")
            assert api.get(f"/v1/volume/{volume['id']}").json()["attached_to"] == []
            assert (server.data_dir / "volumes" / volume["path"] / "note.txt").read_text() == "still here"
            assert api.post("/v1/sandbox/run", json={"image": "x", "name": "finished"}).status_code == 409
            assert api.get("/readyz").json()["active_sandboxes"] == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_terminates_live_sandboxes_and_exits_zero(sig: signal.Signals) -> None:
    token = f"{1000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**9:09d}"
    server = LocalServer(isolation="none")
    with server:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            sandbox_id = create(api, command=["sleep", token])
            wait_for(api, sandbox_id, {"running"})
            assert sandbox_processes(token)
        assert server.process is not None
        server.process.send_signal(sig)
        assert server.process.wait(30) == 0
        assert server.stop() == 0
        assert not _wait_gone(token)
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as api:
            status = api.get(f"/v1/sandbox/{sandbox_id}").json()
            assert (status["phase"], status["termination_reason"]) == ("terminated", "user_terminated")


def test_sigkill_leaves_no_sandbox_process() -> None:
    token = f"{1000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**9:09d}"
    server = LocalServer(isolation="none")
    with server:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            sandbox_id = create(api, command=["sleep", token])
            wait_for(api, sandbox_id, {"running"})
        server.kill()
        assert not _wait_gone(token)


def _wait_gone(token: str, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := sandbox_processes(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.mark.parametrize("isolation", ["auto", "bwrap", "none"])
def test_isolation_choice_is_accepted(isolation: str) -> None:
    if isolation != "none":
        require_bwrap()
    with LocalServer(isolation=isolation) as server, httpx.Client(base_url=server.url, timeout=60) as api:
        sandbox_id = create(api)
        answer = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", "echo ok"]})
        assert answer.json()["stdout"] == "ok\n"

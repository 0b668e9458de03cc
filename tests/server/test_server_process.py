"""The server as a process: API keys, refusing open binds, restarts, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
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
        # The scheme is case-insensitive, as HTTP's are; the key is not.
        for header in ["bearer s3cret-key", "BEARER s3cret-key", "Bearer  s3cret-key"]:
            assert httpx.get(f"{server.url}/v1/sandbox", headers={"Authorization": header}).status_code == 200, header
        for header in ["Bearer S3CRET-KEY", "Basic s3cret-key", "s3cret-key", "Bearer"]:
            assert httpx.get(f"{server.url}/v1/sandbox", headers={"Authorization": header}).status_code == 401, header


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


def _files(root: Path, leave_out: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (but those named in ``leave_out``): its size and modification time."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.name.startswith(leave_out):
            stat = path.stat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def test_a_second_server_on_a_data_directory_in_use_refuses_in_one_line_and_touches_nothing() -> None:
    require_bwrap()  # the live sandbox mounts a volume
    with LocalServer(isolation="bwrap") as first, httpx.Client(base_url=first.url, timeout=60) as api:
        volume = api.post("/v1/volume", json={"name": "still-mounted"}).json()
        put = api.put(f"/v1/volume/{volume['id']}/files/content", params={"path": "/note.txt"}, content=b"kept")
        assert put.status_code == 204
        live = create(api, volume_mounts={"/data": volume["id"]})
        wait_for(api, live, {"running"})
        assert (
            api.post(f"/v1/sandbox/{live}/exec", json={"command": ["touch", "/tmp/scratch-file"]}).json()["exit_code"]
            == 0
        )
        # The store's own files change with the first server's writes; everything else must not.
        before = _files(first.data_dir, leave_out=("porter-sandbox.db",))
        second = subprocess.run(
            [sys.executable, "-m", "porter_sandbox_server", "serve", "--port", "0", "--data-dir", str(first.data_dir)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert second.stdout == ""
        assert len(second.stderr.strip().splitlines()) == 1, second.stderr
        assert f"pid {first.pid}" in second.stderr and first.url in second.stderr, second.stderr
        assert _files(first.data_dir, leave_out=("porter-sandbox.db",)) == before
        # The first server's sandbox still runs, with its volume and its work directory.
        status = api.get(f"/v1/sandbox/{live}").json()
        assert (status["phase"], status.get("termination_reason")) == ("running", None)
        seen = api.post(
            f"/v1/sandbox/{live}/exec", json={"command": ["sh", "-c", "cat /data/note.txt; ls /tmp/scratch-file"]}
        ).json()
        assert seen["stdout"] == "kept/tmp/scratch-file\n", seen
        assert api.get(f"/v1/volume/{volume['id']}").json()["attached_to"] == [live]


def test_a_data_directory_is_free_again_once_its_server_is_gone() -> None:
    server = LocalServer(isolation="none")
    with server:
        pass
    server.start()  # after a clean stop
    server.kill()
    server.start()  # after SIGKILL: the kernel let go of the lock
    with httpx.Client(base_url=server.url) as api:
        assert api.get("/healthz").status_code == 200
    server.close()


def test_sigterm_with_many_sandboxes_leaves_no_work_directory() -> None:
    server = LocalServer()
    with server:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            running = [create(api) for _ in range(8)]
            exited = [create(api, command=["sh", "-c", "echo bye"]) for _ in range(6)]
            for sandbox_id in [*running, *exited]:
                wait_for(api, sandbox_id, {"running", "succeeded"})
            for sandbox_id in running:
                api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["touch", "/tmp/left-behind"]})
            # The last ones are still starting when the signal comes.
            starting = [create(api, command=["sleep", "60"]) for _ in range(7)]
        scratch = server.data_dir / "sandboxes"
        assert any(scratch.iterdir())
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) == 0
        assert sorted(path.name for path in scratch.iterdir()) == []
        server.stop()
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as api:
            for sandbox_id in [*running, *starting]:
                status = api.get(f"/v1/sandbox/{sandbox_id}").json()
                assert (status["phase"], status["termination_reason"]) == ("terminated", "user_terminated")


def test_sigkill_mid_upload_keeps_the_old_content_and_the_next_start_removes_the_upload() -> None:
    server = LocalServer(isolation="none")
    with server:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            volume = api.post("/v1/volume", json={}).json()["id"]
            content = f"/v1/volume/{volume}/files/content"
            assert api.put(content, params={"path": "/big.bin"}, content=b"old content").status_code == 204
        staging = server.data_dir / "volumes" / ".uploads"
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as raw:
            raw.sendall(
                f"PUT {content}?path=/big.bin HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Length: {142 * 1024 * 1024}\r\n\r\n".encode()
            )
            for _ in range(20):
                raw.sendall(b"n" * (1024 * 1024))
            deadline = time.monotonic() + 20
            while sum(path.stat().st_size for path in staging.iterdir()) < 10 * 1024 * 1024:
                assert time.monotonic() < deadline, "the upload never reached the disk"
                time.sleep(0.05)
            server.kill()
        assert [path.name for path in staging.iterdir()], "the killed server's upload is in the staging directory"
        assert not [p for p in (server.data_dir / "volumes" / volume).iterdir() if p.name != "big.bin"]
        server.start()
        assert list(staging.iterdir()) == []
        with httpx.Client(base_url=server.url, timeout=60) as api:
            assert api.get(content, params={"path": "/big.bin"}).content == b"old content"

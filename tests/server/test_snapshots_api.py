"""Snapshots over real HTTP on every runtime: take one, start sandboxes from it, list, delete; what is refused."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from runtime_servers import RuntimeServer, start_server
from server_calls import TERMINAL, create, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def http(server: RuntimeServer) -> Iterator[httpx.Client]:
    """An httpx client for the runtime-parametrised ``server``."""
    if server.runtime == "kubernetes":
        pytest.skip("the kubernetes runtime takes no snapshots (test_kubernetes_server checks its 400)")
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def sh(client: httpx.Client, sandbox_id: str, script: str) -> str:
    """Run a shell script in the sandbox; answer its stdout (it must exit 0)."""
    answer = client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["exit_code"] == 0, answer.json()
    return str(answer.json()["stdout"])


def running(client: httpx.Client, image: str, **spec: Any) -> str:
    """A running sandbox's id."""
    sandbox_id = create(client, image=image, **spec)
    wait_for(client, sandbox_id, {"running"}, timeout=60)
    return sandbox_id


def snapshot(client: httpx.Client, sandbox_id: str, timeout: float = 60) -> dict[str, Any]:
    """Snapshot the sandbox and wait until the capture ended; answer the snapshot."""
    answer = client.post(f"/v1/sandbox/{sandbox_id}/snapshot", json={"mode": "filesystem"})
    assert answer.status_code == 201, answer.text
    snapshot_id = answer.json()["id"]
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = client.get(f"/v1/snapshot/{snapshot_id}").json()
        if found["status"] != "pending":
            return found
        assert time.monotonic() < deadline, f"snapshot {snapshot_id} stayed pending"
        time.sleep(0.02)


def error_of(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, (answer.status_code, answer.text)
    message: str = answer.json()["error"]
    return message


def test_a_snapshot_becomes_ready_and_sandboxes_start_from_it(http: httpx.Client, server: RuntimeServer) -> None:
    source = running(http, server.image)
    sh(http, source, "echo 'from the source' > /workspace/note && head -c 1048576 /dev/zero > /tmp/blob")
    before = time.time()
    answer = http.post(f"/v1/sandbox/{source}/snapshot")  # no body: the default mode
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["id"].startswith("snap-")
    assert (created["sandbox_id"], created["mode"]) == (source, "filesystem")
    assert created["status"] in ("pending", "ready")
    assert before - 1 <= created["t_created_unix_ms"] / 1000 <= time.time() + 1

    snap = snapshot(http, source)
    assert snap["status"] == "ready", snap
    assert snap["size_bytes"] >= 1048576
    assert snap["t_ready_unix_ms"] >= snap["t_created_unix_ms"]
    listed = http.get("/v1/snapshot", params={"sandbox_id": source}).json()["snapshots"]
    assert [item["id"] for item in listed] == [snap["id"], created["id"]], "newest first"
    assert http.get("/v1/snapshot", params={"sandbox_id": "sb-nobody"}).json() == {"snapshots": []}
    assert snap["id"] in [item["id"] for item in http.get("/v1/snapshot").json()["snapshots"]]

    # Porter's client sends image "" with snapshot_id; the sandbox reports the snapshot's image.
    restored = running(http, "", snapshot_id=snap["id"])
    assert http.get(f"/v1/sandbox/{restored}").json()["image"] == server.image
    assert sh(http, restored, "cat /workspace/note; wc -c < /tmp/blob").split() == ["from", "the", "source", "1048576"]

    assert http.delete(f"/v1/snapshot/{snap['id']}").status_code == 204
    error_of(http.get(f"/v1/snapshot/{snap['id']}"), 404)
    error_of(http.delete(f"/v1/snapshot/{snap['id']}"), 404)
    assert snap["id"] in error_of(http.post("/v1/sandbox/run", json={"image": "", "snapshot_id": snap["id"]}), 400)
    assert sh(http, restored, "cat /workspace/note") == "from the source\n", "its sandboxes keep running"
    for item in listed:
        http.delete(f"/v1/snapshot/{item['id']}")


def test_what_a_snapshot_refuses_says_why(http: httpx.Client, server: RuntimeServer) -> None:
    source = running(http, server.image)
    full = error_of(http.post(f"/v1/sandbox/{source}/snapshot", json={"mode": "full"}), 400)
    assert "filesystem" in full and "full" in full
    error_of(http.post(f"/v1/sandbox/{source}/snapshot", json={"mode": "memory"}), 400)
    error_of(http.post("/v1/sandbox/sb-nobody/snapshot", json={}), 404)
    error_of(http.get("/v1/snapshot/snap-nobody"), 404)

    ended = create(http, image=server.image, command=["sh", "-c", "exit 0"])
    wait_for(http, ended, TERMINAL, timeout=60)
    assert "running" in error_of(http.post(f"/v1/sandbox/{ended}/snapshot", json={}), 409)

    assert "snapshot_id" in error_of(http.post("/v1/sandbox/run", json={"image": "", "snapshot_id": "snap-x"}), 400)
    assert "image" in error_of(http.post("/v1/sandbox/run", json={"image": ""}), 400)
    snap = snapshot(http, source)
    other = error_of(http.post("/v1/sandbox/run", json={"image": "other:1", "snapshot_id": snap["id"]}), 400)
    assert server.image in other
    # Naming the snapshot's own image is fine.
    same = running(http, server.image, snapshot_id=snap["id"])
    assert sh(http, same, "echo ok") == "ok\n"
    assert http.delete(f"/v1/snapshot/{snap['id']}").status_code == 204


def test_a_snapshot_deleted_while_a_sandbox_starts_from_it_is_freed_after(
    http: httpx.Client, server: RuntimeServer
) -> None:
    source = running(http, server.image)
    sh(http, source, "head -c 20000000 /dev/zero > /workspace/big")
    snap = snapshot(http, source)
    started = create(http, image="", snapshot_id=snap["id"])
    # At once, while the new sandbox is still being started from it.
    assert http.delete(f"/v1/snapshot/{snap['id']}").status_code == 204
    wait_for(http, started, {"running"}, timeout=60)
    assert sh(http, started, "wc -c < /workspace/big").strip() == "20000000"
    error_of(http.get(f"/v1/snapshot/{snap['id']}"), 404)
    if server.runtime == "process":
        stored = server.data_dir / "snapshots" / snap["id"]
        deadline = time.monotonic() + 30
        while stored.exists():
            assert time.monotonic() < deadline, "the deleted snapshot's files were never freed"
            time.sleep(0.05)
    else:
        from docker_support import engine

        api = engine()
        try:
            labelled = {"label": f"porter-sandbox.snapshot={snap['id']}"}
            assert all(image["RepoTags"] in ([], ["<none>:<none>"]) for image in api.images(filters=labelled))
            http.delete(f"/v1/sandbox/{started}")
            deadline = time.monotonic() + 30
            while api.images(filters=labelled):
                assert time.monotonic() < deadline, "the deleted snapshot's image outlived its last sandbox"
                time.sleep(0.1)
        finally:
            api.close()


@pytest.mark.bwrap
def test_ready_snapshots_outlive_a_restart_and_captures_cut_short_are_failed(tmp_path: Any) -> None:
    server = start_server("process", data_dir=tmp_path / "data")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            source = running(client, server.image)
            sh(client, source, "echo kept > /workspace/kept")
            snap = snapshot(client, source)
        server.stop()
        # What a server that died mid-capture leaves: a pending record and a half-made copy.
        with sqlite3.connect(server.data_dir / "porter-sandbox.db") as db:
            db.execute(
                "INSERT INTO snapshots (id, sandbox_id, mode, status, image, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                ("snap-cut-short", source, "filesystem", "pending", server.image, time.time()),
            )
        half_made = server.data_dir / "snapshots" / "snap-cut-short.partial"
        (half_made / "workspace").mkdir(parents=True)
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get(f"/v1/snapshot/{snap['id']}").json()["status"] == "ready"
            cut = client.get("/v1/snapshot/snap-cut-short").json()
            assert cut["status"] == "failed" and "stopped" in cut["failure_reason"]
            assert not half_made.exists()
            assert "snapshot" in error_of(
                client.post("/v1/sandbox/run", json={"image": "", "snapshot_id": "snap-cut-short"}), 400
            )
            restored = running(client, "", snapshot_id=snap["id"])
            assert sh(client, restored, "cat /workspace/kept") == "kept\n"
    finally:
        server.close()

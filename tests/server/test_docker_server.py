"""The Docker runtime through the real server: ``serve --runtime docker --docker-network none``, over HTTP.

Needs a Docker engine at DOCKER_HOST with ``porter-test/busybox:latest``
(``scripts/ci-docker.sh``); skips without one, fails with
``PORTER_SANDBOX_REQUIRE_DOCKER=1``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import server_calls
from docker_support import RUN_TAG, TEST_IMAGE, container_state, engine, remove_test_containers
from runtimes import require_docker

from porter_sandbox.testing import LocalServer

DOCKER_ARGS = ["--docker-network", "none"]
TERMINAL = server_calls.TERMINAL


pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def docker_server() -> Iterator[LocalServer]:
    require_docker()
    server = LocalServer(runtime="docker", extra_args=DOCKER_ARGS)
    try:
        server.start()
        yield server
    finally:
        server.close()
        remove_test_containers()


@pytest.fixture
def api(docker_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=docker_server.url, timeout=60) as client:
        yield client


def create(client: httpx.Client, **spec: Any) -> str:
    """Create a sandbox from the test image, tagged with this run; answer its id."""
    spec.setdefault("image", TEST_IMAGE)
    spec.setdefault("tags", dict(RUN_TAG))
    return server_calls.create(client, **spec)


def wait_phase(client: httpx.Client, sandbox_id: str, phases: set[str], timeout: float = 60.0) -> dict[str, Any]:
    return server_calls.wait_for(client, sandbox_id, phases, timeout)


def wait_removed(sandbox_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while container_state(sandbox_id) is not None:
        assert time.monotonic() < deadline, f"sandbox {sandbox_id}'s container is still there after {timeout} s"
        time.sleep(0.1)


def exec_in(client: httpx.Client, sandbox_id: str, *command: str) -> dict[str, Any]:
    response = client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": list(command)})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def log_lines(client: httpx.Client, sandbox_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/sandbox/{sandbox_id}/logs")
    assert response.status_code == 200, response.text
    lines: list[dict[str, Any]] = response.json()["logs"]
    return lines


def test_create_exec_terminate(api: httpx.Client) -> None:
    sandbox_id = create(api)
    assert wait_phase(api, sandbox_id, {"running"} | TERMINAL)["phase"] == "running"
    result = exec_in(api, sandbox_id, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (result["stdout"], result["stderr"], result["exit_code"]) == ("out\n", "err\n", 3)
    missing = exec_in(api, sandbox_id, "no-such-program")
    assert missing["exit_code"] == 127 and "no-such-program" in missing["stderr"]

    lines = log_lines(api, sandbox_id)
    assert {(line["line"], line["level"], line["exec_id"]) for line in lines} >= {
        ("out", "info", result["exec_id"]),
        ("err", "error", result["exec_id"]),
    }
    assert api.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204
    assert api.get(f"/v1/sandbox/{sandbox_id}").json()["phase"] == "terminated"
    assert container_state(sandbox_id) is None


def test_main_process_logs_and_exit_outlive_the_container(api: httpx.Client) -> None:
    sandbox_id = create(
        api, command=["sh", "-c"], args=["echo hello $WHO; echo warn >&2; exit 9"], env={"WHO": "docker"}
    )
    status = wait_phase(api, sandbox_id, TERMINAL)
    assert (status["phase"], status["exit_code"], status["termination_reason"]) == ("failed", 9, "workload_exited")
    lines = {(line["line"], line["level"], line["exec_id"]) for line in log_lines(api, sandbox_id)}
    assert {("hello docker", "info", ""), ("warn", "error", "")} <= lines
    wait_removed(sandbox_id)
    succeeded = create(api, command=["true"])
    assert wait_phase(api, succeeded, TERMINAL)["phase"] == "succeeded"


def test_volume_files_are_the_sandbox_files(api: httpx.Client) -> None:
    volume = api.post("/v1/volume", json={})
    assert volume.status_code == 201, volume.text
    volume_id = volume.json()["id"]
    sandbox_id = create(api, volume_mounts={"/data": volume_id})
    wait_phase(api, sandbox_id, {"running"})
    assert exec_in(api, sandbox_id, "sh", "-c", "echo from-sandbox > /data/note.txt")["exit_code"] == 0
    content = api.get(f"/v1/volume/{volume_id}/files/content", params={"path": "note.txt"})
    assert content.status_code == 200 and content.text == "from-sandbox\n"
    assert api.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204


def test_memory_limit_kills_and_the_sandbox_says_so(api: httpx.Client) -> None:
    hog = 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'
    sandbox_id = create(api, command=["sh", "-c", hog], resources={"memory": "32Mi", "cpu": "500m"})
    status = wait_phase(api, sandbox_id, TERMINAL)
    assert (status["phase"], status["exit_code"]) == ("failed", 137)
    text = "\n".join(line["line"] for line in log_lines(api, sandbox_id))
    assert "memory limit" in text and "survived" not in text


def test_bad_quantity_is_400(api: httpx.Client) -> None:
    response = api.post("/v1/sandbox/run", json={"image": TEST_IMAGE, "resources": {"memory": "lots"}})
    assert response.status_code == 400 and "memory" in response.json()["error"]


def test_failed_pull_fails_the_sandbox_with_the_registry_message(api: httpx.Client) -> None:
    # A registry on a loopback port where nothing listens: nothing leaves this machine.
    sandbox_id = create(api, image="127.0.0.1:9/porter-test/no-such-image:latest")
    status = wait_phase(api, sandbox_id, TERMINAL)
    assert (status["phase"], status["termination_reason"]) == ("failed", "launch_failed")
    text = "\n".join(line["line"] for line in log_lines(api, sandbox_id))
    assert "127.0.0.1:9/porter-test/no-such-image" in text and "connection refused" in text


def test_ttl_removes_the_container(api: httpx.Client) -> None:
    sandbox_id = create(api, ttl_seconds=1)
    status = wait_phase(api, sandbox_id, TERMINAL)
    assert (status["phase"], status["termination_reason"]) == ("terminated", "ttl_expired")
    # The phase is recorded before the container's removal ends.
    wait_removed(sandbox_id)


def test_restart_adopts_live_containers_and_loses_vanished_ones() -> None:
    require_docker()
    server = LocalServer(runtime="docker", extra_args=DOCKER_ARGS)
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            kept = create(
                client, command=["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo resumed; sleep 3600"]
            )
            vanishing = create(client)
            wait_phase(client, kept, {"running"})
            wait_phase(client, vanishing, {"running"})
        # A crash: the containers outlive the server.
        server.kill()
        api = engine()
        try:
            api.remove_container(f"porter-sandbox-{vanishing}", force=True)
        finally:
            api.close()

        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get(f"/v1/sandbox/{kept}").json()["phase"] == "running"
            lost = client.get(f"/v1/sandbox/{vanishing}").json()
            assert (lost["phase"], lost["termination_reason"]) == ("failed", "backend_lost")
            assert exec_in(client, kept, "touch", "/tmp/go")["exit_code"] == 0
            deadline = time.monotonic() + 30
            while not any(line["line"] == "resumed" for line in log_lines(client, kept)):
                assert time.monotonic() < deadline, "the adopted container's output reaches the logs"
                time.sleep(0.1)
            assert client.delete(f"/v1/sandbox/{kept}").status_code == 204
            assert container_state(kept) is None
    finally:
        server.close()
        remove_test_containers()


def test_unreachable_engine_is_503_naming_docker_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_docker()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with LocalServer(runtime="docker", extra_args=DOCKER_ARGS) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/readyz").status_code == 503
        assert "DOCKER_HOST" in server.log()
        created = client.post("/v1/sandbox/run", json={"image": TEST_IMAGE})
        assert created.status_code == 503 and "DOCKER_HOST" in created.json()["error"]

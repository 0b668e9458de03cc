"""The docker runtime's pool (``serve --runtime docker --pool N``), through the real server and a real engine.

A launch of the pool's shape takes a container started ahead, renamed for it:
inside, nothing tells it from a fresh one; a launch of another shape starts
its own and the pool refills for that shape; a restarted server adopts a
pooled sandbox by its container's name and removes what waited in the pool.

Needs a Docker engine at DOCKER_HOST with ``porter-test/busybox:latest``
(``scripts/ci-docker.sh``); skips without one, fails with
``PORTER_SANDBOX_REQUIRE_DOCKER=1``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import server_calls
from docker_support import (
    RUN_TAG,
    TEST_IMAGE,
    engine,
    pool_containers,
    pool_owner,
    remove_pool_containers,
    remove_test_containers,
)
from runtimes import require_docker

from porter_sandbox.testing import LocalServer
from porter_sandbox_server.runtimes.docker.pool import LABEL_POOL

pytestmark = pytest.mark.docker

SIZE = 2
POOL_ARGS = ["--docker-network", "none", "--pool", str(SIZE)]
FILLED = f"sandbox pool: {SIZE} sandboxes started and ready"
MEMORY_LIMIT = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
#: Who the command is, what it may do, what it sees: each line the same in a pooled and a fresh container.
PROBE = (
    "id; env | sort; echo; tr '\\0' ' ' < /proc/1/cmdline; echo; pwd; ls -ld /workspace; ulimit -a;"
    " grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status; cat /proc/self/cgroup;"
    " cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max;"
    " awk '{print $5, $6, $9, $10}' /proc/self/mountinfo; hostname; cat /etc/hostname"
)
#: What the engine was asked to create, compared between a pooled and a fresh container.
CONFIG_FIELDS = ("Env", "Entrypoint", "Cmd", "WorkingDir", "User", "Image", "Tty", "OpenStdin")


def _pool_containers(server: LocalServer) -> list[dict[str, Any]]:
    """Every container this server started for its pool, taken or not."""
    return pool_containers(pool_owner(server.data_dir))


def _waiting(server: LocalServer) -> list[dict[str, Any]]:
    """The containers waiting in the server's pool (not yet a sandbox's)."""
    return [c for c in _pool_containers(server) if c["Names"][0].startswith("/porter-sandbox-pooled-")]


def _inspect(sandbox_id: str) -> dict[str, Any]:
    api = engine()
    try:
        found: dict[str, Any] = api.inspect_container(f"porter-sandbox-{sandbox_id}")
        return found
    finally:
        api.close()


def _wait_filled_for(server: LocalServer, sandbox_id: str) -> list[str]:
    """Wait until the pool holds ``SIZE`` containers made as ``sandbox_id``'s was; answer their ids."""
    wanted = _inspect(sandbox_id)["HostConfig"]
    found: list[str] = []

    def filled() -> bool:
        engine_api = engine()
        try:
            found[:] = [
                c["Id"] for c in _waiting(server) if engine_api.inspect_container(c["Id"])["HostConfig"] == wanted
            ]
            return len(found) == SIZE and len(_waiting(server)) == SIZE
        finally:
            engine_api.close()

    _wait(filled, f"the pool did not fill for the shape of {sandbox_id}:\n{server.log()[-2000:]}")
    return sorted(found)


def _served(server: LocalServer, sandbox_id: str) -> bool:
    return f"sandbox {sandbox_id}: started from the pool" in server.log()


def _wait(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _probe(client: httpx.Client, sandbox_id: str) -> str:
    """The probe's answer, with the container's own id (its hostname, its cgroup) and the exec's id masked."""
    container_id = _inspect(sandbox_id)["Id"]
    answer = client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", PROBE]}).json()
    assert answer["exit_code"] == 0, answer
    text = str(answer["stdout"]).replace(container_id, "<id>").replace(container_id[:12], "<id>")
    return re.sub(r"PORTER_SANDBOX_EXEC_ID=\S+", "PORTER_SANDBOX_EXEC_ID=<exec>", text)


@pytest.fixture(scope="module")
def pool_server() -> Iterator[LocalServer]:
    require_docker()
    server = LocalServer(runtime="docker", extra_args=POOL_ARGS)
    try:
        server.start()
        owner = pool_owner(server.data_dir)
        yield server
    finally:
        server.close()
        remove_pool_containers(owner)
        remove_test_containers()


@pytest.fixture
def api(pool_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pool_server.url, timeout=60) as client:
        yield client


def create(client: httpx.Client, **spec: Any) -> str:
    spec.setdefault("image", TEST_IMAGE)
    spec.setdefault("tags", dict(RUN_TAG))
    sandbox_id = server_calls.create(client, **spec)
    server_calls.wait_for(client, sandbox_id, {"running"}, 60)
    return sandbox_id


def test_a_pooled_container_is_a_fresh_one_seen_from_inside(pool_server: LocalServer, api: httpx.Client) -> None:
    fresh = create(api)  # the first launch of its shape: the pool fills for it
    assert not _served(pool_server, fresh)
    _wait(lambda: FILLED in pool_server.log(), "the pool did not fill")
    pooled = create(api)
    assert _served(pool_server, pooled), pool_server.log()[-2000:]

    assert _probe(api, pooled) == _probe(api, fresh)
    fresh_config, pooled_config = _inspect(fresh), _inspect(pooled)
    assert pooled_config["Name"] == f"/porter-sandbox-{pooled}"
    assert pooled_config["HostConfig"] == fresh_config["HostConfig"]
    for name in CONFIG_FIELDS:
        assert pooled_config["Config"].get(name) == fresh_config["Config"].get(name), name
    # Seen from the engine: the labels it was started with (the module doc of the pool says so).
    labels = pooled_config["Config"]["Labels"]
    assert labels[LABEL_POOL] == pool_owner(pool_server.data_dir) and labels["porter-sandbox.id"].startswith("pooled-")

    for sandbox_id in (fresh, pooled):
        assert api.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204
        assert f"/porter-sandbox-{sandbox_id}" not in [c["Names"][0] for c in _pool_containers(pool_server)]


def test_a_launch_of_another_shape_starts_its_own_and_the_pool_refills_for_it(
    pool_server: LocalServer, api: httpx.Client
) -> None:
    _wait_filled_for(pool_server, create(api))
    other = create(api, resources={"memory": "96Mi"})
    assert not _served(pool_server, other), "a container started for another memory limit served it"

    def refilled() -> bool:
        waiting = _waiting(pool_server)
        engine_api = engine()
        try:
            limits = [engine_api.inspect_container(c["Id"])["HostConfig"]["Memory"] for c in waiting]
        finally:
            engine_api.close()
        return limits == [96 * 2**20] * SIZE

    _wait(refilled, f"the pool was not refilled with containers of the new shape:\n{pool_server.log()[-3000:]}")
    again = create(api, resources={"memory": "96Mi"})
    assert _served(pool_server, again)
    answer = api.post(f"/v1/sandbox/{again}/exec", json={"command": ["cat", MEMORY_LIMIT]}).json()
    assert answer["stdout"] == f"{96 * 2**20}\n"


def test_a_launch_with_an_environment_of_its_own_is_never_pooled(pool_server: LocalServer, api: httpx.Client) -> None:
    before = _wait_filled_for(pool_server, create(api))
    secret = f"only-mine-{uuid.uuid4().hex}"
    first = create(api, env={"TOKEN": secret})
    second = create(api, env={"TOKEN": secret})
    assert not _served(pool_server, first) and not _served(pool_server, second)
    time.sleep(1.0)  # what a refill for its shape would have started by now
    assert sorted(c["Id"] for c in _waiting(pool_server)) == before, "the pool changed shape for it"
    engine_api = engine()
    try:
        for container in _pool_containers(pool_server):
            assert not any(secret in entry for entry in engine_api.inspect_container(container["Id"])["Config"]["Env"])
    finally:
        engine_api.close()


def test_launches_the_pool_cannot_serve_start_their_own(pool_server: LocalServer, api: httpx.Client) -> None:
    _wait_filled_for(pool_server, create(api))
    commanded = create(api, command=["sh", "-c", "sleep 3600"])
    volume = api.post("/v1/volume", json={})
    assert volume.status_code == 201, volume.text
    mounting = create(api, volume_mounts={"/data": volume.json()["id"]})
    for sandbox_id in (commanded, mounting):
        assert not _served(pool_server, sandbox_id)


def test_a_pooled_container_that_ended_while_it_waited_serves_no_one(
    pool_server: LocalServer, api: httpx.Client
) -> None:
    _wait_filled_for(pool_server, create(api))
    engine_api = engine()
    try:
        for container in _waiting(pool_server):
            engine_api.kill(container["Id"])  # as an engine restart would end them
    finally:
        engine_api.close()
    sandbox_id = create(api)
    assert not _served(pool_server, sandbox_id)
    answer = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["echo", "fresh"]}).json()
    assert answer["stdout"] == "fresh\n"
    assert "a pooled container could not serve" in pool_server.log()


def test_a_server_that_stops_while_its_pool_fills_leaves_no_waiting_container() -> None:
    require_docker()
    server = LocalServer(runtime="docker", extra_args=["--docker-network", "none", "--pool", "8"])
    owner = ""
    try:
        server.start()
        owner = pool_owner(server.data_dir)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            create(client)
        # The refill starts 0.1 s after the launch, one container at a time: stop in the middle of it.
        _wait(lambda: "sandbox pool:" in server.log() or _waiting(server), "the pool did not start filling")
        time.sleep(0.2)
        server.close()
        assert [c["Names"] for c in pool_containers(owner) if c["Names"][0].startswith("/porter-sandbox-pooled-")] == []
    finally:
        server.close()
        remove_pool_containers(owner)
        remove_test_containers()


def test_a_restarted_server_adopts_pooled_sandboxes_and_removes_what_waited() -> None:
    require_docker()
    server = LocalServer(runtime="docker", extra_args=POOL_ARGS)
    owner = ""
    try:
        server.start()
        owner = pool_owner(server.data_dir)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            _wait_filled_for(server, create(client))
            pooled = create(client)
            assert _served(server, pooled)
            _wait(lambda: len(_waiting(server)) == SIZE, "the pool did not refill")
        server.kill()  # a crash: every container outlives it
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get(f"/v1/sandbox/{pooled}").json()["phase"] == "running"
            answer = client.post(f"/v1/sandbox/{pooled}/exec", json={"command": ["echo", "adopted"]}).json()
            assert answer["stdout"] == "adopted\n"
            assert _waiting(server) == [], "containers left waiting in the pool were not removed"
            assert client.delete(f"/v1/sandbox/{pooled}").status_code == 204
        assert not [c for c in _pool_containers(server) if c["Names"][0] == f"/porter-sandbox-{pooled}"]
    finally:
        server.close()
        remove_pool_containers(owner)
        remove_test_containers()

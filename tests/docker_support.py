"""What the Docker tests share: a run label, cleanup by label, launch specs, an engine proxy.

Every container the Docker tests create carries the tag ``porter-test-run`` with
this run's id (the label ``porter-sandbox.tag.porter-test-run``), so the tests
remove exactly their own containers at the end, never anyone else's on a
shared engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors

from porter_sandbox_server.runtimes.base import LaunchSpec

TEST_IMAGE = "porter-test/busybox:latest"
RUN_ID = uuid.uuid4().hex[:12]
RUN_TAG = {"porter-test-run": RUN_ID}
RUN_LABEL = f"porter-sandbox.tag.porter-test-run={RUN_ID}"


def engine() -> docker.APIClient:
    """A low-level client for the engine at DOCKER_HOST, for looking behind the runtime."""
    return docker.APIClient(version="1.41", **docker.utils.kwargs_from_env())


def remove_test_containers() -> None:
    """Remove every container this test run created, and the snapshot images made of them."""
    api = engine()
    try:
        for container in api.containers(all=True, filters={"label": RUN_LABEL}):
            api.remove_container(container["Id"], v=True, force=True)
        # A committed image keeps its container's labels, this run's tag among them.
        for image in api.images(all=True, filters={"label": RUN_LABEL}):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_image(image["Id"], force=True)
    finally:
        api.close()


def pool_owner(data_dir: Path) -> str:
    """The owner id a docker server with this data directory labels its pool's containers with ("" before any)."""
    owner_file = data_dir / "docker-snapshot-owner"
    return owner_file.read_text().strip() if owner_file.exists() else ""


def pool_containers(owner: str) -> list[dict[str, Any]]:
    """Every container the server of ``owner`` started for its pool (``serve --pool``), taken or not."""
    api = engine()
    try:
        found: list[dict[str, Any]] = api.containers(all=True, filters={"label": f"porter-sandbox.pool={owner}"})
        return found
    finally:
        api.close()


def remove_pool_containers(owner: str) -> None:
    """Remove them: a pooled container keeps the labels it was started with, so this run's tag is not among them."""
    if not owner:
        return
    api = engine()
    try:
        for container in pool_containers(owner):
            api.remove_container(container["Id"], v=True, force=True)
    finally:
        api.close()


def container_state(sandbox_id: str) -> dict[str, Any] | None:
    """The engine's State of a sandbox's container, or None when there is none."""
    api = engine()
    try:
        found = api.containers(all=True, filters={"label": f"porter-sandbox.id={sandbox_id}"})
        if not found:
            return None
        try:
            state: dict[str, Any] = api.inspect_container(found[0]["Id"])["State"]
        except docker.errors.NotFound:
            return None  # removed between the listing and now
        return state
    finally:
        api.close()


def make_spec(**fields: Any) -> LaunchSpec:
    """A LaunchSpec for the test image, tagged with this run's id."""
    sandbox_id = fields.pop("sandbox_id", f"sbx-{uuid.uuid4().hex[:16]}")
    values: dict[str, Any] = {
        "sandbox_id": sandbox_id,
        "name": f"test-{sandbox_id}",
        "image": TEST_IMAGE,
        "command": None,
        "args": None,
        "env": {},
        "tags": dict(RUN_TAG),
    }
    values.update(fields)
    return LaunchSpec(**values)


async def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait (bounded) until ``check()`` holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout} s: {what}")
        await asyncio.sleep(0.05)


class EngineProxy:
    """A unix socket that forwards to the engine until ``cut()``: an engine that goes away and comes back.

    Cutting closes the listener and every forwarded connection, so clients of
    the proxy see exactly what they see when an engine dies: refused
    connections and broken streams. ``restore()`` listens again.
    """

    def __init__(self, path: Path) -> None:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if not host.startswith("unix://"):
            raise RuntimeError("the engine proxy forwards to a unix socket DOCKER_HOST only")
        self.target = host[len("unix://") :]
        self.path = path
        self.url = f"unix://{path}"
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        if self.path.exists():
            self.path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self.path.exists():
            self.path.unlink()
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

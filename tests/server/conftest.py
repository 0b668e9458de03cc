"""Fixtures for the server tests: real servers (``python -m porter_sandbox_server serve``) and plain httpx.

Server tests talk HTTP with httpx, never through the SDK, so they test the
server alone. ``api`` is a module-scoped server on the process runtime without
isolation (isolation is what ``test_process_runtime*`` tests); tests that share
it give their sandboxes unique names.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from porter_sandbox.testing import LocalServer

TERMINAL = {"succeeded", "failed", "terminated"}


@pytest.fixture(scope="module")
def api_server() -> Iterator[LocalServer]:
    """A local server on the process runtime, shared by a test module."""
    with LocalServer(isolation="none") as server:
        yield server


@pytest.fixture
def api(api_server: LocalServer) -> Iterator[httpx.Client]:
    """An httpx client for ``api_server``."""
    with httpx.Client(base_url=api_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def name() -> str:
    """A name no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"


def create(client: httpx.Client, **spec: Any) -> str:
    """Create a sandbox (image ``python:3.12-slim`` unless given); answer its id."""
    spec.setdefault("image", "python:3.12-slim")
    response = client.post("/v1/sandbox/run", json=spec)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def wait_for(client: httpx.Client, sandbox_id: str, phases: set[str], timeout: float = 30) -> dict[str, Any]:
    """Poll the sandbox until its phase is one of ``phases``; answer its status."""
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = client.get(f"/v1/sandbox/{sandbox_id}").json()
        if status["phase"] in phases:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"sandbox {sandbox_id} stayed {status['phase']}, wanted {sorted(phases)}")
        time.sleep(0.02)


def sandbox_processes(token: str) -> list[int]:
    """PIDs of processes on this host whose command line holds ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry.name))
    return found


def crash(server: LocalServer) -> None:
    """Kill the server outright (SIGKILL), as a crash would, and close our end of its stdout."""
    process = server.process
    server.kill()
    if process is not None and process.stdout is not None:
        process.stdout.close()

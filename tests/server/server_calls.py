"""Plain-HTTP calls the server tests share (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"succeeded", "failed", "terminated"}


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

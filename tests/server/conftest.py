"""Fixtures for the server tests: real servers (``python -m porter_sandbox_server serve``) and plain httpx.

Server tests talk HTTP with httpx, never through the SDK, so they test the
server alone. ``api`` is a module-scoped server on the process runtime without
isolation (isolation is what ``test_process_runtime*`` tests); tests that share
it give their sandboxes unique names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from porter_sandbox.testing import LocalServer


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

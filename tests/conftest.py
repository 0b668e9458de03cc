"""Fixtures shared by every test: real local servers, on every runtime this machine has.

- ``server``: a running local server (module-scoped), parametrised over the
  runtimes: ``process`` always (bubblewrap isolation when installed), ``docker``
  when an engine answers (see ``runtimes.require_docker``), ``kubernetes`` when
  KUBECONFIG names a cluster with the test images (``runtimes.require_kubernetes``). Its ``image`` and
  ``shell`` attributes say which image to create sandboxes from and how to run
  a shell command there, so one test body runs on both runtimes.
- ``porter`` / ``async_porter``: SDK clients pointed at ``server``.
- ``reference_python``: the interpreter of a venv holding Porter's published
  client (``porter_reference``); skips without PyPI, fails so in CI.

Sandbox names are unique forever on a server: tests sharing the module-scoped
server make their names unique (``unique_name``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from porter_reference import reference_python as build_reference_python
from runtime_servers import RuntimeServer, start_server
from runtimes import require_bwrap, require_docker, require_kubernetes

__all__ = ["require_bwrap", "require_docker", "require_kubernetes"]

RUNTIMES = [
    pytest.param("process", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("kubernetes", marks=pytest.mark.kubernetes),
]


@pytest.fixture(scope="module", params=RUNTIMES)
def server(request: pytest.FixtureRequest) -> Iterator[RuntimeServer]:
    """A running local server, once per runtime this machine has."""
    started = start_server(request.param)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def porter(server: RuntimeServer) -> Iterator[Any]:
    """A ``Porter`` client for ``server``."""
    with server.client(**server.client_options()) as client:
        yield client


@pytest.fixture
async def async_porter(server: RuntimeServer) -> AsyncIterator[Any]:
    """An ``AsyncPorter`` client for ``server``."""
    async with server.async_client(**server.client_options()) as client:
        yield client


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """The interpreter of a venv holding Porter's published client 0.1.68, built on first use."""
    return build_reference_python()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A sandbox or volume name no other test uses."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower()).strip("-")[:40].strip("-")
    return f"{base}-{uuid.uuid4().hex[:8]}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs bubblewrap: tests on the ``bw`` fixture, or parametrised with ``isolation="bwrap"``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        isolation = callspec.params.get("isolation") if callspec is not None else None
        if "bw" in getattr(item, "fixturenames", ()) or isolation == "bwrap":
            item.add_marker(pytest.mark.bwrap)

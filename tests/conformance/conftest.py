"""The runtime conformance suite: what every runtime must do, run against each real one.

Each test gets a ``kit`` (``runtime_kit.Kit``): an opened runtime of one kind, the events it
reported, and helpers to make launch specs and volumes. A new runtime is
correct once it passes this suite: add it to ``RUNTIMES`` and to
``runtime_kit.build_runtime`` (and its skip rule here).

Tests drive the runtime directly (no HTTP, no service), so they test the
interface in ``porter_sandbox_server.runtimes.base`` and nothing above it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from runtime_events import Recorder
from runtime_kit import Kit, build_runtime
from runtimes import DOCKER_TEST_IMAGE, require_bwrap, require_docker, require_kubernetes

RUNTIMES = [
    pytest.param("process", marks=pytest.mark.bwrap),
    # The process runtime with pre-started sandboxes (``serve --pool``): each test's sandboxes of the
    # pool's shape are pooled ones, so the suite checks that a pooled sandbox behaves as a fresh one.
    pytest.param("process-pool", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
    # The docker runtime with containers started ahead: primed with one launch of the suite's usual
    # shape, so each test's launches of that shape take pooled containers.
    pytest.param("docker-pool", marks=pytest.mark.docker),
    pytest.param("kubernetes", marks=pytest.mark.kubernetes),
]


@pytest.fixture(scope="module", params=RUNTIMES)
def runtime_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each runtime kind this machine can run (the others skip, or fail where CI demands them)."""
    kind: str = request.param
    if kind in ("docker", "docker-pool"):
        require_docker()
        yield kind
        from docker_support import remove_test_containers

        remove_test_containers()
        return
    if kind == "kubernetes":
        require_kubernetes()
        from kube_support import cleanup, ensure_namespace

        ensure_namespace()
        yield kind
        cleanup()
        return
    require_bwrap()
    yield kind


@pytest.fixture
async def kit(runtime_kind: str, tmp_path: Path) -> AsyncIterator[Kit]:
    """An opened runtime of ``runtime_kind`` with its own data directory; every sandbox is stopped after."""
    from docker_support import RUN_TAG

    data_dir = tmp_path / "data"
    runtime = build_runtime(runtime_kind, data_dir)
    events = Recorder()
    await runtime.volumes.open()
    await runtime.open(events)
    image = "python:3.12-slim" if runtime_kind.startswith("process") else DOCKER_TEST_IMAGE
    pool = getattr(runtime, "pool", None)
    opened = Kit(runtime_kind, runtime, events, data_dir, image, dict(RUN_TAG))
    if runtime_kind.endswith("-pool"):
        assert pool is not None, "the pool is off: see the runtime's log"
        if runtime_kind == "docker-pool":  # it fills for the shape of a launch it saw
            primer = await opened.launch()
            await runtime.stop(primer)
        assert await pool.full(timeout=60.0), "the pool did not fill"
    try:
        yield opened
        if pool is not None:
            assert pool.failed_starts == 0, "a pooled sandbox failed to start"
    finally:
        await runtime.close(stop_sandboxes=True)

"""Fixtures of the red-team suite: ``target`` (a running server of each kind) and ``porter`` (a client for it).

See ``redteam`` for the targets and what each test may and may not do to the host.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from docker_support import pool_owner, remove_pool_containers
from redteam import TARGETS, Target, start_target

from porter_sandbox import Porter


@pytest.fixture(scope="session")
def pooled_launches() -> Iterator[dict[str, int]]:
    """Sandboxes each pooling server (``process-pool``, ``docker-pool``) started from its pool: some must have."""
    counts: dict[str, int] = {}
    yield counts
    for kind, count in counts.items():
        assert count > 0, f"no attack ran in a pooled sandbox: every sandbox of {kind} started fresh"


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest, pooled_launches: dict[str, int]) -> Iterator[Target]:
    """A running server of each kind this machine can run, attacked by the tests of one module."""
    started = start_target(request.param)
    try:
        yield started
    finally:
        owner = pool_owner(started.server.data_dir) if started.kind == "docker-pool" else ""
        if started.kind.endswith("-pool"):
            served = started.server.log().count("started from the pool")
            pooled_launches[started.kind] = pooled_launches.get(started.kind, 0) + served
        started.server.close()
        remove_pool_containers(owner)


@pytest.fixture
def porter(target: Target) -> Iterator[Porter]:
    """An SDK client for ``target``; every sandbox and volume a test made through ``target`` goes after it."""
    with target.client() as client:
        try:
            yield client
        finally:
            # Newest first: sandboxes end before the volumes they mount are deleted.
            for made in reversed(target.made):
                made.terminate()
            target.made.clear()

"""Fixtures of the red-team suite: ``target`` (a running server of each kind) and ``porter`` (a client for it).

See ``redteam`` for the targets and what each test may and may not do to the host.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redteam import TARGETS, Target, start_target

from porter_sandbox import Porter


@pytest.fixture(scope="session")
def pooled_launches() -> Iterator[list[int]]:
    """Sandboxes the ``process-pool`` servers started from their pool, per module: some must have."""
    counts: list[int] = []
    yield counts
    if counts:
        assert sum(counts) > 0, "no attack ran in a pooled sandbox: every sandbox of process-pool started fresh"


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest, pooled_launches: list[int]) -> Iterator[Target]:
    """A running server of each kind this machine can run, attacked by the tests of one module."""
    started = start_target(request.param)
    try:
        yield started
    finally:
        if started.kind == "process-pool":
            pooled_launches.append(started.server.log().count("started from the pool"))
        started.server.close()


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

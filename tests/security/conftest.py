"""Fixtures of the red-team suite: ``target`` (a running server of each kind) and ``porter`` (a client for it).

See ``redteam`` for the targets and what each test may and may not do to the host.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redteam import TARGETS, Target, start_target

from porter_sandbox import Porter


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """A running server of each kind this machine can run, attacked by the tests of one module."""
    started = start_target(request.param)
    try:
        yield started
    finally:
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

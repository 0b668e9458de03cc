"""pytest fixtures for testing your code against sandboxes, with no cluster.

Installed with porter-sandbox (entry point ``pytest11``), so your tests just ask::

    def test_hello(porter):
        sandbox = porter.sandboxes.create(image="python:3.12-slim")
        assert sandbox.exec(["python3", "-c", "print('hi')"]).stdout == "hi\\n"

Fixtures:

- ``sandbox_server`` (session): a ``porter_sandbox.testing.LocalServer``, started
  the first time a test asks for it (``.url``, ``.client()``), on a free loopback
  port with a temporary data directory, and stopped at the end of the session.
  It needs ``pip install 'porter-sandbox[server]'``. Override it in your
  ``conftest.py`` to change how the server runs (``local_server(runtime="docker")``).
- ``porter``: a ``Porter`` client for it, closed after the test.
- ``async_porter``: an ``AsyncPorter`` client for it (needs pytest-asyncio).

Nothing starts when the plugin loads: only a test that asks for a fixture
starts the server. Sandbox names are unique forever on a server, and the
server lives for the whole session: give each test's sandboxes their own names.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from .testing import LocalServer

if TYPE_CHECKING:
    from ._client import AsyncPorter, Porter

__all__ = ["porter", "sandbox_server"]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[LocalServer]:
    """A local Sandbox API server for the whole test session (``.url``, ``.client()``)."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def porter(sandbox_server: LocalServer) -> Iterator[Porter]:
    """A ``Porter`` client for ``sandbox_server``."""
    with sandbox_server.client() as client:
        yield client


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    __all__ += ["async_porter"]

    # pytest-asyncio in strict mode (its default) only runs async fixtures it decorated itself.
    @pytest_asyncio.fixture
    async def async_porter(sandbox_server: LocalServer) -> AsyncIterator[AsyncPorter]:
        """An ``AsyncPorter`` client for ``sandbox_server``."""
        async with sandbox_server.async_client() as client:
            yield client

else:  # pragma: no cover - depends on what the user installed

    @pytest.fixture(name="async_porter")
    def _async_porter_needs_pytest_asyncio() -> None:
        """An ``AsyncPorter`` client for ``sandbox_server`` (needs pytest-asyncio)."""
        pytest.fail("the async_porter fixture needs pytest-asyncio: pip install pytest-asyncio", pytrace=False)

"""pytest fixtures for testing your code against sandboxes, with no cluster.

Installed with porter-sandbox (entry point ``pytest11``), so your tests just ask::

    def test_hello(sandbox):
        assert sandbox.exec(["python3", "-c", "print('hi')"]).stdout == "hi\\n"

Fixtures:

- ``sandbox_server`` (session): a ``porter_sandbox.testing.LocalServer``, started
  the first time a test asks for it (``.url``, ``.client()``), on a free loopback
  port with a temporary data directory, and stopped at the end of the session.
  It needs the ``server`` extra. Override it in your ``conftest.py`` to change
  how the server runs (``local_server(runtime="docker")``). When the session
  ends, it warns (``SandboxLeftRunningWarning``) with the sandboxes that tests
  left running.
- ``porter``: a ``Porter`` client for it, closed after the test.
- ``async_porter``: an ``AsyncPorter`` client for it (needs pytest-asyncio).
- ``sandbox``: a fresh sandbox for one test (from ``sandbox_image``), always
  terminated after it, whatever the test did.
- ``async_sandbox``: the same, an ``AsyncSandbox`` (needs pytest-asyncio).
- ``sandbox_image``: the image ``sandbox`` and ``async_sandbox`` are made from,
  ``python:3.12-slim``; override it to use another.

Nothing starts when the plugin loads: only a test that asks for a fixture
starts the server. Sandbox names are unique forever on a server, and the
server lives for the whole session: give each test's sandboxes their own names.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from .testing import LocalServer, SandboxLeftRunningWarning, ServerStartError, live_sandboxes

if TYPE_CHECKING:
    from ._client import AsyncPorter, Porter
    from ._sandboxes import AsyncSandbox, Sandbox

__all__ = ["porter", "sandbox", "sandbox_image", "sandbox_server"]

#: The tag every sandbox the ``sandbox`` fixtures make carries: the test that asked for it.
TEST_TAG = "pytest-test"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[LocalServer]:
    """A local Sandbox API server for the whole test session (``.url``, ``.client()``)."""
    try:
        server = LocalServer()
        server.start()
    except ServerStartError as exc:
        pytest.fail(f"porter-sandbox: {exc}", pytrace=False)
    try:
        yield server
        _warn_about_live_sandboxes(server)
    finally:
        server.close()


def _warn_about_live_sandboxes(server: LocalServer) -> None:
    from ._exceptions import SandboxError

    try:
        left = live_sandboxes(server)
    except SandboxError:
        return  # the server is gone (a test stopped it): nothing to report
    if left:
        warnings.warn(
            SandboxLeftRunningWarning(
                f"{len(left)} sandbox{'es were' if len(left) != 1 else ' was'} still running when the test session "
                f"ended; terminate them in the test that made them, or use the `sandbox` fixture: " + "; ".join(left)
            ),
            stacklevel=1,
        )


@pytest.fixture
def porter(sandbox_server: LocalServer) -> Iterator[Porter]:
    """A ``Porter`` client for ``sandbox_server``."""
    with sandbox_server.client() as client:
        yield client


@pytest.fixture
def sandbox_image() -> str:
    """The image the ``sandbox`` fixtures create their sandboxes from; override it to use another."""
    return "python:3.12-slim"


@pytest.fixture
def sandbox(porter: Porter, sandbox_image: str, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh, running sandbox for this test, terminated after it whatever happened."""
    created = porter.sandboxes.create(image=sandbox_image, tags={TEST_TAG: _test_tag(request)})
    with created:  # terminates on exit, and never hides the test's own error behind its own
        yield created.wait("running")


def _test_tag(request: pytest.FixtureRequest) -> str:
    nodeid: str = request.node.nodeid
    return nodeid[-200:]


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    __all__ += ["async_porter", "async_sandbox"]

    # pytest-asyncio in strict mode (its default) only runs async fixtures it decorated itself.
    @pytest_asyncio.fixture
    async def async_porter(sandbox_server: LocalServer) -> AsyncIterator[AsyncPorter]:
        """An ``AsyncPorter`` client for ``sandbox_server``."""
        async with sandbox_server.async_client() as client:
            yield client

    @pytest_asyncio.fixture
    async def async_sandbox(
        async_porter: AsyncPorter, sandbox_image: str, request: pytest.FixtureRequest
    ) -> AsyncIterator[AsyncSandbox]:
        """A fresh, running ``AsyncSandbox`` for this test, terminated after it whatever happened."""
        created = await async_porter.sandboxes.create(image=sandbox_image, tags={TEST_TAG: _test_tag(request)})
        async with created:
            yield await created.wait("running")

else:  # pragma: no cover - depends on what the user installed

    @pytest.fixture(name="async_porter")
    def _async_porter_needs_pytest_asyncio() -> None:
        """An ``AsyncPorter`` client for ``sandbox_server`` (needs pytest-asyncio)."""
        pytest.fail("the async_porter fixture needs pytest-asyncio: pip install pytest-asyncio", pytrace=False)

    @pytest.fixture(name="async_sandbox")
    def _async_sandbox_needs_pytest_asyncio() -> None:
        """A fresh ``AsyncSandbox`` for this test (needs pytest-asyncio)."""
        pytest.fail("the async_sandbox fixture needs pytest-asyncio: pip install pytest-asyncio", pytrace=False)

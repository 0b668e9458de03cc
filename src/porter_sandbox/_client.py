"""``Porter`` and ``AsyncPorter``: the clients, their configuration, and the one httpx client they share with ``.raw``."""

from __future__ import annotations

import importlib
import sys
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

# The namespaces' classes are named through the package (``porter_sandbox.Sandboxes``), whose exports load on
# first use: so their modules load with the namespaces, and typing.get_type_hints() still resolves the names.
import porter_sandbox

from ._config import DEFAULT_MAX_RETRIES, resolve_config
from ._http import AsyncHTTPClient, HTTPClient
from ._pool import AsyncGatedTransport, GatedTransport
from ._retry import AsyncRetryTransport, RetryTransport
from ._version import __version__

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client

__all__ = ["AsyncPorter", "Porter"]

_USER_AGENT = f"porter-sandbox-python/{__version__}"


class _BasePorter:
    """What :class:`Porter` and :class:`AsyncPorter` share: configuration, its properties, the namespaces, repr.

    Each twin makes its own httpx client and transport (the only difference
    between them is the I/O), then hands them to :meth:`_bind`.
    """

    def __init__(
        self, api_key: str | None, base_url: str | None, timeout: float | httpx.Timeout | None, max_retries: int
    ) -> None:
        self._config = resolve_config(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)

    def _http_options(self) -> dict[str, Any]:
        """The settings of this client's httpx client, sync or async alike."""
        headers = {"User-Agent": _USER_AGENT}
        if self._config.api_key:
            headers["Authorization"] = f"Bearer {self._config.api_key}"
        return {"base_url": self._config.base_url, "headers": headers, "timeout": self._config.timeout}

    def _bind(
        self, http: httpx.Client | httpx.AsyncClient, transport: httpx.BaseTransport | httpx.AsyncBaseTransport
    ) -> None:
        """Make ``raw`` on ``http`` (which sends through ``transport``), which the namespaces call through."""
        from ._raw_client import bound_client

        self._raw = bound_client(
            base_url=self._config.base_url,
            api_key=self._config.api_key,
            timeout=self._config.timeout,
            http=http,
            transport=transport,
        )

    @property
    def raw(self) -> AuthenticatedClient | Client:
        """The generated low-level client (``porter_sandbox_api``), on this client's httpx client.

        Its ``with_headers()``, ``with_cookies()`` and ``with_timeout()`` answer a
        copy with the change, sharing this client's connections and retries; this
        client and its SDK calls are left as they are.
        """
        return self._raw

    @property
    def base_url(self) -> str:
        """The API's base URL this client talks to."""
        return self._config.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each request (an ``exec`` waits for its answer without one, unless given its own)."""
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        """How many times a request that may safely be retried is retried."""
        return self._config.max_retries

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"


class Porter(_BasePorter):
    """A client of the Porter Sandbox API.

    ::

        with Porter() as porter:                       # PORTER_SANDBOX_BASE_URL, or in-cluster
            sandbox = porter.sandboxes.create(image="python:3.12-slim", name="my-sandbox")
            print(sandbox.exec(["python", "-c", "print('hi')"]).stdout)
            sandbox.terminate()

    ``api_key`` defaults to env ``PORTER_SANDBOX_API_KEY``; ``base_url`` to env
    ``PORTER_SANDBOX_BASE_URL``, then the Porter cluster named by
    ``PORTER_CLUSTER_ID``, then the in-cluster service; ``timeout`` (seconds
    or an ``httpx.Timeout``, for each request; an ``exec``'s answer is awaited
    as long as its command runs) to 30 s; ``max_retries`` to 2 (see the retry
    policy in the README). ``transport`` replaces the network layer (for
    tests: an ``httpx.MockTransport``); retries still apply around it.

    Every argument is a keyword (``Porter(base_url="http://...")``), as in
    Porter's published client.

    Namespaces: ``sandboxes``, ``snapshots``, ``volumes``, ``healthz``,
    ``readyz``; ``raw`` is the generated low-level client, sharing this
    client's connections, key, timeout and retries.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        sending = RetryTransport(transport or GatedTransport(), max_retries=self._config.max_retries)
        self._http = HTTPClient(transport=sending, **self._http_options())
        self._bind(self._http, sending)

    # The namespaces are made on first use, and their modules imported then: ``import porter_sandbox``
    # loads only the client (a program that never lists volumes never loads them).

    @cached_property
    def sandboxes(self) -> porter_sandbox.Sandboxes:
        """Create, find, list and count sandboxes."""
        from ._sandboxes import Sandboxes

        return Sandboxes(self._raw)

    @cached_property
    def snapshots(self) -> porter_sandbox.Snapshots:
        """Find, list and delete snapshots of sandboxes (``sandbox.snapshot()`` takes one)."""
        from ._snapshots import Snapshots

        return Snapshots(self._raw)

    @cached_property
    def volumes(self) -> porter_sandbox.Volumes:
        """Create, find, list and delete volumes, and reach their files."""
        from ._volumes import Volumes

        return Volumes(self._raw)

    @cached_property
    def healthz(self) -> porter_sandbox.Healthz:
        """``healthz.health_check()``, the published client's name for :meth:`health`."""
        from ._health import Healthz

        return Healthz(self._raw)

    @cached_property
    def readyz(self) -> porter_sandbox.Readyz:
        """``readyz.readiness_check()``, the published client's name for :meth:`readiness`."""
        from ._health import Readyz

        return Readyz(self._raw)

    def health(self) -> porter_sandbox.Health:
        """Whether the API process is up (``GET /healthz``)."""
        return self.healthz.health_check()

    def readiness(self) -> porter_sandbox.Readiness:
        """Whether the API can run sandboxes now (``GET /readyz``); ``ready`` is False on a 503."""
        return self.readyz.readiness_check()

    def close(self) -> None:
        """Close the client's connections. Using it as a context manager does this on exit."""
        self._http.close()

    def __enter__(self) -> Porter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncPorter(_BasePorter):
    """The async twin of :class:`Porter`: the same configuration and namespaces, with awaitable methods.

    ::

        async with AsyncPorter() as porter:
            sandbox = await porter.sandboxes.create(image="python:3.12-slim", name="async-sandbox")
            print((await sandbox.exec(["python", "-c", "print('hi')"])).stdout)
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        _remember_sniffio_is_missing()
        sending = AsyncRetryTransport(transport or AsyncGatedTransport(), max_retries=self._config.max_retries)
        self._http = AsyncHTTPClient(transport=sending, **self._http_options())
        self._bind(self._http, sending)

    @cached_property
    def sandboxes(self) -> porter_sandbox.AsyncSandboxes:
        """Create, find, list and count sandboxes."""
        from ._sandboxes import AsyncSandboxes

        return AsyncSandboxes(self._raw)

    @cached_property
    def snapshots(self) -> porter_sandbox.AsyncSnapshots:
        """Find, list and delete snapshots of sandboxes (``await sandbox.snapshot()`` takes one)."""
        from ._snapshots import AsyncSnapshots

        return AsyncSnapshots(self._raw)

    @cached_property
    def volumes(self) -> porter_sandbox.AsyncVolumes:
        """Create, find, list and delete volumes, and reach their files."""
        from ._volumes import AsyncVolumes

        return AsyncVolumes(self._raw)

    @cached_property
    def healthz(self) -> porter_sandbox.AsyncHealthz:
        """``await healthz.health_check()``, the published client's name for :meth:`health`."""
        from ._health import AsyncHealthz

        return AsyncHealthz(self._raw)

    @cached_property
    def readyz(self) -> porter_sandbox.AsyncReadyz:
        """``await readyz.readiness_check()``, the published client's name for :meth:`readiness`."""
        from ._health import AsyncReadyz

        return AsyncReadyz(self._raw)

    async def health(self) -> porter_sandbox.Health:
        """Whether the API process is up (``GET /healthz``)."""
        return await self.healthz.health_check()

    async def readiness(self) -> porter_sandbox.Readiness:
        """Whether the API can run sandboxes now (``GET /readyz``); ``ready`` is False on a 503."""
        return await self.readyz.readiness_check()

    async def aclose(self) -> None:
        """Close the client's connections. Using it as an async context manager does this on exit."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPorter:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _remember_sniffio_is_missing() -> None:
    """Make ``import sniffio`` fail at once when it is not installed.

    httpcore tries ``import sniffio`` whenever it sets up a lock, several times
    per async request, and falls back to asyncio when it is missing (it is
    not a dependency of httpx). A failed import searches all of ``sys.path``
    each time (about 30 µs); a ``None`` in ``sys.modules`` fails the same way
    in about 1 µs. Where sniffio is installed (trio needs it) nothing changes.
    """
    if "sniffio" not in sys.modules:
        try:
            importlib.import_module("sniffio")
        except ImportError:
            sys.modules["sniffio"] = None  # type: ignore[assignment]

"""``Porter`` and ``AsyncPorter``: the clients, their configuration, and the one httpx client they share with ``.raw``."""

from __future__ import annotations

import importlib
import sys
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._config import DEFAULT_MAX_RETRIES, ClientConfig, resolve_config
from ._health import AsyncHealthz, AsyncReadyz, Healthz, Readyz
from ._models import Health, Readiness
from ._retry import AsyncRetryTransport, RetryTransport
from ._sandboxes import AsyncSandboxes, Sandboxes
from ._version import __version__
from ._volumes import AsyncVolumes, Volumes

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client

__all__ = ["AsyncPorter", "Porter"]

_USER_AGENT = f"porter-sandbox-python/{__version__}"


def _headers(config: ClientConfig) -> dict[str, str]:
    headers = {"User-Agent": _USER_AGENT}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    return headers


def _generated_client(config: ClientConfig) -> AuthenticatedClient | Client:
    from porter_sandbox_api.client import AuthenticatedClient, Client

    if config.api_key:
        return AuthenticatedClient(base_url=config.base_url, token=config.api_key, timeout=config.timeout)
    return Client(base_url=config.base_url, timeout=config.timeout)


class Porter:
    """A client of the Porter Sandbox API.

    ::

        with Porter() as porter:                       # PORTER_SANDBOX_BASE_URL, or in-cluster
            sandbox = porter.sandboxes.create(image="python:3.12-slim", name="my-sandbox")
            print(sandbox.exec(["python", "-c", "print('hi')"]).stdout)
            sandbox.terminate()

    ``api_key`` defaults to env ``PORTER_SANDBOX_API_KEY``; ``base_url`` to env
    ``PORTER_SANDBOX_BASE_URL``, then the Porter cluster named by
    ``PORTER_CLUSTER_ID``, then the in-cluster service; ``timeout`` (seconds
    or an ``httpx.Timeout``) to 30 s; ``max_retries`` to 2 (see the retry
    policy in the README). ``transport`` replaces the network layer (for
    tests: an ``httpx.MockTransport``); retries still apply around it.

    Namespaces: ``sandboxes``, ``volumes``, ``healthz``, ``readyz``; ``raw`` is
    the generated low-level client, sharing this client's connections, key,
    timeout and retries.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._config = resolve_config(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._http = httpx.Client(
            base_url=self._config.base_url,
            headers=_headers(self._config),
            timeout=self._config.timeout,
            transport=RetryTransport(transport or httpx.HTTPTransport(), max_retries=self._config.max_retries),
        )
        self.raw: AuthenticatedClient | Client = _generated_client(self._config).set_httpx_client(self._http)
        """The generated low-level client (``porter_sandbox_api``), on this client's httpx client."""
        self.sandboxes = Sandboxes(self.raw)
        """Create, find, list and count sandboxes."""
        self.volumes = Volumes(self.raw)
        """Create, find, list and delete volumes, and reach their files."""
        self.healthz = Healthz(self.raw)
        """``healthz.health_check()``, the published client's name for :meth:`health`."""
        self.readyz = Readyz(self.raw)
        """``readyz.readiness_check()``, the published client's name for :meth:`readiness`."""

    @property
    def base_url(self) -> str:
        """The API's base URL this client talks to."""
        return self._config.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each request."""
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        """How many times a request that may safely be retried is retried."""
        return self._config.max_retries

    def health(self) -> Health:
        """Whether the API process is up (``GET /healthz``)."""
        return self.healthz.health_check()

    def readiness(self) -> Readiness:
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

    def __repr__(self) -> str:
        return f"<Porter base_url={self.base_url!r}>"


class AsyncPorter:
    """The async twin of :class:`Porter`: the same configuration and namespaces, with awaitable methods.

    ::

        async with AsyncPorter() as porter:
            sandbox = await porter.sandboxes.create(image="python:3.12-slim", name="async-sandbox")
            print((await sandbox.exec(["python", "-c", "print('hi')"])).stdout)
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = resolve_config(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        _remember_sniffio_is_missing()
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=_headers(self._config),
            timeout=self._config.timeout,
            transport=AsyncRetryTransport(
                transport or httpx.AsyncHTTPTransport(), max_retries=self._config.max_retries
            ),
        )
        self.raw: AuthenticatedClient | Client = _generated_client(self._config).set_async_httpx_client(self._http)
        """The generated low-level client (``porter_sandbox_api``), on this client's httpx client."""
        self.sandboxes = AsyncSandboxes(self.raw)
        """Create, find, list and count sandboxes."""
        self.volumes = AsyncVolumes(self.raw)
        """Create, find, list and delete volumes, and reach their files."""
        self.healthz = AsyncHealthz(self.raw)
        """``await healthz.health_check()``, the published client's name for :meth:`health`."""
        self.readyz = AsyncReadyz(self.raw)
        """``await readyz.readiness_check()``, the published client's name for :meth:`readiness`."""

    @property
    def base_url(self) -> str:
        """The API's base URL this client talks to."""
        return self._config.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each request."""
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        """How many times a request that may safely be retried is retried."""
        return self._config.max_retries

    async def health(self) -> Health:
        """Whether the API process is up (``GET /healthz``)."""
        return await self.healthz.health_check()

    async def readiness(self) -> Readiness:
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

    def __repr__(self) -> str:
        return f"<AsyncPorter base_url={self.base_url!r}>"


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

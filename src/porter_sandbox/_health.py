"""Health and readiness: ``porter.health()``, ``porter.readiness()``, and the published ``healthz`` / ``readyz`` names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ._base_client import async_call, expect, sync_call
from ._models import Health, Readiness
from ._raw import BoundOperations
from ._retry import CallOptions

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.types import Response

    from ._operations import AsyncHealthzOperations, AsyncReadyzOperations, HealthzOperations, ReadyzOperations

    RawClient = AuthenticatedClient | Client

__all__ = ["AsyncHealthz", "AsyncReadyz", "Healthz", "Readyz"]

# A 503 from /readyz is an answer ("not ready"), not a fault to retry away.
_READINESS_OPTIONS = CallOptions(max_retries=0)


def health_from(answer: Response[Any]) -> Health:
    """A :class:`Health` from the answer to ``GET /healthz``."""
    from porter_sandbox_api.models import HealthResponse

    return Health(status=expect(answer, HealthResponse).status)


def readiness_from(answer: Response[Any]) -> Readiness:
    """A :class:`Readiness` from the answer to ``GET /readyz``: a 2xx is ready, a 503 with a status is not."""
    from porter_sandbox_api.models import ReadyResponse

    status = int(answer.status_code)
    if status == 503 and isinstance(answer.parsed, ReadyResponse):
        return Readiness(status=answer.parsed.status, active_sandboxes=answer.parsed.active_sandboxes, ready=False)
    parsed = expect(answer, ReadyResponse)  # raises the error for any other status
    return Readiness(status=parsed.status, active_sandboxes=parsed.active_sandboxes, ready=True)


class Healthz:
    """``porter.healthz``: the published client's name for the liveness check."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw = cast("HealthzOperations", BoundOperations(client, "healthz", asynchronous=False))

    @property
    def raw(self) -> HealthzOperations:
        """The generated ``healthz`` operations bound to this client."""
        return self._raw

    def health_check(self) -> Health:
        """Whether the API process is up (``GET /healthz``); the same as ``porter.health()``."""
        from porter_sandbox_api.api.healthz import health_check

        return health_from(sync_call(health_check.sync_detailed, client=self._client))


class AsyncHealthz:
    """``porter.healthz`` on an ``AsyncPorter``."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw = cast("AsyncHealthzOperations", BoundOperations(client, "healthz", asynchronous=True))

    @property
    def raw(self) -> AsyncHealthzOperations:
        """The generated ``healthz`` operations bound to this client."""
        return self._raw

    async def health_check(self) -> Health:
        """Whether the API process is up (``GET /healthz``); the same as ``await porter.health()``."""
        from porter_sandbox_api.api.healthz import health_check

        return health_from(await async_call(health_check.asyncio_detailed, client=self._client))


class Readyz:
    """``porter.readyz``: the published client's name for the readiness check."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw = cast("ReadyzOperations", BoundOperations(client, "readyz", asynchronous=False))

    @property
    def raw(self) -> ReadyzOperations:
        """The generated ``readyz`` operations bound to this client."""
        return self._raw

    def readiness_check(self) -> Readiness:
        """Whether the API can run sandboxes now (``GET /readyz``); a 503 answers ``ready=False``, not an error."""
        from porter_sandbox_api.api.readyz import readiness_check

        return readiness_from(sync_call(readiness_check.sync_detailed, client=self._client, options=_READINESS_OPTIONS))


class AsyncReadyz:
    """``porter.readyz`` on an ``AsyncPorter``."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw = cast("AsyncReadyzOperations", BoundOperations(client, "readyz", asynchronous=True))

    @property
    def raw(self) -> AsyncReadyzOperations:
        """The generated ``readyz`` operations bound to this client."""
        return self._raw

    async def readiness_check(self) -> Readiness:
        """Whether the API can run sandboxes now (``GET /readyz``); a 503 answers ``ready=False``, not an error."""
        from porter_sandbox_api.api.readyz import readiness_check

        answer = await async_call(readiness_check.asyncio_detailed, client=self._client, options=_READINESS_OPTIONS)
        return readiness_from(answer)

"""``porter.raw``: the generated client on the SDK's httpx client, whose ``with_*()`` copies leave that client alone.

The generated ``Client.with_headers()``, ``with_cookies()`` and
``with_timeout()`` update the httpx client they hold in place before they
answer a copy. ``porter.raw`` holds the SDK's own httpx client, so that would
change every later SDK call too, and the copy they answer would build a second
httpx client of its own, without the SDK's retries, user agent or connection
pool, that nothing ever closes. Here they answer a copy on a new httpx client
that has the change and shares the SDK's transport: the same connection pool
and retry policy. Closing the copy leaves that transport open; closing the
``Porter`` closes it.

This module imports the generated client, so it is imported when a client is
made, never with ``import porter_sandbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import httpx
from attrs import evolve
from porter_sandbox_api.client import AuthenticatedClient, Client

from ._http import AsyncHTTPClient, HTTPClient

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["bound_client"]


class _Borrowed(httpx.BaseTransport):
    """A transport that sends through another one and never closes it: its owner does."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        pass


class _AsyncBorrowed(httpx.AsyncBaseTransport):
    """The async twin of :class:`_Borrowed`."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        pass


def _sync_copy(
    http: httpx.Client,
    transport: httpx.BaseTransport,
    headers: dict[str, str] | None,
    cookies: dict[str, str] | None,
    timeout: httpx.Timeout | None,
) -> httpx.Client:
    copy = HTTPClient(
        base_url=http.base_url,
        headers=http.headers,
        cookies=http.cookies,
        timeout=timeout if timeout is not None else http.timeout,
        follow_redirects=http.follow_redirects,
        transport=_Borrowed(transport),
    )
    copy.headers.update(headers or {})
    copy.cookies.update(cookies or {})
    return copy


def _async_copy(
    http: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport,
    headers: dict[str, str] | None,
    cookies: dict[str, str] | None,
    timeout: httpx.Timeout | None,
) -> httpx.AsyncClient:
    copy = AsyncHTTPClient(
        base_url=http.base_url,
        headers=http.headers,
        cookies=http.cookies,
        timeout=timeout if timeout is not None else http.timeout,
        follow_redirects=http.follow_redirects,
        transport=_AsyncBorrowed(transport),
    )
    copy.headers.update(headers or {})
    copy.cookies.update(cookies or {})
    return copy


class _CopiesOnChange:
    """``with_headers()``, ``with_cookies()`` and ``with_timeout()`` that answer a copy and change nothing here."""

    _transport: httpx.BaseTransport | httpx.AsyncBaseTransport

    def with_headers(self, headers: dict[str, str]) -> Self:
        """A copy of this client that also sends ``headers``; this one (and the SDK) is unchanged."""
        return cast("Self", _changed(self, headers=headers))

    def with_cookies(self, cookies: dict[str, str]) -> Self:
        """A copy of this client that also sends ``cookies``; this one (and the SDK) is unchanged."""
        return cast("Self", _changed(self, cookies=cookies))

    def with_timeout(self, timeout: httpx.Timeout) -> Self:
        """A copy of this client with another timeout; this one (and the SDK) is unchanged."""
        return cast("Self", _changed(self, timeout=timeout))


class BoundClient(_CopiesOnChange, Client):
    """The generated ``Client``, on the SDK's httpx client (``porter.raw`` without an API key)."""


class BoundAuthenticatedClient(_CopiesOnChange, AuthenticatedClient):
    """The generated ``AuthenticatedClient``, on the SDK's httpx client (``porter.raw`` with an API key)."""


def _changed(
    client: Any,
    *,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
) -> Any:
    fields: dict[str, Any] = {}
    if headers is not None:
        fields["headers"] = {**client._headers, **headers}
    if cookies is not None:
        fields["cookies"] = {**client._cookies, **cookies}
    if timeout is not None:
        fields["timeout"] = timeout
    copy = evolve(client, **fields)
    copy._transport = client._transport
    if client._client is not None:
        assert isinstance(client._transport, httpx.BaseTransport)
        copy.set_httpx_client(_sync_copy(client._client, client._transport, headers, cookies, timeout))
    if client._async_client is not None:
        assert isinstance(client._transport, httpx.AsyncBaseTransport)
        copy.set_async_httpx_client(_async_copy(client._async_client, client._transport, headers, cookies, timeout))
    return copy


def bound_client(
    *,
    base_url: str,
    api_key: str | None,
    timeout: httpx.Timeout,
    http: httpx.Client | httpx.AsyncClient,
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport,
) -> BoundClient | BoundAuthenticatedClient:
    """The generated client for ``porter.raw``: on ``http`` (the SDK's), which sends through ``transport``."""
    client: BoundClient | BoundAuthenticatedClient
    if api_key:
        client = BoundAuthenticatedClient(base_url=base_url, token=api_key, timeout=timeout)
    else:
        client = BoundClient(base_url=base_url, timeout=timeout)
    client._transport = transport
    if isinstance(http, httpx.AsyncClient):
        client.set_async_httpx_client(http)
    else:
        client.set_httpx_client(http)
    return client

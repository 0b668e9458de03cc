from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.capabilities import Capabilities
from ...models.error import Error
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/x/v1/capabilities",
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Capabilities | Error | None:
    if response.status_code == 200:
        response_200 = Capabilities.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Capabilities | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[Capabilities | Error]:
    """Which extensions this server serves

     An extension of this server, not part of Porter's API. Answers the runtime and the extensions it
    serves with it: `exec` and `exec_stream` (commands with stdin, cwd, env and a timeout), `processes`
    (background processes), `logs_follow`, `terminal`. A server without the extensions (a Porter
    cluster) answers 404.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Capabilities | Error]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> Capabilities | Error | None:
    """Which extensions this server serves

     An extension of this server, not part of Porter's API. Answers the runtime and the extensions it
    serves with it: `exec` and `exec_stream` (commands with stdin, cwd, env and a timeout), `processes`
    (background processes), `logs_follow`, `terminal`. A server without the extensions (a Porter
    cluster) answers 404.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Capabilities | Error
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[Capabilities | Error]:
    """Which extensions this server serves

     An extension of this server, not part of Porter's API. Answers the runtime and the extensions it
    serves with it: `exec` and `exec_stream` (commands with stdin, cwd, env and a timeout), `processes`
    (background processes), `logs_follow`, `terminal`. A server without the extensions (a Porter
    cluster) answers 404.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Capabilities | Error]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> Capabilities | Error | None:
    """Which extensions this server serves

     An extension of this server, not part of Porter's API. Answers the runtime and the extensions it
    serves with it: `exec` and `exec_stream` (commands with stdin, cwd, env and a timeout), `processes`
    (background processes), `logs_follow`, `terminal`. A server without the extensions (a Porter
    cluster) answers 404.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Capabilities | Error
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed

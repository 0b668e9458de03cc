from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    id: str,
    *,
    since: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["since"] = since

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/x/v1/sandbox/{id}/logs/follow".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | File | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | File]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[Error | File]:
    """Follow a sandbox's logs until it ends

     An extension of this server, not part of Porter's API. Answers a stream of newline-delimited JSON
    (`application/x-ndjson`), one `LogStreamEvent` a line: first the lines after `since` (the newest
    `limit` of them), then each new line as it is written, and once the sandbox ended and its last lines
    were sent, an `end` event with its phase. Empty lines are keep-alives; skip them.

    Args:
        id (str):
        since (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
    """

    kwargs = _get_kwargs(
        id=id,
        since=since,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Error | File | None:
    """Follow a sandbox's logs until it ends

     An extension of this server, not part of Porter's API. Answers a stream of newline-delimited JSON
    (`application/x-ndjson`), one `LogStreamEvent` a line: first the lines after `since` (the newest
    `limit` of them), then each new line as it is written, and once the sandbox ended and its last lines
    were sent, an `end` event with its phase. Empty lines are keep-alives; skip them.

    Args:
        id (str):
        since (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
    """

    return sync_detailed(
        id=id,
        client=client,
        since=since,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[Error | File]:
    """Follow a sandbox's logs until it ends

     An extension of this server, not part of Porter's API. Answers a stream of newline-delimited JSON
    (`application/x-ndjson`), one `LogStreamEvent` a line: first the lines after `since` (the newest
    `limit` of them), then each new line as it is written, and once the sandbox ended and its last lines
    were sent, an `end` event with its phase. Empty lines are keep-alives; skip them.

    Args:
        id (str):
        since (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
    """

    kwargs = _get_kwargs(
        id=id,
        since=since,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Error | File | None:
    """Follow a sandbox's logs until it ends

     An extension of this server, not part of Porter's API. Answers a stream of newline-delimited JSON
    (`application/x-ndjson`), one `LogStreamEvent` a line: first the lines after `since` (the newest
    `limit` of them), then each new line as it is written, and once the sandbox ended and its last lines
    were sent, an `end` event with its phase. Empty lines are keep-alives; skip them.

    Args:
        id (str):
        since (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            since=since,
            limit=limit,
        )
    ).parsed

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.logs_response import LogsResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    limit: int | Unset = UNSET,
    since: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["since"] = since

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandbox/{id}/logs".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | LogsResponse | None:
    if response.status_code == 200:
        response_200 = LogsResponse.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | LogsResponse]:
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
    limit: int | Unset = UNSET,
    since: str | Unset = UNSET,
) -> Response[Error | LogsResponse]:
    """Read a sandbox's logs

     Answers the lines the sandbox's main process and its execs wrote, in chronological order, a bounded
    page at a time. Logs outlive the sandbox. Without `limit` the answer is the oldest page of lines
    after `since` (the local server: 1000 lines); when `truncated` is true, ask again with `since` set
    to the last line's `timestamp` for the next page (timestamps of one sandbox's lines are distinct and
    increasing). Any answer holds at most 8 MiB of text (the local server). A server keeps a bounded log
    per sandbox (the local server: the newest 100000 lines and 64 MiB unless configured); where older
    lines were dropped, a `warning` line says how many.

    Args:
        id (str):
        limit (int | Unset):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LogsResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        limit=limit,
        since=since,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    since: str | Unset = UNSET,
) -> Error | LogsResponse | None:
    """Read a sandbox's logs

     Answers the lines the sandbox's main process and its execs wrote, in chronological order, a bounded
    page at a time. Logs outlive the sandbox. Without `limit` the answer is the oldest page of lines
    after `since` (the local server: 1000 lines); when `truncated` is true, ask again with `since` set
    to the last line's `timestamp` for the next page (timestamps of one sandbox's lines are distinct and
    increasing). Any answer holds at most 8 MiB of text (the local server). A server keeps a bounded log
    per sandbox (the local server: the newest 100000 lines and 64 MiB unless configured); where older
    lines were dropped, a `warning` line says how many.

    Args:
        id (str):
        limit (int | Unset):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LogsResponse
    """

    return sync_detailed(
        id=id,
        client=client,
        limit=limit,
        since=since,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    since: str | Unset = UNSET,
) -> Response[Error | LogsResponse]:
    """Read a sandbox's logs

     Answers the lines the sandbox's main process and its execs wrote, in chronological order, a bounded
    page at a time. Logs outlive the sandbox. Without `limit` the answer is the oldest page of lines
    after `since` (the local server: 1000 lines); when `truncated` is true, ask again with `since` set
    to the last line's `timestamp` for the next page (timestamps of one sandbox's lines are distinct and
    increasing). Any answer holds at most 8 MiB of text (the local server). A server keeps a bounded log
    per sandbox (the local server: the newest 100000 lines and 64 MiB unless configured); where older
    lines were dropped, a `warning` line says how many.

    Args:
        id (str):
        limit (int | Unset):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LogsResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        limit=limit,
        since=since,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    since: str | Unset = UNSET,
) -> Error | LogsResponse | None:
    """Read a sandbox's logs

     Answers the lines the sandbox's main process and its execs wrote, in chronological order, a bounded
    page at a time. Logs outlive the sandbox. Without `limit` the answer is the oldest page of lines
    after `since` (the local server: 1000 lines); when `truncated` is true, ask again with `since` set
    to the last line's `timestamp` for the next page (timestamps of one sandbox's lines are distinct and
    increasing). Any answer holds at most 8 MiB of text (the local server). A server keeps a bounded log
    per sandbox (the local server: the newest 100000 lines and 64 MiB unless configured); where older
    lines were dropped, a `warning` line says how many.

    Args:
        id (str):
        limit (int | Unset):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LogsResponse
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            limit=limit,
            since=since,
        )
    ).parsed

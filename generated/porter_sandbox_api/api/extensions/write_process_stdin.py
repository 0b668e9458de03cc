from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    id: str,
    process_id: str,
    *,
    body: File | Unset = UNSET,
    close: bool | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["close"] = close

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/x/v1/sandbox/{id}/processes/{process_id}/stdin".format(
            id=quote(str(id), safe=""),
            process_id=quote(str(process_id), safe=""),
        ),
        "params": params,
    }

    if not isinstance(body, Unset):
        _kwargs["content"] = body.payload

    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Error | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File | Unset = UNSET,
    close: bool | Unset = UNSET,
) -> Response[Any | Error]:
    """Write to a process's stdin

     An extension of this server, not part of Porter's API. Writes the body's bytes to the stdin of a
    process started with `stdin_open`, and answers once the process's pipe took them (so a process that
    reads slowly slows the writer down). At most 4 MiB a request; send more in several, in order.
    `close=true` closes its stdin after the bytes (an empty body just closes it). 409 once its stdin is
    closed or it ended.

    Args:
        id (str):
        process_id (str):
        close (bool | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        body=body,
        close=close,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File | Unset = UNSET,
    close: bool | Unset = UNSET,
) -> Any | Error | None:
    """Write to a process's stdin

     An extension of this server, not part of Porter's API. Writes the body's bytes to the stdin of a
    process started with `stdin_open`, and answers once the process's pipe took them (so a process that
    reads slowly slows the writer down). At most 4 MiB a request; send more in several, in order.
    `close=true` closes its stdin after the bytes (an empty body just closes it). 409 once its stdin is
    closed or it ended.

    Args:
        id (str):
        process_id (str):
        close (bool | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return sync_detailed(
        id=id,
        process_id=process_id,
        client=client,
        body=body,
        close=close,
    ).parsed


async def asyncio_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File | Unset = UNSET,
    close: bool | Unset = UNSET,
) -> Response[Any | Error]:
    """Write to a process's stdin

     An extension of this server, not part of Porter's API. Writes the body's bytes to the stdin of a
    process started with `stdin_open`, and answers once the process's pipe took them (so a process that
    reads slowly slows the writer down). At most 4 MiB a request; send more in several, in order.
    `close=true` closes its stdin after the bytes (an empty body just closes it). 409 once its stdin is
    closed or it ended.

    Args:
        id (str):
        process_id (str):
        close (bool | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        body=body,
        close=close,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File | Unset = UNSET,
    close: bool | Unset = UNSET,
) -> Any | Error | None:
    """Write to a process's stdin

     An extension of this server, not part of Porter's API. Writes the body's bytes to the stdin of a
    process started with `stdin_open`, and answers once the process's pipe took them (so a process that
    reads slowly slows the writer down). At most 4 MiB a request; send more in several, in order.
    `close=true` closes its stdin after the bytes (an empty body just closes it). 409 once its stdin is
    closed or it ended.

    Args:
        id (str):
        process_id (str):
        close (bool | Unset):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return (
        await asyncio_detailed(
            id=id,
            process_id=process_id,
            client=client,
            body=body,
            close=close,
        )
    ).parsed

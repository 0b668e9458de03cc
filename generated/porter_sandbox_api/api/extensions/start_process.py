from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.command_request import CommandRequest
from ...models.error import Error
from ...models.process_info import ProcessInfo
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: CommandRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/x/v1/sandbox/{id}/processes".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ProcessInfo | None:
    if response.status_code == 201:
        response_201 = ProcessInfo.from_dict(response.json())

        return response_201

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

    if response.status_code == 501:
        response_501 = Error.from_dict(response.json())

        return response_501

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | ProcessInfo]:
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
    body: CommandRequest,
) -> Response[Error | ProcessInfo]:
    """Start a command in the background

     An extension of this server, not part of Porter's API. Starts the command and answers its process at
    once; it runs on after the request, until it exits, is killed, or the sandbox ends. It keeps the
    newest output of each stream (the local server: 1 MiB each) for `GET .../output`; its lines also go
    to the sandbox's logs. A sandbox runs at most so many such processes at once (the local server: 16):
    beyond that, 409.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessInfo]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CommandRequest,
) -> Error | ProcessInfo | None:
    """Start a command in the background

     An extension of this server, not part of Porter's API. Starts the command and answers its process at
    once; it runs on after the request, until it exits, is killed, or the sandbox ends. It keeps the
    newest output of each stream (the local server: 1 MiB each) for `GET .../output`; its lines also go
    to the sandbox's logs. A sandbox runs at most so many such processes at once (the local server: 16):
    beyond that, 409.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessInfo
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CommandRequest,
) -> Response[Error | ProcessInfo]:
    """Start a command in the background

     An extension of this server, not part of Porter's API. Starts the command and answers its process at
    once; it runs on after the request, until it exits, is killed, or the sandbox ends. It keeps the
    newest output of each stream (the local server: 1 MiB each) for `GET .../output`; its lines also go
    to the sandbox's logs. A sandbox runs at most so many such processes at once (the local server: 16):
    beyond that, 409.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessInfo]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CommandRequest,
) -> Error | ProcessInfo | None:
    """Start a command in the background

     An extension of this server, not part of Porter's API. Starts the command and answers its process at
    once; it runs on after the request, until it exits, is killed, or the sandbox ends. It keeps the
    newest output of each stream (the local server: 1 MiB each) for `GET .../output`; its lines also go
    to the sandbox's logs. A sandbox runs at most so many such processes at once (the local server: 16):
    beyond that, 409.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessInfo
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed

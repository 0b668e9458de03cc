from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.exec_request import ExecRequest
from ...models.exec_response import ExecResponse
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ExecRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandbox/{id}/exec".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ExecResponse | None:
    if response.status_code == 200:
        response_200 = ExecResponse.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | ExecResponse]:
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
    body: ExecRequest,
) -> Response[Error | ExecResponse]:
    """Run a command in a sandbox

     Runs a command in the running sandbox and answers its stdout, stderr and exit code. A non-zero exit
    code is a normal answer; a command that does not exist exits 127. An exec sent while the sandbox is
    still starting waits for it; one sent to an ended sandbox is 409.

    Args:
        id (str):
        body (ExecRequest): A command to run in a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExecResponse]
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
    body: ExecRequest,
) -> Error | ExecResponse | None:
    """Run a command in a sandbox

     Runs a command in the running sandbox and answers its stdout, stderr and exit code. A non-zero exit
    code is a normal answer; a command that does not exist exits 127. An exec sent while the sandbox is
    still starting waits for it; one sent to an ended sandbox is 409.

    Args:
        id (str):
        body (ExecRequest): A command to run in a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExecResponse
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
    body: ExecRequest,
) -> Response[Error | ExecResponse]:
    """Run a command in a sandbox

     Runs a command in the running sandbox and answers its stdout, stderr and exit code. A non-zero exit
    code is a normal answer; a command that does not exist exits 127. An exec sent while the sandbox is
    still starting waits for it; one sent to an ended sandbox is 409.

    Args:
        id (str):
        body (ExecRequest): A command to run in a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExecResponse]
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
    body: ExecRequest,
) -> Error | ExecResponse | None:
    """Run a command in a sandbox

     Runs a command in the running sandbox and answers its stdout, stderr and exit code. A non-zero exit
    code is a normal answer; a command that does not exist exits 127. An exec sent while the sandbox is
    still starting waits for it; one sent to an ended sandbox is 409.

    Args:
        id (str):
        body (ExecRequest): A command to run in a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExecResponse
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed

from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_response import CreateResponse
from ...models.error import Error
from ...models.sandbox_spec import SandboxSpec
from ...types import Response


def _get_kwargs(
    *,
    body: SandboxSpec,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandbox/run",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CreateResponse | Error | None:
    if response.status_code == 201:
        response_201 = CreateResponse.from_dict(response.json())

        return response_201

    if response.status_code == 202:
        response_202 = CreateResponse.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

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

    if response.status_code == 507:
        response_507 = Error.from_dict(response.json())

        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CreateResponse | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SandboxSpec,
) -> Response[CreateResponse | Error]:
    """Create and start a sandbox

     Creates a sandbox from an image, or from a snapshot's filesystem (`snapshot_id`), and queues it to
    start. Unknown volume ids, snapshot ids and environment groups, relative mount paths and invalid
    names are refused with 400 before anything starts; a name already used, even by a terminated
    sandbox, is 409. A server may answer 201 or 202; a 202 may carry only `id` and `name`.

    Args:
        body (SandboxSpec): What to run in a new sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreateResponse | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: SandboxSpec,
) -> CreateResponse | Error | None:
    """Create and start a sandbox

     Creates a sandbox from an image, or from a snapshot's filesystem (`snapshot_id`), and queues it to
    start. Unknown volume ids, snapshot ids and environment groups, relative mount paths and invalid
    names are refused with 400 before anything starts; a name already used, even by a terminated
    sandbox, is 409. A server may answer 201 or 202; a 202 may carry only `id` and `name`.

    Args:
        body (SandboxSpec): What to run in a new sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreateResponse | Error
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SandboxSpec,
) -> Response[CreateResponse | Error]:
    """Create and start a sandbox

     Creates a sandbox from an image, or from a snapshot's filesystem (`snapshot_id`), and queues it to
    start. Unknown volume ids, snapshot ids and environment groups, relative mount paths and invalid
    names are refused with 400 before anything starts; a name already used, even by a terminated
    sandbox, is 409. A server may answer 201 or 202; a 202 may carry only `id` and `name`.

    Args:
        body (SandboxSpec): What to run in a new sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreateResponse | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: SandboxSpec,
) -> CreateResponse | Error | None:
    """Create and start a sandbox

     Creates a sandbox from an image, or from a snapshot's filesystem (`snapshot_id`), and queues it to
    start. Unknown volume ids, snapshot ids and environment groups, relative mount paths and invalid
    names are refused with 400 before anything starts; a name already used, even by a terminated
    sandbox, is 409. A server may answer 201 or 202; a 202 may carry only `id` and `name`.

    Args:
        body (SandboxSpec): What to run in a new sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreateResponse | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.snapshot import Snapshot
from ...models.snapshot_spec import SnapshotSpec
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    body: SnapshotSpec | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandbox/{id}/snapshot".format(
            id=quote(str(id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Snapshot | None:
    if response.status_code == 201:
        response_201 = Snapshot.from_dict(response.json())

        return response_201

    if response.status_code == 202:
        response_202 = Snapshot.from_dict(response.json())

        return response_202

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

    if response.status_code == 507:
        response_507 = Error.from_dict(response.json())

        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Snapshot]:
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
    body: SnapshotSpec | Unset = UNSET,
) -> Response[Error | Snapshot]:
    """Snapshot a sandbox

     Captures a running sandbox so that new sandboxes can start from it (`snapshot_id` when creating
    one); the sandbox keeps running. The snapshot starts `pending` and becomes `ready` (with
    `size_bytes`) or `failed` (with `failure_reason`). `filesystem` (the default) captures the sandbox's
    writable files; `full` would add its memory and is refused with 400 by a runtime that cannot
    checkpoint processes, naming the modes it has. 409 when the sandbox is not running. A server may
    answer 201 or 202.

    Args:
        id (str):
        body (SnapshotSpec | Unset): What to capture of a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Snapshot]
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
    body: SnapshotSpec | Unset = UNSET,
) -> Error | Snapshot | None:
    """Snapshot a sandbox

     Captures a running sandbox so that new sandboxes can start from it (`snapshot_id` when creating
    one); the sandbox keeps running. The snapshot starts `pending` and becomes `ready` (with
    `size_bytes`) or `failed` (with `failure_reason`). `filesystem` (the default) captures the sandbox's
    writable files; `full` would add its memory and is refused with 400 by a runtime that cannot
    checkpoint processes, naming the modes it has. 409 when the sandbox is not running. A server may
    answer 201 or 202.

    Args:
        id (str):
        body (SnapshotSpec | Unset): What to capture of a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Snapshot
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
    body: SnapshotSpec | Unset = UNSET,
) -> Response[Error | Snapshot]:
    """Snapshot a sandbox

     Captures a running sandbox so that new sandboxes can start from it (`snapshot_id` when creating
    one); the sandbox keeps running. The snapshot starts `pending` and becomes `ready` (with
    `size_bytes`) or `failed` (with `failure_reason`). `filesystem` (the default) captures the sandbox's
    writable files; `full` would add its memory and is refused with 400 by a runtime that cannot
    checkpoint processes, naming the modes it has. 409 when the sandbox is not running. A server may
    answer 201 or 202.

    Args:
        id (str):
        body (SnapshotSpec | Unset): What to capture of a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Snapshot]
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
    body: SnapshotSpec | Unset = UNSET,
) -> Error | Snapshot | None:
    """Snapshot a sandbox

     Captures a running sandbox so that new sandboxes can start from it (`snapshot_id` when creating
    one); the sandbox keeps running. The snapshot starts `pending` and becomes `ready` (with
    `size_bytes`) or `failed` (with `failure_reason`). `filesystem` (the default) captures the sandbox's
    writable files; `full` would add its memory and is refused with 400 by a runtime that cannot
    checkpoint processes, naming the modes it has. 409 when the sandbox is not running. A server may
    answer 201 or 202.

    Args:
        id (str):
        body (SnapshotSpec | Unset): What to capture of a sandbox.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Snapshot
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed

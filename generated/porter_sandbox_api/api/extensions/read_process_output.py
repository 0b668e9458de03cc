from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.process_output import ProcessOutput
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    process_id: str,
    *,
    stdout_offset: int | Unset = UNSET,
    stderr_offset: int | Unset = UNSET,
    max_bytes: int | Unset = UNSET,
    wait_seconds: float | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["stdout_offset"] = stdout_offset

    params["stderr_offset"] = stderr_offset

    params["max_bytes"] = max_bytes

    params["wait_seconds"] = wait_seconds

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/x/v1/sandbox/{id}/processes/{process_id}/output".format(
            id=quote(str(id), safe=""),
            process_id=quote(str(process_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | ProcessOutput | None:
    if response.status_code == 200:
        response_200 = ProcessOutput.from_dict(response.json())

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
) -> Response[Error | ProcessOutput]:
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
    stdout_offset: int | Unset = UNSET,
    stderr_offset: int | Unset = UNSET,
    max_bytes: int | Unset = UNSET,
    wait_seconds: float | Unset = UNSET,
) -> Response[Error | ProcessOutput]:
    """Read a background process's output since an offset

     An extension of this server, not part of Porter's API. Answers what a background process wrote to
    each stream from the given offsets (bytes from the stream's start; base64), as far as it keeps it:
    where the oldest was dropped, `dropped` says how many bytes were missed. Pass each `next_offset`
    back to read on. With `wait_seconds`, waits up to that long for output past the offsets (or the
    end). 409 for a streamed exec or a terminal, whose output goes to their client.

    Args:
        id (str):
        process_id (str):
        stdout_offset (int | Unset):
        stderr_offset (int | Unset):
        max_bytes (int | Unset):
        wait_seconds (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessOutput]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        stdout_offset=stdout_offset,
        stderr_offset=stderr_offset,
        max_bytes=max_bytes,
        wait_seconds=wait_seconds,
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
    stdout_offset: int | Unset = UNSET,
    stderr_offset: int | Unset = UNSET,
    max_bytes: int | Unset = UNSET,
    wait_seconds: float | Unset = UNSET,
) -> Error | ProcessOutput | None:
    """Read a background process's output since an offset

     An extension of this server, not part of Porter's API. Answers what a background process wrote to
    each stream from the given offsets (bytes from the stream's start; base64), as far as it keeps it:
    where the oldest was dropped, `dropped` says how many bytes were missed. Pass each `next_offset`
    back to read on. With `wait_seconds`, waits up to that long for output past the offsets (or the
    end). 409 for a streamed exec or a terminal, whose output goes to their client.

    Args:
        id (str):
        process_id (str):
        stdout_offset (int | Unset):
        stderr_offset (int | Unset):
        max_bytes (int | Unset):
        wait_seconds (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessOutput
    """

    return sync_detailed(
        id=id,
        process_id=process_id,
        client=client,
        stdout_offset=stdout_offset,
        stderr_offset=stderr_offset,
        max_bytes=max_bytes,
        wait_seconds=wait_seconds,
    ).parsed


async def asyncio_detailed(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient | Client,
    stdout_offset: int | Unset = UNSET,
    stderr_offset: int | Unset = UNSET,
    max_bytes: int | Unset = UNSET,
    wait_seconds: float | Unset = UNSET,
) -> Response[Error | ProcessOutput]:
    """Read a background process's output since an offset

     An extension of this server, not part of Porter's API. Answers what a background process wrote to
    each stream from the given offsets (bytes from the stream's start; base64), as far as it keeps it:
    where the oldest was dropped, `dropped` says how many bytes were missed. Pass each `next_offset`
    back to read on. With `wait_seconds`, waits up to that long for output past the offsets (or the
    end). 409 for a streamed exec or a terminal, whose output goes to their client.

    Args:
        id (str):
        process_id (str):
        stdout_offset (int | Unset):
        stderr_offset (int | Unset):
        max_bytes (int | Unset):
        wait_seconds (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ProcessOutput]
    """

    kwargs = _get_kwargs(
        id=id,
        process_id=process_id,
        stdout_offset=stdout_offset,
        stderr_offset=stderr_offset,
        max_bytes=max_bytes,
        wait_seconds=wait_seconds,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    process_id: str,
    *,
    client: AuthenticatedClient | Client,
    stdout_offset: int | Unset = UNSET,
    stderr_offset: int | Unset = UNSET,
    max_bytes: int | Unset = UNSET,
    wait_seconds: float | Unset = UNSET,
) -> Error | ProcessOutput | None:
    """Read a background process's output since an offset

     An extension of this server, not part of Porter's API. Answers what a background process wrote to
    each stream from the given offsets (bytes from the stream's start; base64), as far as it keeps it:
    where the oldest was dropped, `dropped` says how many bytes were missed. Pass each `next_offset`
    back to read on. With `wait_seconds`, waits up to that long for output past the offsets (or the
    end). 409 for a streamed exec or a terminal, whose output goes to their client.

    Args:
        id (str):
        process_id (str):
        stdout_offset (int | Unset):
        stderr_offset (int | Unset):
        max_bytes (int | Unset):
        wait_seconds (float | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ProcessOutput
    """

    return (
        await asyncio_detailed(
            id=id,
            process_id=process_id,
            client=client,
            stdout_offset=stdout_offset,
            stderr_offset=stderr_offset,
            max_bytes=max_bytes,
            wait_seconds=wait_seconds,
        )
    ).parsed

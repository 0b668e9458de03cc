from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.command_request import CommandRequest
from ...models.error import Error
from ...types import File, Response


def _get_kwargs(
    id: str,
    *,
    body: CommandRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/x/v1/sandbox/{id}/exec/stream".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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
    body: CommandRequest,
) -> Response[Error | File]:
    """Run a command and stream its output as it is written

     An extension of this server, not part of Porter's API. Starts the command and answers at once with a
    stream of newline-delimited JSON (`application/x-ndjson`), one `ExecStreamEvent` a line: `start`
    (with its `exec_id`), then `stdout` and `stderr` pieces as the command writes them (`data` is
    base64: output is bytes), then `exit` (its `exit_code`, and `timed_out`), or `error` if the sandbox
    ended under it. Empty lines are keep-alives (every 10 seconds of silence); skip them. A client that
    reads slowly slows the command down; one that goes away kills it (its whole process group). With
    `stdin_open` the command's stdin stays open for `POST .../processes/{process_id}/stdin`. NDJSON
    rather than server-sent events or a WebSocket: it is a plain chunked HTTP answer that any HTTP
    client and proxy passes on, a POST that carries the command, and each line parses with the
    `ExecStreamEvent` model; browsers read it with `fetch`.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
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
) -> Error | File | None:
    """Run a command and stream its output as it is written

     An extension of this server, not part of Porter's API. Starts the command and answers at once with a
    stream of newline-delimited JSON (`application/x-ndjson`), one `ExecStreamEvent` a line: `start`
    (with its `exec_id`), then `stdout` and `stderr` pieces as the command writes them (`data` is
    base64: output is bytes), then `exit` (its `exit_code`, and `timed_out`), or `error` if the sandbox
    ended under it. Empty lines are keep-alives (every 10 seconds of silence); skip them. A client that
    reads slowly slows the command down; one that goes away kills it (its whole process group). With
    `stdin_open` the command's stdin stays open for `POST .../processes/{process_id}/stdin`. NDJSON
    rather than server-sent events or a WebSocket: it is a plain chunked HTTP answer that any HTTP
    client and proxy passes on, a POST that carries the command, and each line parses with the
    `ExecStreamEvent` model; browsers read it with `fetch`.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
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
) -> Response[Error | File]:
    """Run a command and stream its output as it is written

     An extension of this server, not part of Porter's API. Starts the command and answers at once with a
    stream of newline-delimited JSON (`application/x-ndjson`), one `ExecStreamEvent` a line: `start`
    (with its `exec_id`), then `stdout` and `stderr` pieces as the command writes them (`data` is
    base64: output is bytes), then `exit` (its `exit_code`, and `timed_out`), or `error` if the sandbox
    ended under it. Empty lines are keep-alives (every 10 seconds of silence); skip them. A client that
    reads slowly slows the command down; one that goes away kills it (its whole process group). With
    `stdin_open` the command's stdin stays open for `POST .../processes/{process_id}/stdin`. NDJSON
    rather than server-sent events or a WebSocket: it is a plain chunked HTTP answer that any HTTP
    client and proxy passes on, a POST that carries the command, and each line parses with the
    `ExecStreamEvent` model; browsers read it with `fetch`.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
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
) -> Error | File | None:
    """Run a command and stream its output as it is written

     An extension of this server, not part of Porter's API. Starts the command and answers at once with a
    stream of newline-delimited JSON (`application/x-ndjson`), one `ExecStreamEvent` a line: `start`
    (with its `exec_id`), then `stdout` and `stderr` pieces as the command writes them (`data` is
    base64: output is bytes), then `exit` (its `exit_code`, and `timed_out`), or `error` if the sandbox
    ended under it. Empty lines are keep-alives (every 10 seconds of silence); skip them. A client that
    reads slowly slows the command down; one that goes away kills it (its whole process group). With
    `stdin_open` the command's stdin stays open for `POST .../processes/{process_id}/stdin`. NDJSON
    rather than server-sent events or a WebSocket: it is a plain chunked HTTP answer that any HTTP
    client and proxy passes on, a POST that carries the command, and each line parses with the
    `ExecStreamEvent` model; browsers read it with `fetch`.

    Args:
        id (str):
        body (CommandRequest): A command to run through the extensions, with what a plain exec
            cannot say.

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
            body=body,
        )
    ).parsed

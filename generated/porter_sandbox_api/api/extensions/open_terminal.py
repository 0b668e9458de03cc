from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    command: list[str] | Unset = UNSET,
    cwd: str | Unset = UNSET,
    env: list[str] | Unset = UNSET,
    rows: int | Unset = UNSET,
    cols: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_command: list[str] | Unset = UNSET
    if not isinstance(command, Unset):
        json_command = command

    params["command"] = json_command

    params["cwd"] = cwd

    json_env: list[str] | Unset = UNSET
    if not isinstance(env, Unset):
        json_env = env

    params["env"] = json_env

    params["rows"] = rows

    params["cols"] = cols

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/x/v1/sandbox/{id}/terminal".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Error | None:
    if response.status_code == 101:
        response_101 = cast(Any, None)
        return response_101

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

    if response.status_code == 426:
        response_426 = Error.from_dict(response.json())

        return response_426

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Error]:
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
    command: list[str] | Unset = UNSET,
    cwd: str | Unset = UNSET,
    env: list[str] | Unset = UNSET,
    rows: int | Unset = UNSET,
    cols: int | Unset = UNSET,
) -> Response[Any | Error]:
    r"""An interactive terminal in a sandbox, over a WebSocket

     An extension of this server, not part of Porter's API. A WebSocket (send `Upgrade: websocket`; a
    plain GET answers 426): runs `command` (a shell when absent: bash if the sandbox has it, else sh) on
    a pseudo-terminal of the sandbox's own, `rows` by `cols`. The server sends a text message
    `{\"type\": \"started\", \"exec_id\": ...}`, then the terminal's output as binary messages, and at
    the end `{\"type\": \"exit\", \"exit_code\": N}` before it closes. The client sends what is typed as
    binary messages and `{\"type\": \"resize\", \"rows\": R, \"cols\": C}` as text. A client that goes
    away kills the command (its whole process group). Errors before the start answer the upgrade with
    their status and `{\"error\": ...}`.

    Args:
        id (str):
        command (list[str] | Unset):
        cwd (str | Unset):
        env (list[str] | Unset):
        rows (int | Unset):
        cols (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        command=command,
        cwd=cwd,
        env=env,
        rows=rows,
        cols=cols,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    command: list[str] | Unset = UNSET,
    cwd: str | Unset = UNSET,
    env: list[str] | Unset = UNSET,
    rows: int | Unset = UNSET,
    cols: int | Unset = UNSET,
) -> Any | Error | None:
    r"""An interactive terminal in a sandbox, over a WebSocket

     An extension of this server, not part of Porter's API. A WebSocket (send `Upgrade: websocket`; a
    plain GET answers 426): runs `command` (a shell when absent: bash if the sandbox has it, else sh) on
    a pseudo-terminal of the sandbox's own, `rows` by `cols`. The server sends a text message
    `{\"type\": \"started\", \"exec_id\": ...}`, then the terminal's output as binary messages, and at
    the end `{\"type\": \"exit\", \"exit_code\": N}` before it closes. The client sends what is typed as
    binary messages and `{\"type\": \"resize\", \"rows\": R, \"cols\": C}` as text. A client that goes
    away kills the command (its whole process group). Errors before the start answer the upgrade with
    their status and `{\"error\": ...}`.

    Args:
        id (str):
        command (list[str] | Unset):
        cwd (str | Unset):
        env (list[str] | Unset):
        rows (int | Unset):
        cols (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return sync_detailed(
        id=id,
        client=client,
        command=command,
        cwd=cwd,
        env=env,
        rows=rows,
        cols=cols,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    command: list[str] | Unset = UNSET,
    cwd: str | Unset = UNSET,
    env: list[str] | Unset = UNSET,
    rows: int | Unset = UNSET,
    cols: int | Unset = UNSET,
) -> Response[Any | Error]:
    r"""An interactive terminal in a sandbox, over a WebSocket

     An extension of this server, not part of Porter's API. A WebSocket (send `Upgrade: websocket`; a
    plain GET answers 426): runs `command` (a shell when absent: bash if the sandbox has it, else sh) on
    a pseudo-terminal of the sandbox's own, `rows` by `cols`. The server sends a text message
    `{\"type\": \"started\", \"exec_id\": ...}`, then the terminal's output as binary messages, and at
    the end `{\"type\": \"exit\", \"exit_code\": N}` before it closes. The client sends what is typed as
    binary messages and `{\"type\": \"resize\", \"rows\": R, \"cols\": C}` as text. A client that goes
    away kills the command (its whole process group). Errors before the start answer the upgrade with
    their status and `{\"error\": ...}`.

    Args:
        id (str):
        command (list[str] | Unset):
        cwd (str | Unset):
        env (list[str] | Unset):
        rows (int | Unset):
        cols (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        id=id,
        command=command,
        cwd=cwd,
        env=env,
        rows=rows,
        cols=cols,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    command: list[str] | Unset = UNSET,
    cwd: str | Unset = UNSET,
    env: list[str] | Unset = UNSET,
    rows: int | Unset = UNSET,
    cols: int | Unset = UNSET,
) -> Any | Error | None:
    r"""An interactive terminal in a sandbox, over a WebSocket

     An extension of this server, not part of Porter's API. A WebSocket (send `Upgrade: websocket`; a
    plain GET answers 426): runs `command` (a shell when absent: bash if the sandbox has it, else sh) on
    a pseudo-terminal of the sandbox's own, `rows` by `cols`. The server sends a text message
    `{\"type\": \"started\", \"exec_id\": ...}`, then the terminal's output as binary messages, and at
    the end `{\"type\": \"exit\", \"exit_code\": N}` before it closes. The client sends what is typed as
    binary messages and `{\"type\": \"resize\", \"rows\": R, \"cols\": C}` as text. A client that goes
    away kills the command (its whole process group). Errors before the start answer the upgrade with
    their status and `{\"error\": ...}`.

    Args:
        id (str):
        command (list[str] | Unset):
        cwd (str | Unset):
        env (list[str] | Unset):
        rows (int | Unset):
        cols (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            command=command,
            cwd=cwd,
            env=env,
            rows=rows,
            cols=cols,
        )
    ).parsed

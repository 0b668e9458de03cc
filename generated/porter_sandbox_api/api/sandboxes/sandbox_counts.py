import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.counts_response import CountsResponse
from ...models.error import Error
from ...models.sandbox_phase import SandboxPhase
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    search: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    phase: list[SandboxPhase] | Unset = UNSET,
    image: str | Unset = UNSET,
    start_time: datetime.datetime | Unset = UNSET,
    end_time: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["search"] = search

    json_tag: list[str] | Unset = UNSET
    if not isinstance(tag, Unset):
        json_tag = tag

    params["tag"] = json_tag

    json_phase: list[str] | Unset = UNSET
    if not isinstance(phase, Unset):
        json_phase = []
        for phase_item_data in phase:
            phase_item = phase_item_data.value
            json_phase.append(phase_item)

    params["phase"] = json_phase

    params["image"] = image

    json_start_time: str | Unset = UNSET
    if not isinstance(start_time, Unset):
        json_start_time = start_time.isoformat()
    params["start_time"] = json_start_time

    json_end_time: str | Unset = UNSET
    if not isinstance(end_time, Unset):
        json_end_time = end_time.isoformat()
    params["end_time"] = json_end_time

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandbox/counts",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CountsResponse | Error | None:
    if response.status_code == 200:
        response_200 = CountsResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

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
) -> Response[CountsResponse | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    search: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    phase: list[SandboxPhase] | Unset = UNSET,
    image: str | Unset = UNSET,
    start_time: datetime.datetime | Unset = UNSET,
    end_time: datetime.datetime | Unset = UNSET,
) -> Response[CountsResponse | Error]:
    """Count sandboxes over time

     Counts the sandboxes that match the same filters as listing, in gap-free time buckets of
    `granularity_ms` milliseconds across the creation window.

    Args:
        search (str | Unset):
        tag (list[str] | Unset):
        phase (list[SandboxPhase] | Unset):
        image (str | Unset):
        start_time (datetime.datetime | Unset):
        end_time (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CountsResponse | Error]
    """

    kwargs = _get_kwargs(
        search=search,
        tag=tag,
        phase=phase,
        image=image,
        start_time=start_time,
        end_time=end_time,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    search: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    phase: list[SandboxPhase] | Unset = UNSET,
    image: str | Unset = UNSET,
    start_time: datetime.datetime | Unset = UNSET,
    end_time: datetime.datetime | Unset = UNSET,
) -> CountsResponse | Error | None:
    """Count sandboxes over time

     Counts the sandboxes that match the same filters as listing, in gap-free time buckets of
    `granularity_ms` milliseconds across the creation window.

    Args:
        search (str | Unset):
        tag (list[str] | Unset):
        phase (list[SandboxPhase] | Unset):
        image (str | Unset):
        start_time (datetime.datetime | Unset):
        end_time (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CountsResponse | Error
    """

    return sync_detailed(
        client=client,
        search=search,
        tag=tag,
        phase=phase,
        image=image,
        start_time=start_time,
        end_time=end_time,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    search: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    phase: list[SandboxPhase] | Unset = UNSET,
    image: str | Unset = UNSET,
    start_time: datetime.datetime | Unset = UNSET,
    end_time: datetime.datetime | Unset = UNSET,
) -> Response[CountsResponse | Error]:
    """Count sandboxes over time

     Counts the sandboxes that match the same filters as listing, in gap-free time buckets of
    `granularity_ms` milliseconds across the creation window.

    Args:
        search (str | Unset):
        tag (list[str] | Unset):
        phase (list[SandboxPhase] | Unset):
        image (str | Unset):
        start_time (datetime.datetime | Unset):
        end_time (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CountsResponse | Error]
    """

    kwargs = _get_kwargs(
        search=search,
        tag=tag,
        phase=phase,
        image=image,
        start_time=start_time,
        end_time=end_time,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    search: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    phase: list[SandboxPhase] | Unset = UNSET,
    image: str | Unset = UNSET,
    start_time: datetime.datetime | Unset = UNSET,
    end_time: datetime.datetime | Unset = UNSET,
) -> CountsResponse | Error | None:
    """Count sandboxes over time

     Counts the sandboxes that match the same filters as listing, in gap-free time buckets of
    `granularity_ms` milliseconds across the creation window.

    Args:
        search (str | Unset):
        tag (list[str] | Unset):
        phase (list[SandboxPhase] | Unset):
        image (str | Unset):
        start_time (datetime.datetime | Unset):
        end_time (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CountsResponse | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            search=search,
            tag=tag,
            phase=phase,
            image=image,
            start_time=start_time,
            end_time=end_time,
        )
    ).parsed

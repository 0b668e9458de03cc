from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.metric_summary_response import MetricSummaryResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    since: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["since"] = since

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandbox/{id}/metrics-summary".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | MetricSummaryResponse | None:
    if response.status_code == 200:
        response_200 = MetricSummaryResponse.from_dict(response.json())

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
) -> Response[Error | MetricSummaryResponse]:
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
    since: str | Unset = UNSET,
) -> Response[Error | MetricSummaryResponse]:
    """Get a sandbox's CPU and memory percentiles

     Answers the 50th and 90th percentiles of the sandbox's CPU and memory use over a look-back window,
    and each as a percentage of its limit (zero when it has none). `has_data` is false until the sandbox
    has been sampled in the window. Memory includes page cache.

    Args:
        id (str):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MetricSummaryResponse]
    """

    kwargs = _get_kwargs(
        id=id,
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
    since: str | Unset = UNSET,
) -> Error | MetricSummaryResponse | None:
    """Get a sandbox's CPU and memory percentiles

     Answers the 50th and 90th percentiles of the sandbox's CPU and memory use over a look-back window,
    and each as a percentage of its limit (zero when it has none). `has_data` is false until the sandbox
    has been sampled in the window. Memory includes page cache.

    Args:
        id (str):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MetricSummaryResponse
    """

    return sync_detailed(
        id=id,
        client=client,
        since=since,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
) -> Response[Error | MetricSummaryResponse]:
    """Get a sandbox's CPU and memory percentiles

     Answers the 50th and 90th percentiles of the sandbox's CPU and memory use over a look-back window,
    and each as a percentage of its limit (zero when it has none). `has_data` is false until the sandbox
    has been sampled in the window. Memory includes page cache.

    Args:
        id (str):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MetricSummaryResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        since=since,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
) -> Error | MetricSummaryResponse | None:
    """Get a sandbox's CPU and memory percentiles

     Answers the 50th and 90th percentiles of the sandbox's CPU and memory use over a look-back window,
    and each as a percentage of its limit (zero when it has none). `has_data` is false until the sandbox
    has been sampled in the window. Memory includes page cache.

    Args:
        id (str):
        since (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MetricSummaryResponse
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            since=since,
        )
    ).parsed

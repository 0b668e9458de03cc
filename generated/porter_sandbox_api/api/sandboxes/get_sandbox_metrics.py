import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.sandbox_metric import SandboxMetric
from ...models.sandbox_metrics_response import SandboxMetricsResponse
from ...types import UNSET, Response


def _get_kwargs(
    id: str,
    *,
    metric: SandboxMetric,
    start_time_utc: datetime.datetime,
    end_time_utc: datetime.datetime,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_metric = metric.value
    params["metric"] = json_metric

    json_start_time_utc = start_time_utc.isoformat()
    params["start_time_utc"] = json_start_time_utc

    json_end_time_utc = end_time_utc.isoformat()
    params["end_time_utc"] = json_end_time_utc

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandbox/{id}/metrics".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | SandboxMetricsResponse | None:
    if response.status_code == 200:
        response_200 = SandboxMetricsResponse.from_dict(response.json())

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
) -> Response[Error | SandboxMetricsResponse]:
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
    metric: SandboxMetric,
    start_time_utc: datetime.datetime,
    end_time_utc: datetime.datetime,
) -> Response[Error | SandboxMetricsResponse]:
    """Get a time series of one of a sandbox's metrics

     Answers the samples of one metric of the sandbox between two times, oldest first: one result holding
    one series per source (normally one). A metric the runtime cannot measure (per-sandbox network
    traffic where sandboxes share the host's network, a reservation of a sandbox without a limit) has no
    series.

    Args:
        id (str):
        metric (SandboxMetric): A metric of a sandbox: `cpu_usage` (cores), `cpu_reserved` (its
            CPU limit, cores), `memory_usage` (bytes, page cache included), `memory_reserved` (its
            memory limit, bytes), `network_rx` and `network_tx` (bytes per second received and sent).
        start_time_utc (datetime.datetime):
        end_time_utc (datetime.datetime):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SandboxMetricsResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        metric=metric,
        start_time_utc=start_time_utc,
        end_time_utc=end_time_utc,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    metric: SandboxMetric,
    start_time_utc: datetime.datetime,
    end_time_utc: datetime.datetime,
) -> Error | SandboxMetricsResponse | None:
    """Get a time series of one of a sandbox's metrics

     Answers the samples of one metric of the sandbox between two times, oldest first: one result holding
    one series per source (normally one). A metric the runtime cannot measure (per-sandbox network
    traffic where sandboxes share the host's network, a reservation of a sandbox without a limit) has no
    series.

    Args:
        id (str):
        metric (SandboxMetric): A metric of a sandbox: `cpu_usage` (cores), `cpu_reserved` (its
            CPU limit, cores), `memory_usage` (bytes, page cache included), `memory_reserved` (its
            memory limit, bytes), `network_rx` and `network_tx` (bytes per second received and sent).
        start_time_utc (datetime.datetime):
        end_time_utc (datetime.datetime):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SandboxMetricsResponse
    """

    return sync_detailed(
        id=id,
        client=client,
        metric=metric,
        start_time_utc=start_time_utc,
        end_time_utc=end_time_utc,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    metric: SandboxMetric,
    start_time_utc: datetime.datetime,
    end_time_utc: datetime.datetime,
) -> Response[Error | SandboxMetricsResponse]:
    """Get a time series of one of a sandbox's metrics

     Answers the samples of one metric of the sandbox between two times, oldest first: one result holding
    one series per source (normally one). A metric the runtime cannot measure (per-sandbox network
    traffic where sandboxes share the host's network, a reservation of a sandbox without a limit) has no
    series.

    Args:
        id (str):
        metric (SandboxMetric): A metric of a sandbox: `cpu_usage` (cores), `cpu_reserved` (its
            CPU limit, cores), `memory_usage` (bytes, page cache included), `memory_reserved` (its
            memory limit, bytes), `network_rx` and `network_tx` (bytes per second received and sent).
        start_time_utc (datetime.datetime):
        end_time_utc (datetime.datetime):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SandboxMetricsResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        metric=metric,
        start_time_utc=start_time_utc,
        end_time_utc=end_time_utc,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    metric: SandboxMetric,
    start_time_utc: datetime.datetime,
    end_time_utc: datetime.datetime,
) -> Error | SandboxMetricsResponse | None:
    """Get a time series of one of a sandbox's metrics

     Answers the samples of one metric of the sandbox between two times, oldest first: one result holding
    one series per source (normally one). A metric the runtime cannot measure (per-sandbox network
    traffic where sandboxes share the host's network, a reservation of a sandbox without a limit) has no
    series.

    Args:
        id (str):
        metric (SandboxMetric): A metric of a sandbox: `cpu_usage` (cores), `cpu_reserved` (its
            CPU limit, cores), `memory_usage` (bytes, page cache included), `memory_reserved` (its
            memory limit, bytes), `network_rx` and `network_tx` (bytes per second received and sent).
        start_time_utc (datetime.datetime):
        end_time_utc (datetime.datetime):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SandboxMetricsResponse
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            metric=metric,
            start_time_utc=start_time_utc,
            end_time_utc=end_time_utc,
        )
    ).parsed

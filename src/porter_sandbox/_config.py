"""Where the API is, how to authenticate, and how long to wait: the contract's Connection table.

=============  ==========================================================================
api key        ``api_key=``, else env ``PORTER_SANDBOX_API_KEY``; none means no auth header
base URL       ``base_url=``; else env ``PORTER_SANDBOX_BASE_URL``; else, when env
               ``PORTER_CLUSTER_ID`` is set, Porter's dashboard URL for that cluster and
               the ``project_id`` claim of the API key (a JWT, read without verifying);
               else, inside a Kubernetes pod (env ``KUBERNETES_SERVICE_HOST``), the
               in-cluster service; else a :class:`ConfigurationError` saying what to set
timeout        ``timeout=`` seconds (or an ``httpx.Timeout``), default 30 s
retries        ``max_retries=``, default 2
=============  ==========================================================================
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, final

from ._exceptions import ConfigurationError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_SECONDS",
    "IN_CLUSTER_BASE_URL",
    "NOT_GIVEN",
    "ClientConfig",
    "NotGiven",
    "project_id_from_api_key",
    "resolve_config",
]

DEFAULT_TIMEOUT_SECONDS: Final = 30.0
DEFAULT_MAX_RETRIES: Final = 2
IN_CLUSTER_BASE_URL: Final = "http://sandbox-api.porter-sandbox-system.svc.cluster.local:8080"
DASHBOARD_BASE_URL: Final = "https://dashboard.porter.run/api/v2/alpha/projects/{project_id}/clusters/{cluster_id}"

API_KEY_ENV: Final = "PORTER_SANDBOX_API_KEY"
BASE_URL_ENV: Final = "PORTER_SANDBOX_BASE_URL"
CLUSTER_ID_ENV: Final = "PORTER_CLUSTER_ID"
IN_CLUSTER_ENV: Final = "KUBERNETES_SERVICE_HOST"


@final
class NotGiven:
    """The type of :data:`NOT_GIVEN`: "the caller did not pass this", where ``None`` already means something."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
"""Marks an argument the caller did not pass (``None`` may mean "no limit" there)."""


@dataclass(frozen=True)
class ClientConfig:
    """What a client was configured with, once every source has been consulted."""

    base_url: str
    """The API's base URL, without a trailing slash."""
    api_key: str | None
    """The bearer token sent with every request, or ``None`` for none."""
    timeout: httpx.Timeout
    """How long each request may take."""
    max_retries: int
    """How many times a request that may safely be retried is retried."""


def resolve_config(
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Work out the client's configuration from its arguments and the environment, as the contract orders them."""
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else (env.get(API_KEY_ENV) or None)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be a whole number 0 or more, not {max_retries!r}")
    return ClientConfig(
        base_url=resolve_base_url(base_url, key, env),
        api_key=key,
        timeout=resolve_timeout(timeout),
        max_retries=max_retries,
    )


def resolve_base_url(base_url: str | None, api_key: str | None, env: Mapping[str, str]) -> str:
    """The API's base URL: the argument, then ``PORTER_SANDBOX_BASE_URL``, the cluster id, in-cluster; else an error."""
    if base_url is not None:
        return _clean_url(base_url, "base_url")
    if env.get(BASE_URL_ENV):
        return _clean_url(env[BASE_URL_ENV], BASE_URL_ENV)
    cluster_id = env.get(CLUSTER_ID_ENV)
    if cluster_id:
        if not api_key:
            raise ConfigurationError(
                f"{CLUSTER_ID_ENV} is set, so the API key must name the project: pass api_key= or set "
                f"{API_KEY_ENV} (or set {BASE_URL_ENV} to reach a server directly)"
            )
        project_id = project_id_from_api_key(api_key)
        return DASHBOARD_BASE_URL.format(project_id=project_id, cluster_id=cluster_id.strip())
    if env.get(IN_CLUSTER_ENV):
        return IN_CLUSTER_BASE_URL
    raise ConfigurationError(
        "cannot tell where the Porter Sandbox API is. Pass base_url=, or set one of: "
        f"{BASE_URL_ENV} (such as http://127.0.0.1:8080 for `porter-sandbox serve`), "
        f"{CLUSTER_ID_ENV} together with {API_KEY_ENV} (a Porter cluster), "
        "or run inside a Porter cluster's pod"
    )


def project_id_from_api_key(api_key: str) -> int:
    """The integer ``project_id`` claim in the payload of an API key that is a JWT, read without verifying it."""
    parts = api_key.split(".")
    if len(parts) != 3 or not parts[1]:
        raise ConfigurationError(
            f"{CLUSTER_ID_ENV} is set, but the API key is not a JWT (header.payload.signature), so it "
            f"cannot name the project; use a Porter API key, or set {BASE_URL_ENV}"
        )
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(
            f"{CLUSTER_ID_ENV} is set, but the API key's payload is not base64url JSON, so it cannot name the "
            f"project; use a Porter API key, or set {BASE_URL_ENV}"
        ) from exc
    project_id = claims.get("project_id") if isinstance(claims, dict) else None
    if isinstance(project_id, str) and project_id.isdigit():
        project_id = int(project_id)
    if isinstance(project_id, bool) or not isinstance(project_id, int):
        raise ConfigurationError(
            f"{CLUSTER_ID_ENV} is set, but the API key has no integer project_id claim, so it cannot name the "
            f"project; use a Porter API key, or set {BASE_URL_ENV}"
        )
    return project_id


def resolve_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """An explicit ``httpx.Timeout``: ``None`` means the 30 s default, a number means that many seconds."""
    import httpx

    if timeout is None:
        return httpx.Timeout(DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigurationError(f"timeout must be a number of seconds above 0 or an httpx.Timeout, not {timeout!r}")
    return httpx.Timeout(float(timeout))


def _clean_url(url: str, source: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{source} must be an http:// or https:// URL, not {url!r}")
    return url.rstrip("/")

"""Configuration follows the contract's Connection table, in its order."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from sdk_mock import BASE_URL, STATUS, Script, answer

from porter_sandbox import ConfigurationError, Porter
from porter_sandbox._config import IN_CLUSTER_BASE_URL, project_id_from_api_key, resolve_config


def jwt(claims: object) -> str:
    """An unsigned JWT carrying ``claims`` (the SDK never verifies it)."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def resolve(env: dict[str, str], **arguments: object) -> object:
    options: dict[str, object] = {"api_key": None, "base_url": None, "timeout": None, "max_retries": 2}
    options.update(arguments)
    return resolve_config(environ=env, **options)  # type: ignore[arg-type]


def test_the_base_url_argument_wins_over_every_variable() -> None:
    env = {
        "PORTER_SANDBOX_BASE_URL": "http://env:1",
        "PORTER_CLUSTER_ID": "7",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
    }
    config = resolve(env, base_url="http://argument:8080/", api_key=jwt({"project_id": 3}))
    assert config.base_url == "http://argument:8080"  # type: ignore[attr-defined]


def test_the_base_url_variable_comes_next() -> None:
    env = {"PORTER_SANDBOX_BASE_URL": "http://env:1", "PORTER_CLUSTER_ID": "7", "KUBERNETES_SERVICE_HOST": "x"}
    assert resolve(env, api_key=jwt({"project_id": 3})).base_url == "http://env:1"  # type: ignore[attr-defined]


def test_a_cluster_id_uses_the_project_id_claim_of_the_api_key() -> None:
    env = {
        "PORTER_CLUSTER_ID": "42",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "PORTER_SANDBOX_API_KEY": jwt({"project_id": 9}),
    }
    config = resolve(env)
    assert config.base_url == "https://dashboard.porter.run/api/v2/alpha/projects/9/clusters/42"  # type: ignore[attr-defined]
    assert config.api_key == env["PORTER_SANDBOX_API_KEY"]  # type: ignore[attr-defined]


def test_a_cluster_id_without_an_api_key_says_to_set_one() -> None:
    with pytest.raises(ConfigurationError, match="PORTER_SANDBOX_API_KEY"):
        resolve({"PORTER_CLUSTER_ID": "42"})


@pytest.mark.parametrize(
    "key",
    [
        "plain-secret-key",
        "a.b",
        "header.!!!notbase64!!!.sig",
        jwt(["not", "an", "object"]),
        jwt({"sub": "no project"}),
        jwt({"project_id": "twelve"}),
        jwt({"project_id": True}),
    ],
)
def test_a_cluster_id_with_a_key_that_names_no_project_is_a_clear_error(key: str) -> None:
    with pytest.raises(ConfigurationError, match="PORTER_CLUSTER_ID") as caught:
        resolve({"PORTER_CLUSTER_ID": "42"}, api_key=key)
    assert "PORTER_SANDBOX_BASE_URL" in str(caught.value)


def test_a_project_id_claim_given_as_digits_is_accepted() -> None:
    assert project_id_from_api_key(jwt({"project_id": "12"})) == 12


def test_inside_a_pod_the_in_cluster_service_is_used() -> None:
    assert resolve({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}).base_url == IN_CLUSTER_BASE_URL  # type: ignore[attr-defined]
    assert IN_CLUSTER_BASE_URL == "http://sandbox-api.porter-sandbox-system.svc.cluster.local:8080"


def test_with_nothing_set_the_error_names_what_to_set() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Porter()
    message = str(caught.value)
    for setting in ("base_url", "PORTER_SANDBOX_BASE_URL", "PORTER_CLUSTER_ID", "PORTER_SANDBOX_API_KEY"):
        assert setting in message
    assert isinstance(caught.value, ValueError)


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        Porter(base_url="sandbox.test:8080")


def test_the_timeout_defaults_to_an_explicit_30_seconds() -> None:
    with Porter(base_url=BASE_URL) as porter:
        assert porter.timeout == httpx.Timeout(30.0)
        assert porter.raw.get_httpx_client().timeout == httpx.Timeout(30.0)
    with Porter(base_url=BASE_URL, timeout=None) as porter:
        assert porter.timeout == httpx.Timeout(30.0)
    with Porter(base_url=BASE_URL, timeout=2.5) as porter:
        assert porter.timeout == httpx.Timeout(2.5)
    with Porter(base_url=BASE_URL, timeout=httpx.Timeout(1.0, connect=0.5)) as porter:
        assert porter.timeout == httpx.Timeout(1.0, connect=0.5)


@pytest.mark.parametrize("timeout", [0, -1, "30", True])
def test_a_nonsense_timeout_is_refused(timeout: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        Porter(base_url=BASE_URL, timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize("max_retries", [-1, 1.5, True])
def test_a_nonsense_max_retries_is_refused(max_retries: object) -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        Porter(base_url=BASE_URL, max_retries=max_retries)  # type: ignore[arg-type]


def test_the_api_key_is_sent_as_a_bearer_token_from_the_argument_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = Script(answer(200, STATUS))
    with Porter(base_url=BASE_URL, api_key="k-arg", transport=httpx.MockTransport(script)) as porter:
        porter.sandboxes.raw.get_sandbox("sb-1")
    monkeypatch.setenv("PORTER_SANDBOX_API_KEY", "k-env")
    with Porter(base_url=BASE_URL, transport=httpx.MockTransport(script)) as porter:
        porter.sandboxes.raw.get_sandbox("sb-1")
    assert [r.headers["authorization"] for r in script.requests] == ["Bearer k-arg", "Bearer k-env"]


def test_without_an_api_key_no_authorization_header_is_sent() -> None:
    script = Script(answer(200, STATUS))
    with Porter(base_url=BASE_URL, transport=httpx.MockTransport(script)) as porter:
        porter.sandboxes.get("sb-1")
    assert all("authorization" not in request.headers for request in script.requests)

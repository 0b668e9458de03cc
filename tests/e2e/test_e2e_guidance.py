"""What the SDK tells a user who took a wrong turn, against a real local server: each message says what to do."""

from __future__ import annotations

from typing import Any

import pytest

from porter_sandbox import AsyncPorter, NotFoundError, Porter, RouteNotFoundError


def test_a_wrong_base_url_is_an_unknown_route_not_a_missing_sandbox(server: Any) -> None:
    with Porter(base_url=server.url + "/api/v2", api_key=server.api_key) as porter:
        with pytest.raises(RouteNotFoundError) as caught:
            porter.sandboxes.get("x")
        with pytest.raises(RouteNotFoundError):
            porter.volumes.delete("x")
        with pytest.raises(NotFoundError):  # still a NotFoundError, for code that catches those
            porter.sandboxes.list()
    message = caught.value.message
    assert "no route for GET /api/v2/v1/sandbox/lookup" in message
    assert "base_url" in message
    assert "no sandbox is named" not in message


async def test_a_wrong_base_url_is_an_unknown_route_async(server: Any) -> None:
    async with AsyncPorter(base_url=server.url + "/v1", api_key=server.api_key) as porter:
        with pytest.raises(RouteNotFoundError, match="check base_url"):
            await porter.volumes.get("x")


def test_a_missing_sandbox_on_the_right_base_url_is_still_named(porter: Porter) -> None:
    with pytest.raises(NotFoundError) as caught:
        porter.sandboxes.get("no-such-sandbox")
    assert not isinstance(caught.value, RouteNotFoundError)
    assert "no sandbox is named or has the id 'no-such-sandbox'" in caught.value.message

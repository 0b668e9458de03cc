"""``.raw``: the generated client and its operations, sharing the SDK's httpx client without changing it."""

from __future__ import annotations

import httpx
import pytest
from porter_sandbox_api.api.sandboxes import get_sandbox
from sdk_mock import STATUS, Script, answer, async_porter_with, porter_with


def test_with_timeout_and_with_headers_answer_copies_and_leave_the_sdk_alone() -> None:
    script = Script(answer(503), answer(200, STATUS))
    with porter_with(script, max_retries=1) as porter:
        shared = porter.raw.get_httpx_client()
        before = (shared.timeout, dict(shared.headers))

        slow = porter.raw.with_timeout(httpx.Timeout(123.0))
        tagged = porter.raw.with_headers({"X-Trace": "abc"}).with_cookies({"session": "s1"})

        # The SDK's own client, and so every SDK call, is as it was.
        assert porter.raw.get_httpx_client() is shared
        assert (shared.timeout, dict(shared.headers)) == before
        assert "x-trace" not in shared.headers and not shared.cookies
        assert slow.get_httpx_client().timeout == httpx.Timeout(123.0)
        assert tagged.get_httpx_client().timeout == shared.timeout

        # The copy sends through the SDK's transport: its retries apply (one 503 retried), with its header.
        assert get_sandbox.sync_detailed("sb-1", client=tagged).status_code == 200
        assert script.calls == 2
        assert all(request.headers["x-trace"] == "abc" for request in script.requests)
        assert "session=s1" in script.requests[-1].headers["cookie"]
        assert script.requests[-1].headers["user-agent"].startswith("porter-sandbox-python/")

        # Closing a copy leaves the SDK's connections open.
        tagged.get_httpx_client().close()
        assert porter.sandboxes.get("sb-1").id == "sb-1"
        assert "x-trace" not in script.requests[-1].headers
        assert "cookie" not in script.requests[-1].headers


async def test_the_async_raw_client_copies_too() -> None:
    script = Script(answer(200, STATUS))
    async with async_porter_with(script) as porter:
        shared = porter.raw.get_async_httpx_client()
        before = shared.timeout
        copy = porter.raw.with_timeout(httpx.Timeout(7.0)).with_headers({"X-Trace": "async"})
        assert porter.raw.get_async_httpx_client() is shared and shared.timeout == before
        assert "x-trace" not in shared.headers
        assert copy.get_async_httpx_client().timeout == httpx.Timeout(7.0)
        assert (await get_sandbox.asyncio_detailed("sb-1", client=copy)).status_code == 200
        assert script.requests[-1].headers["x-trace"] == "async"
        await copy.get_async_httpx_client().aclose()
        assert (await porter.sandboxes.get("sb-1")).id == "sb-1"


def test_an_authenticated_raw_client_keeps_its_key_in_copies() -> None:
    script = Script(answer(200, STATUS))
    with porter_with(script, api_key="k-1") as porter:
        copy = porter.raw.with_headers({"X-Trace": "abc"})
        assert type(copy) is type(porter.raw)
        get_sandbox.sync_detailed("sb-1", client=copy)
        assert script.requests[-1].headers["authorization"] == "Bearer k-1"
        assert "x-trace" not in porter.raw.get_httpx_client().headers


@pytest.mark.parametrize("method", ["with_timeout", "with_headers", "with_cookies"])
def test_the_copies_are_documented(method: str) -> None:
    with porter_with(Script(answer(200, STATUS))) as porter:
        assert "unchanged" in (getattr(porter.raw, method).__doc__ or "")

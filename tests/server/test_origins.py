"""Web pages cannot drive the API: cross-origin requests, DNS rebinding and non-JSON bodies are refused.

A keyless server on loopback is reachable from any page a browser on this
machine opens, a sandbox's served page included (``<port>-<name>.localhost``
is itself a loopback origin). A browser may send a form's POST (text/plain)
or open a WebSocket to another origin without asking, and a rebound name
reaches 127.0.0.1 with its own Host. A real server over loopback; the
browser's requests are written out as a browser sends them.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from server_calls import create

from porter_sandbox.testing import LocalServer

RUN = {"image": "python:3.12-slim", "command": ["true"]}


def port_of(server: LocalServer) -> int:
    """The port the server listens on."""
    return int(server.url.rstrip("/").rsplit(":", 1)[1])


def test_a_json_body_must_be_sent_as_json(api: httpx.Client) -> None:
    for kind in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]:
        headers = {"Content-Type": kind} if kind else {}
        refused = api.post("/v1/sandbox/run", content=json.dumps(RUN), headers=headers)
        assert refused.status_code == 400, (kind, refused.text)
        assert "Content-Type: application/json" in refused.json()["error"], refused.text
    sandbox_id = create(api)
    refused = api.post(
        f"/v1/sandbox/{sandbox_id}/exec",
        content=json.dumps({"command": ["true"]}),
        headers={"Content-Type": "text/plain"},
    )
    assert refused.status_code == 400, refused.text
    for kind in ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"]:
        ran = api.post(
            f"/v1/sandbox/{sandbox_id}/exec", content=json.dumps({"command": ["true"]}), headers={"Content-Type": kind}
        )
        assert ran.status_code == 200 and ran.json()["exit_code"] == 0, (kind, ran.text)


def test_a_request_from_another_origin_is_refused(api: httpx.Client, api_server: LocalServer) -> None:
    sandbox_id = create(api)
    port = port_of(api_server)
    for origin in [f"http://3000-evil.localhost:{port}", "http://evil.example", "null", f"http://127.0.0.1:{port + 1}"]:
        headers = {"Origin": origin}
        ran = api.post("/v1/sandbox/run", json=RUN, headers=headers)
        assert ran.status_code == 403 and "another origin" in ran.json()["error"], (origin, ran.text)
        execd = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]}, headers=headers)
        assert execd.status_code == 403, (origin, execd.text)
        assert api.get("/v1/sandbox", headers=headers).status_code == 403
    # The server's own origin (a page it served, were there one) is its own.
    own = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]}, headers={"Origin": api_server.url})
    assert own.status_code == 200, own.text


def test_a_keyless_server_answers_its_own_host_names_only(api: httpx.Client, api_server: LocalServer) -> None:
    port = port_of(api_server)
    for host in [f"rebound.example:{port}", "rebound.example", f"evil.localhost:{port}", f"10.0.0.1:{port}"]:
        refused = api.get("/v1/sandbox", headers={"Host": host})
        assert refused.status_code == 403 and "own address" in refused.json()["error"], (host, refused.text)
        assert api.post("/v1/sandbox/run", json=RUN, headers={"Host": host}).status_code == 403
    for host in [f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"127.0.0.2:{port}"]:
        assert api.get("/v1/sandbox", headers={"Host": host}).status_code == 200, host


def test_a_server_with_a_key_takes_any_host_but_no_other_origin() -> None:
    with (
        LocalServer(isolation="none", api_key="k-origins") as server,
        httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k-origins"}, timeout=30) as api,
    ):
        assert api.get("/v1/sandbox", headers={"Host": "sandbox-api.cluster.example"}).status_code == 200
        refused = api.get("/v1/sandbox", headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403, refused.text


def test_a_terminal_from_another_origin_is_refused_before_the_upgrade(
    api: httpx.Client, api_server: LocalServer
) -> None:
    sandbox_id = create(api)
    url = api_server.url.replace("http://", "ws://") + f"/x/v1/sandbox/{sandbox_id}/terminal?command=true"

    async def refused(origin: str) -> int:
        with pytest.raises(websockets.InvalidStatus) as caught:
            async with websockets.connect(url, origin=websockets.Origin(origin)):
                pass
        return caught.value.response.status_code

    port = port_of(api_server)
    assert asyncio.run(refused(f"http://3000-evil.localhost:{port}")) == 403
    assert asyncio.run(refused("http://evil.example")) == 403

    async def own_origin() -> str | bytes:
        async with websockets.connect(url, origin=websockets.Origin(api_server.url)) as ws:
            return await ws.recv()

    assert json.loads(asyncio.run(own_origin()))["type"] == "started"

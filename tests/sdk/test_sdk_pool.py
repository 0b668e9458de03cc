"""The gate before the SDK's connection pool: at most so many requests in it, a place held until the answer closes.

Against a real HTTP server on loopback that counts the requests it is
answering at once (each takes a moment, so they overlap).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from porter_sandbox import AsyncPorter, Porter, _pool

PLACES = 3


class Counting(ThreadingHTTPServer):
    daemon_threads = True
    lock = threading.Lock()
    now = 0
    most = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Counting

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.now += 1
            self.server.most = max(self.server.most, self.server.now)
        try:
            time.sleep(0.02)
            body = b'{"status": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with self.server.lock:
                self.server.now -= 1

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counting]:
    """A loopback server, and the SDK's gate shrunk to ``PLACES`` so that a few requests fill it."""
    monkeypatch.setattr(_pool, "MAX_CONNECTIONS", PLACES)
    http = Counting(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield http
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)


def url(server: Counting) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_place_is_held_until_the_answer_closes_then_a_waiter_gets_it(server: Counting) -> None:
    with httpx.Client(transport=_pool.GatedTransport(), base_url=url(server)) as client:
        held = [client.send(client.build_request("GET", "/healthz"), stream=True) for _ in range(PLACES)]
        with pytest.raises(httpx.PoolTimeout):
            client.get("/healthz", timeout=httpx.Timeout(5.0, pool=0.2))
        held.pop().close()
        assert client.get("/healthz", timeout=httpx.Timeout(5.0, pool=0.2)).json() == {"status": "ok"}
        for response in held:
            response.close()
            response.close()  # a second close gives back nothing more
        with ThreadPoolExecutor(max_workers=12) as threads:
            answers = list(threads.map(lambda _: client.get("/healthz").status_code, range(24)))
    assert answers == [200] * 24
    assert server.most == PLACES


async def test_async_a_place_is_held_until_the_answer_closes_then_a_waiter_gets_it(server: Counting) -> None:
    async with httpx.AsyncClient(transport=_pool.AsyncGatedTransport(), base_url=url(server)) as client:
        held = [await client.send(client.build_request("GET", "/healthz"), stream=True) for _ in range(PLACES)]
        with pytest.raises(httpx.PoolTimeout):
            await client.get("/healthz", timeout=httpx.Timeout(5.0, pool=0.2))
        await held.pop().aclose()
        assert (await client.get("/healthz", timeout=httpx.Timeout(5.0, pool=0.2))).json() == {"status": "ok"}
        for response in held:
            await response.aclose()
            await response.aclose()
        answers = await asyncio.gather(*(client.get("/healthz") for _ in range(24)))
    assert [answer.status_code for answer in answers] == [200] * 24
    assert server.most == PLACES


async def test_the_clients_fan_out_through_the_gate(server: Counting) -> None:
    async with AsyncPorter(base_url=url(server), api_key="") as porter:
        healths = await asyncio.gather(*(porter.health() for _ in range(4 * PLACES)))
    assert {health.status for health in healths} == {"ok"}
    assert server.most == PLACES
    server.most = 0
    with Porter(base_url=url(server), api_key="") as porter, ThreadPoolExecutor(max_workers=4 * PLACES) as threads:
        statuses = set(threads.map(lambda _: porter.health().status, range(4 * PLACES)))
    assert statuses == {"ok"}
    assert server.most == PLACES

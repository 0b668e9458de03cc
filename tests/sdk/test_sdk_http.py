"""The SDK's httpx clients: the URLs and cookies httpx would have made, with less work per request.

The URLs are checked against a plain ``httpx.Client`` building the same
requests (no network needed); the cookies against a real HTTP server on
loopback that sets them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from porter_sandbox import AsyncPorter, Porter
from porter_sandbox._http import MAX_REMEMBERED_URLS, AsyncHTTPClient, HTTPClient

BASES = ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "https://example.test/api/v2/", "http://[::1]:9/x"]
PATHS = [
    "/v1/sandbox/sb-1",
    "v1/sandbox/sb-1",
    "/v1/sandbox/a%2Fb",
    "/v1/sandbox/caf%C3%A9",
    "/v1/sandbox/with space",
    "/v1/volume/v/files/a/b%20c",
    "/v1/sandbox",
    "/",
    "",
    "http://elsewhere.test/absolute",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("client_class", [HTTPClient, AsyncHTTPClient])
def test_urls_are_the_ones_httpx_makes_first_time_and_after(
    base: str, client_class: type[HTTPClient] | type[AsyncHTTPClient]
) -> None:
    ours, plain = client_class(base_url=base), httpx.Client(base_url=base)
    for _ in range(2):  # built, then remembered
        for path in PATHS:
            assert str(ours.build_request("GET", path).url) == str(plain.build_request("GET", path).url), path
    # httpx goes through the memory: each relative path was remembered once.
    made_under, made = ours._urls._made
    assert made_under is ours.base_url
    assert set(made) == set(PATHS)


def test_a_new_base_url_forgets_the_urls_of_the_old_one() -> None:
    client = HTTPClient(base_url="http://127.0.0.1:8080")
    assert str(client.build_request("GET", "/v1/sandbox/a").url) == "http://127.0.0.1:8080/v1/sandbox/a"
    client.base_url = "http://127.0.0.1:9090/prefix"
    assert str(client.build_request("GET", "/v1/sandbox/a").url) == "http://127.0.0.1:9090/prefix/v1/sandbox/a"


def test_query_parameters_are_merged_after_the_remembered_url() -> None:
    client = HTTPClient(base_url="http://127.0.0.1:8080", params={"always": "1"})
    first = client.build_request("GET", "/v1/sandbox", params={"tag": ["a", "b"]})
    second = client.build_request("GET", "/v1/sandbox", params={"page": "2"})
    assert str(first.url) == "http://127.0.0.1:8080/v1/sandbox?always=1&tag=a&tag=b"
    assert str(second.url) == "http://127.0.0.1:8080/v1/sandbox?always=1&page=2"


def test_the_memory_is_bounded() -> None:
    client = HTTPClient(base_url="http://127.0.0.1:8080")
    for i in range(MAX_REMEMBERED_URLS * 2 + 3):
        assert str(client.build_request("GET", f"/v1/sandbox/sb-{i}").url).endswith(f"/sb-{i}")
        assert len(client._urls._made[1]) <= MAX_REMEMBERED_URLS


class CookieServer(BaseHTTPRequestHandler):
    """Sets a cookie on ``/login``; answers every request with the Cookie header it was sent."""

    def do_GET(self) -> None:
        body = (self.headers.get("Cookie") or "").encode()
        self.send_response(200)
        if self.path == "/login":
            self.send_header("Set-Cookie", "session=s1; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def cookie_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CookieServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_cookies_an_answer_sets_are_kept_and_sent(cookie_server: str) -> None:
    with Porter(base_url=cookie_server) as porter:
        http = porter.raw.get_httpx_client()
        assert http.get("/before").text == ""
        assert not http.cookies
        http.get("/login")
        assert http.cookies.get("session") == "s1"
        assert http.get("/after").text == "session=s1"
        # Cookies set on the client by hand are sent too, and answers still update them.
        http.cookies = {"team": "a"}
        assert http.get("/again").text == "team=a"
        http.get("/login")
        assert dict(http.cookies) == {"team": "a", "session": "s1"}


async def test_cookies_an_answer_sets_are_kept_and_sent_async(cookie_server: str) -> None:
    async with AsyncPorter(base_url=cookie_server) as porter:
        http = porter.raw.get_async_httpx_client()
        assert (await http.get("/before")).text == ""
        await http.get("/login")
        assert http.cookies.get("session") == "s1"
        assert (await http.get("/after")).text == "session=s1"
        http.cookies = {"team": "a"}
        assert (await http.get("/again")).text == "team=a"

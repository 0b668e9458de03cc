"""What a connection may hold: a huge header, thousands of half-sent requests and a stalled body are let go.

The server runs with short timeouts (``--header-timeout 2 --idle-timeout 3``)
so the tests wait seconds, not the defaults' tens of seconds; the mechanism
is the same. Clients here are raw sockets: httpx would never send half a
request.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from measure import HealthProbe, peak_bytes, reset_peak

from porter_sandbox.testing import LocalServer

MiB = 1024 * 1024
HEADER_TIMEOUT = 2.0
IDLE_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    options = ["--header-timeout", str(HEADER_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT)]
    with LocalServer(isolation="none", extra_args=options) as started:
        yield started


def address(server: LocalServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def answer_or_close(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (``b""`` when it just closes or resets it)."""
    sock.settimeout(timeout)
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_64_mb_header_is_refused_431_before_the_server_reads_it_all(server: LocalServer) -> None:
    before = reset_peak(server.pid)
    with socket.create_connection(address(server), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
        sent = 0
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            chunk = b"a" * MiB
            while sent < 64 * MiB:
                sock.sendall(chunk)
                sent += len(chunk)
        answer = answer_or_close(sock, 30)
    assert sent < 64 * MiB, "the server read the whole header"
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"error"' in answer and b"65536 bytes" in answer.split(b"\r\n\r\n", 1)[1]
    assert peak_bytes(server.pid) - before < 32 * MiB
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_two_thousand_half_sent_requests_are_not_held(server: LocalServer) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    half_sent: list[socket.socket] = []
    try:
        for n in range(2000):
            sock = socket.create_connection(address(server), timeout=30)
            # Half a request: the head never ends (or, for some, never starts).
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " if n % 4 else b"")
            half_sent.append(sock)
        opened = time.monotonic()
        with HealthProbe(server.url) as probe:
            time.sleep(HEADER_TIMEOUT + 2.0)
        print(f"\nwith 2000 half-sent requests open: {probe.summary()}")
        assert not probe.failures and probe.percentile(0.99) < 1.0, probe.summary()
        held = []
        for sock in half_sent:
            answer = answer_or_close(sock, max(0.1, opened + HEADER_TIMEOUT + 10 - time.monotonic()))
            if answer and not answer.startswith(b"HTTP/1.1 408 "):
                held.append(answer[:100])
        assert not held, held[:3]
    finally:
        for sock in half_sent:
            sock.close()


def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_header_timeout(server: LocalServer) -> None:
    with socket.create_connection(address(server), timeout=30) as sock:
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Drip: " + b"d" * 1000:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - started > HEADER_TIMEOUT + 5:
                    break
        answer = answer_or_close(sock, 10)
    assert time.monotonic() - started < HEADER_TIMEOUT + 5
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_a_body_that_stops_arriving_closes_the_connection_and_a_kept_alive_one_works(server: LocalServer) -> None:
    with httpx.Client(base_url=server.url) as api:
        volume = api.post("/v1/volume", json={}).json()["id"]
        assert api.put(f"/v1/volume/{volume}/files/content", params={"path": "/f"}, content=b"old").status_code == 204
        with socket.create_connection(address(server), timeout=30) as sock:
            sock.sendall(
                f"PUT /v1/volume/{volume}/files/content?path=/f HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Length: 1000\r\n\r\n".encode()
                + b"new, but only a part"
            )
            started = time.monotonic()
            answer = answer_or_close(sock, IDLE_TIMEOUT + 10)
            assert IDLE_TIMEOUT - 0.5 < time.monotonic() - started < IDLE_TIMEOUT + 5
            assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
        assert api.get(f"/v1/volume/{volume}/files/content", params={"path": "/f"}).content == b"old"
        # Requests on one kept-alive connection, slower than the header timeout in all, are served.
        for _ in range(3):
            assert api.get("/healthz").status_code == 200
            time.sleep(HEADER_TIMEOUT / 2)
        assert api.get("/healthz").status_code == 200


def test_a_body_the_answer_did_not_wait_for_is_read_past_and_the_connection_serves_on(server: LocalServer) -> None:
    with httpx.Client(base_url=server.url) as api:
        # Answered 404 before its body is read; the 4 MB that follow are not a request head.
        refused = api.put("/v1/volume/vol-000000000000/files/content", params={"path": "/f"}, content=b"x" * 4 * MiB)
        assert refused.status_code == 404
        assert api.get("/healthz").status_code == 200
        assert api.get("/healthz").status_code == 200

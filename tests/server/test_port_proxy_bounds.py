"""What a request to a sandbox's served port may hold of the server: the proxy's bounds.

Served ports need no API key, so whoever reaches the server can send them
requests: nothing is read before the sandbox and port are known to be
served, bodies are streamed rather than gathered, connections are counted
(server-wide and per sandbox), a silent app is timed out, a client that
goes away closes its upstream connection, and a WebSocket message from a
sandbox is bounded. Real sandboxes on a root server with bubblewrap and
slirp4netns; their apps are reached only through the server on loopback.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from netns_hosts import require_sandbox_network
from runtime_servers import RuntimeServer, start_server
from sandbox_apps import WS_ACCEPT
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from porter_sandbox import Porter, Sandbox

pytestmark = pytest.mark.bwrap

#: On 8000, HTTP: ``/hang/<tag>`` never answers and writes /tmp/closed-<tag> once the proxy closes the
#: connection; ``/stall`` sends half an answer and waits; ``POST /upload`` notes its first 5 body bytes in
#: /tmp/first before reading the rest. On 8765, WebSocket: after the handshake, a frame that declares
#: 2**40 bytes, then 8 MiB of it.
APP = (
    WS_ACCEPT
    + r"""
import http.server, socket, sys, threading

class Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/hang/"):
            self.connection.recv(1)  # nothing more comes: this returns when the proxy closes
            open("/tmp/closed-" + self.path[6:], "w").close()
            self.close_connection = True
            return
        if self.path == "/stall":
            self.send_response(200); self.send_header("Content-Length", "10"); self.end_headers()
            self.wfile.write(b"12345"); self.wfile.flush()
            self.connection.recv(1)
            self.close_connection = True
            return
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def do_POST(self):
        length = int(self.headers["Content-Length"])
        first = self.rfile.read(5)
        with open("/tmp/first", "wb") as out:
            out.write(first)
        rest = self.rfile.read(length - 5)
        body = str(len(first) + len(rest)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass

def huge_frame(conn):
    accept_websocket(conn)
    conn.sendall(bytes([0x82, 127]) + (2 ** 40).to_bytes(8, "big"))
    try:
        for _ in range(8):
            conn.sendall(bytes(1024 * 1024))
    except OSError:
        pass

def websockets():
    listener = socket.socket(); listener.bind(("127.0.0.1", 8765)); listener.listen()
    while True:
        threading.Thread(target=huge_frame, args=(listener.accept()[0],), daemon=True).start()

threading.Thread(target=websockets, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", 8000), Answer).serve_forever()
"""
)

#: Waits until something listens on 8000 and 8765 on the sandbox's loopback.
LISTENING = (
    "import socket, time\n"
    "for port in (8000, 8765):\n"
    "    for _ in range(200):\n"
    "        try: socket.create_connection(('127.0.0.1', port), 0.2).close(); break\n"
    "        except OSError: time.sleep(0.025)\n"
    "    else: raise SystemExit(1)\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[RuntimeServer]:
    """A root server whose proxy takes 3 connections at once, 2 to any one sandbox."""
    require_sandbox_network()
    started = start_server(
        "process",
        api_key="proxy-bounds-key",
        extra_args=["--proxy-connections", "3", "--proxy-connections-per-sandbox", "2"],
    )
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="module")
def hasty_server() -> Iterator[RuntimeServer]:
    """A root server whose proxy waits 1 s for an answer to start and 1 s in its pauses."""
    require_sandbox_network()
    started = start_server("process", extra_args=["--proxy-first-byte-timeout", "1", "--proxy-idle-timeout", "1"])
    try:
        yield started
    finally:
        started.close()


def serving(porter: Porter, name: str) -> Sandbox:
    """A sandbox named ``name`` running ``APP``, once it listens."""
    sandbox = porter.sandboxes.create(
        image="python:3.12-slim",
        name=name,
        command=["python3", "-c", APP],
        networking=[{"port": 8000}, {"port": 8765}],
    )
    assert sandbox.exec(["python3", "-c", LISTENING]).exit_code == 0
    return sandbox


def server_port(server: RuntimeServer) -> int:
    """The port the server listens on."""
    return int(server.url.rstrip("/").rsplit(":", 1)[1])


def send_head(server: RuntimeServer, host: str, head: str, body: bytes = b"") -> socket.socket:
    """A raw connection to the server that sent ``head`` (with ``Host: host``) and ``body``."""
    raw = socket.create_connection(("127.0.0.1", server_port(server)), timeout=10)
    lines = head.split("\n")
    raw.sendall(("\r\n".join([lines[0], f"Host: {host}", *lines[1:]]) + "\r\n\r\n").encode() + body)
    return raw


def answer_on(raw: socket.socket, within: float = 5) -> tuple[int, bytes]:
    """The status and body of the answer on ``raw``; ``TimeoutError`` if it does not come within ``within`` s."""
    raw.settimeout(within)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += raw.recv(4096)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 "), head
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(body) < length:
        body += raw.recv(4096)
    return int(head.split(b" ", 2)[1]), body


def sandbox_file(sandbox: Sandbox, path: str, within: float = 5) -> str | None:
    """The text of ``path`` in the sandbox once it exists (polled for ``within`` seconds), or None."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = sandbox.exec(["cat", path])
        if result.exit_code == 0:
            return result.stdout
        time.sleep(0.1)
    return None


def test_an_unserved_sandbox_or_port_is_answered_before_the_body(server: RuntimeServer, unique_name: str) -> None:
    with server.client() as porter:
        sandbox = serving(porter, unique_name)
        try:
            # A 60 MiB upload declared, 1 KiB sent: the answer comes without waiting for (or keeping) the rest.
            head = "POST /upload HTTP/1.1\nContent-Length: 62914560"
            for host, status in [
                (f"1-nosuchsandbox.localhost:{server_port(server)}", 404),
                (f"8001-{unique_name}.localhost", 404),  # a port it did not list
            ]:
                with send_head(server, host, head, b"x" * 1024) as raw:
                    assert answer_on(raw)[0] == status, host
        finally:
            sandbox.terminate()


def test_a_request_body_reaches_the_sandbox_as_it_is_sent(server: RuntimeServer, unique_name: str) -> None:
    with server.client() as porter:
        sandbox = serving(porter, unique_name)
        try:
            host = f"8000-{unique_name}.localhost"
            with send_head(server, host, "POST /upload HTTP/1.1\nContent-Length: 200005", b"hello") as raw:
                # The app has the first bytes while the rest is still to come: the proxy gathers nothing.
                assert sandbox_file(sandbox, "/tmp/first") == "hello"
                raw.sendall(b"y" * 200_000)
                assert answer_on(raw) == (200, b"200005")
        finally:
            sandbox.terminate()


def test_proxied_connections_are_bounded_per_sandbox_and_in_all(server: RuntimeServer, unique_name: str) -> None:
    with server.client() as porter:
        first = serving(porter, unique_name)
        second = serving(porter, f"{unique_name}-b")
        held: list[socket.socket] = []
        try:
            host, other = f"8000-{unique_name}.localhost", f"8000-{unique_name}-b.localhost"
            held += [send_head(server, host, f"GET /hang/a{n} HTTP/1.1") for n in range(2)]
            time.sleep(0.5)  # both reach the app, which holds them
            with send_head(server, host, "GET / HTTP/1.1") as raw:
                assert answer_on(raw)[0] == 503  # the sandbox's 2 are in use
            with httpx.Client(base_url=server.url, timeout=10) as http:
                assert http.get("/", headers={"Host": other}).text == "ok"  # another sandbox is served
                held.append(send_head(server, other, "GET /hang/b HTTP/1.1"))
                time.sleep(0.5)
                busy = http.get("/", headers={"Host": other})
                assert busy.status_code == 503 and "3 connections" in busy.json()["error"], busy.text
                # The API is not the proxy's: it answers whatever the proxy holds.
                assert http.get("/healthz").status_code == 200
                for raw in held:
                    raw.close()
                assert sandbox_file(first, "/tmp/closed-a1") == ""
                assert sandbox_file(second, "/tmp/closed-b") == ""
                assert http.get("/", headers={"Host": host}).text == "ok"  # the count went down again
        finally:
            for raw in held:
                raw.close()
            first.terminate()
            second.terminate()


def test_a_client_that_goes_away_closes_the_connection_to_the_sandbox(server: RuntimeServer, unique_name: str) -> None:
    with server.client() as porter:
        sandbox = serving(porter, unique_name)
        try:
            raw = send_head(server, f"8000-{unique_name}.localhost", "GET /hang/gone HTTP/1.1")
            time.sleep(0.5)
            raw.close()
            # Without waiting for the app, which would never answer.
            assert sandbox_file(sandbox, "/tmp/closed-gone") == ""
        finally:
            sandbox.terminate()


def test_a_websocket_message_over_16_mib_from_a_sandbox_closes_the_socket(
    server: RuntimeServer, unique_name: str
) -> None:
    with server.client() as porter:
        sandbox = serving(porter, unique_name)
        try:
            raw = socket.create_connection(("127.0.0.1", server_port(server)))
            url = f"ws://8765-{unique_name}.localhost:{server_port(server)}/"
            with connect(url, sock=raw, open_timeout=10) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
        finally:
            sandbox.terminate()


def test_a_silent_or_stalled_app_is_timed_out(hasty_server: RuntimeServer, unique_name: str) -> None:
    with hasty_server.client() as porter:
        sandbox = serving(porter, unique_name)
        try:
            with httpx.Client(base_url=hasty_server.url, timeout=10) as http:
                host = f"8000-{unique_name}.localhost"
                silent = http.get("/hang/silent", headers={"Host": host})
                assert silent.status_code == 504 and "in time" in silent.json()["error"], silent.text
                assert sandbox_file(sandbox, "/tmp/closed-silent") == ""
                with pytest.raises(httpx.RemoteProtocolError):
                    http.get("/stall", headers={"Host": host})  # half an answer, then cut off
        finally:
            sandbox.terminate()

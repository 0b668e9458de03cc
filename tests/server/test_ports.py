"""Sandboxes' ports served by the server's proxy (``networking``): HTTP and WebSocket, by Host header.

Real sandboxes on a root server with bubblewrap, slirp4netns and nftables;
their apps run with the host's python3, and the tests reach them only
through the server on loopback.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from netns_hosts import require_sandbox_network
from runtime_servers import RuntimeServer, start_server
from sandbox_apps import WS_ACCEPT
from websockets.sync.client import connect

from porter_sandbox import BadRequestError, Porter, Sandbox

pytestmark = pytest.mark.bwrap

#: An HTTP server on the sandbox's loopback only, answering each GET with its path and a header it got.
HTTP_APP = r"""
import http.server, sys
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s %s" % (self.path, self.headers.get("X-Test", ""))).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))[::-1]
        self.send_response(201); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Answer).serve_forever()
"""

#: A WebSocket echo server in the standard library alone (text frames up to 125 bytes: enough here).
WS_APP = (
    WS_ACCEPT
    + r"""
import socket, sys, threading
def serve(conn):
    accept_websocket(conn)
    while True:
        first, second = conn.recv(1), conn.recv(1)
        if not first:
            return
        opcode, length = first[0] & 15, second[0] & 127
        mask = conn.recv(4)
        data = b""
        while len(data) < length:
            data += conn.recv(length - len(data))
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        if opcode == 8:
            conn.sendall(b"\x88\x00"); return
        reply = b"echo " + data
        conn.sendall(bytes([0x81, len(reply)]) + reply)
listener = socket.socket(); listener.bind(("0.0.0.0", int(sys.argv[1]))); listener.listen()
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
"""
)


@pytest.fixture(scope="module", params=["fresh", "pooled"])
def server(request: pytest.FixtureRequest) -> Iterator[RuntimeServer]:
    """A root server (with a key: served ports need none); twice, the second keeping sandboxes started."""
    require_sandbox_network()
    pool = ["--pool", "2"] if request.param == "pooled" else []
    started = start_server("process", api_key="ports-test-key", extra_args=pool)
    try:
        yield started
        if pool:
            assert "started from the pool" in started.log(), "no sandbox came from the pool"
    finally:
        started.close()


@pytest.fixture
def porter(server: RuntimeServer) -> Iterator[Porter]:
    """A client for the server."""
    with server.client() as client:
        yield client


def server_port(server: RuntimeServer) -> int:
    """The port the server listens on."""
    return int(server.url.rstrip("/").rsplit(":", 1)[1])


#: Waits until something listens on the port of argv[1] on the sandbox's loopback.
LISTENING = (
    "import socket, sys, time\n"
    "for _ in range(200):\n"
    "    try: socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2).close(); break\n"
    "    except OSError: time.sleep(0.025)\n"
    "else: sys.exit(1)\n"
)


def wait_listening(sandbox: Sandbox, port: int) -> None:
    """Wait until something listens on ``port`` inside the sandbox."""
    assert sandbox.exec(["python3", "-c", LISTENING, str(port)]).exit_code == 0


def test_http_is_served_by_host_name_with_the_url_in_the_status(
    porter: Porter, server: RuntimeServer, unique_name: str
) -> None:
    sandbox = porter.sandboxes.create(
        image="python:3.12-slim",
        name=unique_name,
        command=["python3", "-c", HTTP_APP, "8000"],
        networking=[{"port": 8000, "domains": [{"domain": "app.example.com", "visibility": "private"}]}],
    )
    try:
        wait_listening(sandbox, 8000)
        host = f"8000-{unique_name}.localhost:{server_port(server)}"
        assert sandbox.refresh().host == f"http://{host}/"
        # The domain is recorded and reported in the sandbox's log: there is no ingress to serve it.
        said = [line.line for line in sandbox.logs()]
        assert any("app.example.com (private visibility)" in line and host in line for line in said), said
        with httpx.Client(base_url=server.url, headers={"Host": host}, timeout=10) as http:
            got = http.get("/some/path?q=1", headers={"X-Test": "passed"})
            assert (got.status_code, got.text) == (200, "/some/path?q=1 passed")
            posted = http.post("/", content=b"abc" * 1000)
            assert (posted.status_code, posted.content) == (201, b"cba" * 1000)
            # A port it did not list is not served, even with something listening there.
            other = http.get("/", headers={"Host": f"8001-{unique_name}.localhost"})
            assert other.status_code == 404, other.text
    finally:
        sandbox.terminate()


def test_a_websocket_is_relayed_both_ways(porter: Porter, server: RuntimeServer, unique_name: str) -> None:
    sandbox = porter.sandboxes.create(
        image="python:3.12-slim",
        name=unique_name,
        command=["python3", "-c", WS_APP, "8765"],
        networking=[{"port": 8765}],
    )
    try:
        wait_listening(sandbox, 8765)
        port = server_port(server)
        raw = socket.create_connection(("127.0.0.1", port))
        with connect(f"ws://8765-{unique_name}.localhost:{port}/echo", sock=raw, open_timeout=10) as ws:
            for text in ("hello", "again"):
                ws.send(text)
                assert ws.recv(timeout=10) == f"echo {text}"
    finally:
        sandbox.terminate()


def test_privileged_ports_are_refused(porter: Porter) -> None:
    with pytest.raises(BadRequestError, match="privileged"):
        porter.sandboxes.create(image="python:3.12-slim", networking=[{"port": 80}])


#: Fetches the URL of argv[1]; prints what it read, or "refused" when the connection was refused or reset.
FETCH = r"""
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except OSError as error:
    print("refused", error)
"""


def test_an_internal_address_is_reached_from_another_sandbox_and_nothing_else_is(
    porter: Porter, server: RuntimeServer
) -> None:
    # First: on a server keeping sandboxes started, this one is a pooled one (its policy is the relay's too).
    closed = porter.sandboxes.create(image="python:3.12-slim", egress={"allowed_destinations": []})
    first = porter.sandboxes.create(
        image="python:3.12-slim",
        command=["python3", "-c", HTTP_APP, "8000"],
        networking=[{"port": 8000, "internal": True}],
    )
    public_only = porter.sandboxes.create(
        image="python:3.12-slim",
        command=["python3", "-c", HTTP_APP, "8000"],
        networking=[{"port": 8000}],
    )
    second = porter.sandboxes.create(image="python:3.12-slim")
    try:
        wait_listening(first, 8000)
        wait_listening(public_only, 8000)
        internal = first.refresh().internal_address
        assert internal is not None and internal.startswith("100.80.") and internal.endswith(":8000"), internal
        address = internal.rsplit(":", 1)[0]
        assert public_only.refresh().internal_address is None
        assert first.refresh().host == ""
        # An internal port is not served through the proxy.
        name = first.refresh().name
        with httpx.Client(base_url=server.url, headers={"Host": f"8000-{name}.localhost"}, timeout=10) as http:
            assert http.get("/").status_code == 404
        reached = second.exec(["python3", "-c", FETCH, f"http://{address}:8000/hello"])
        assert reached.stdout.strip() == "/hello", reached
        # A port the first did not list, the next address (held by no sandbox), and a sandbox whose
        # egress policy does not list the address: all refused.
        for sandbox, url in [
            (second, f"http://{address}:8001/"),
            (second, f"http://{address[: address.rindex('.')]}.{int(address.rsplit('.', 1)[1]) + 1}:8000/"),
            (closed, f"http://{address}:8000/"),
        ]:
            refused = sandbox.exec(["python3", "-c", FETCH, url])
            assert refused.stdout.startswith("refused"), (url, refused)
    finally:
        for sandbox in (first, public_only, second, closed):
            sandbox.terminate()


#: Listens on port argv[2] with no backlog and never accepts, then opens argv[3] connections to its own
#: internal address argv[1]; prints how many the relay had reset after 3 s and after 9 s.
RELAY_FLOOD = r"""
import errno, json, select, socket, sys, time
address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
listener = socket.socket(); listener.bind(("0.0.0.0", port)); listener.listen(0)
connections = []
for _ in range(count):  # one after the other, so that none waits on a full accept queue of the relay
    connection = socket.socket(); connection.setblocking(False)
    connection.connect_ex((address, port)); connections.append(connection)
    select.select([], [connection], [], 2)
start = time.monotonic()
reset, said = set(), {}
for mark in (3, 9):
    while time.monotonic() - start < mark:
        readable, _, _ = select.select([c for c in connections if c not in reset], [], [], 0.2)
        for connection in readable:
            try:
                if connection.recv(1) == b"":
                    reset.add(connection)
            except OSError:
                reset.add(connection)
    said[mark] = len(reset)
print(json.dumps(said))
"""


def test_a_sandbox_cannot_make_the_relay_hold_connections_without_bound(porter: Porter) -> None:
    """Connections to an internal port that never accepts are counted from the start and given up after seconds.

    Past the per-sandbox limit (256) the relay resets at once, and the rest are reset once their
    connection times out, instead of each holding two of the server's descriptors for minutes.
    """
    sandbox = porter.sandboxes.create(image="python:3.12-slim", networking=[{"port": 8000, "internal": True}])
    try:
        assert sandbox.exec(["true"]).exit_code == 0  # running: its internal address is reported
        internal = sandbox.refresh().internal_address
        assert internal is not None
        result = sandbox.exec(["python3", "-c", RELAY_FLOOD, internal.rsplit(":", 1)[0], "8000", "320"], timeout=60)
        assert result.exit_code == 0, result.stderr
        said = json.loads(result.stdout)
        assert said["3"] >= 320 - 256 - 8, said  # over the limit: reset at once
        assert said["9"] >= 320 - 8, said  # the rest: given up after the connect timeout (a few got through)
    finally:
        sandbox.terminate()


def test_an_internal_address_serves_the_internal_ports_only(porter: Porter) -> None:
    """A port the sandbox serves through the proxy is not reached at its internal address."""
    first = porter.sandboxes.create(
        image="python:3.12-slim",
        command=["python3", "-c", HTTP_APP, "8001"],
        networking=[{"port": 8000, "internal": True}, {"port": 8001}],
    )
    second = porter.sandboxes.create(image="python:3.12-slim")
    try:
        wait_listening(first, 8001)
        internal = first.refresh().internal_address
        assert internal is not None
        refused = second.exec(["python3", "-c", FETCH, f"http://{internal.rsplit(':', 1)[0]}:8001/"])
        assert refused.stdout.startswith("refused"), refused
    finally:
        for sandbox in (first, second):
            sandbox.terminate()

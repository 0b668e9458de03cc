"""Code written for Porter's published client runs unchanged on ours: ``porter_user_code.py``, run by both clients.

The server is a real local one (``configured``, on each runtime); between it
and the clients sits a loopback proxy that passes everything through as it
is, except that it answers a create as Porter's API does, ``202`` with only
``{id, name}`` (our server answers ``201`` with the mounts too). So both
clients meet a phase-less create handle, ``sandbox.phase.value`` after a
refresh, and an exec that runs longer than their 30 s timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from runtime_servers import RuntimeServer

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("porter_user_code.py")
SDK = Path(__file__).resolve().parents[2] / "src" / "porter_sandbox"
# Hop-by-hop headers, and those httpx sets itself from the body it sends or has decoded.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class PorterLikeProxy:
    """A loopback HTTP proxy to ``upstream`` that answers each sandbox create with ``202 {id, name}``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=None)
        self.accepted_creates = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                assert "chunked" not in (self.headers.get("transfer-encoding") or ""), "send a sized body"
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
                answer = proxy.upstream.request(self.command, self.path, headers=headers, content=body)
                status, content = answer.status_code, answer.content
                if self.command == "POST" and self.path.split("?")[0] == "/v1/sandbox/run" and status == 201:
                    created = answer.json()
                    status, content = 202, json.dumps({"id": created["id"], "name": created["name"]}).encode()
                    proxy.accepted_creates += 1
                self.send_response(status)
                for key, value in answer.headers.items():
                    if key.lower() not in _NOT_FORWARDED:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass  # the server's own log says what happened

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()


@pytest.fixture
def proxy(configured: RuntimeServer) -> Iterator[PorterLikeProxy]:
    started = PorterLikeProxy(configured.url)
    try:
        yield started
    finally:
        started.close()


def test_code_written_for_porters_client_runs_unchanged_on_ours(
    reference_python: Path, configured: RuntimeServer, proxy: PorterLikeProxy, tmp_path: Path
) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "PORTER_"))}
    argv = [str(SCRIPT), proxy.url, configured.image, "team", "long"]
    # Both at once: the same code, the same server, each client in an interpreter that sees only its own package.
    runs = {
        client: subprocess.Popen(
            [str(python), "-I", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=environment,
        )
        for client, python in (("published", reference_python), ("ours", Path(sys.executable)))
    }
    outputs = {client: run.communicate(timeout=280) for client, run in runs.items()}
    for client, run in runs.items():
        out, err = outputs[client]
        assert run.returncode == 0, f"{client} client:\n{out}\n{err}"
        lines = out.splitlines()
        used = Path(lines[0].removeprefix("client ")).parent
        assert (used == SDK) == (client == "ours"), f"{client} client ran {used}"
        checks = [line.removeprefix("ok ") for line in lines if line.startswith("ok ")]
        assert checks == ["health", "long exec", "sandboxes", "volumes", "snapshots", "env_groups", "async"], out
    assert proxy.accepted_creates == 2 * 6  # the six creates of each client, each answered 202

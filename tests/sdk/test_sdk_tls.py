"""TLS: the SDK's clients trust what httpx trusts by default, loaded on the first handshake rather than up front.

Against a real TLS server on loopback, with a certificate from a test
authority (``trustme``) issued for ``localhost`` only.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from porter_sandbox import APIConnectionError, AsyncPorter, ConfigurationError, Porter, _tls

REFUSED = "CERTIFICATE_VERIFY_FAILED"
#: The test certificate authority: it issues the TLS server's certificate.
AUTHORITY = trustme.CA()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the handshakes some tests expect to be refused


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test authority's certificate, in a PEM file."""
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    AUTHORITY.cert_pem.write_to_path(str(pem))
    return pem


def _serve(context: ssl.SSLContext | None) -> Iterator[int]:
    server = Quiet(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def tls_port() -> Iterator[int]:
    """A TLS server on loopback whose certificate names ``localhost`` (and not 127.0.0.1)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    AUTHORITY.issue_cert("localhost").configure_cert(context)
    yield from _serve(context)


@pytest.fixture(scope="module")
def plain_port() -> Iterator[int]:
    """The same server without TLS."""
    yield from _serve(None)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each loading of certificates into an SDK client's context, recorded (and done); no trust from the env."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    seen: list[dict[str, Any]] = []
    load = ssl.SSLContext.load_verify_locations

    def recording(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        seen.append(kwargs)
        load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", recording)
    return seen


def test_an_unknown_authority_is_refused_and_the_default_bundle_loaded_once(
    tls_port: int, loads: list[dict[str, Any]]
) -> None:
    import certifi

    with Porter(base_url=f"https://localhost:{tls_port}", max_retries=0) as porter:
        assert loads == []  # nothing loaded before a handshake needs it
        for _ in range(2):
            with pytest.raises(APIConnectionError, match=REFUSED):
                porter.health()
    assert loads == [{"cafile": certifi.where()}]


def test_the_authority_of_ssl_cert_file_is_trusted(
    tls_port: int, authority: Path, loads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    with Porter(base_url=f"https://localhost:{tls_port}", max_retries=0) as porter:
        assert porter.health().status == "ok"
        assert porter.health().status == "ok"
    assert len(loads) == 1


def test_the_authority_of_ssl_cert_dir_is_trusted(
    tls_port: int, authority: Path, loads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl names the entries of a certificate directory")
    named = subprocess.run([openssl, "x509", "-hash", "-noout", "-in", str(authority)], capture_output=True, text=True)
    (tmp_path / f"{named.stdout.strip()}.0").write_bytes(authority.read_bytes())
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with Porter(base_url=f"https://localhost:{tls_port}", max_retries=0) as porter:
        assert porter.health().status == "ok"


def test_a_host_the_certificate_does_not_name_is_refused(
    tls_port: int, authority: Path, loads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    with (
        Porter(base_url=f"https://127.0.0.1:{tls_port}", max_retries=0) as porter,
        pytest.raises(APIConnectionError, match=REFUSED),
    ):
        porter.health()


def test_the_async_client_trusts_the_same(
    tls_port: int, authority: Path, loads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def health(base_url: str) -> str:
        async with AsyncPorter(base_url=base_url, max_retries=0) as porter:
            return (await porter.health()).status

    with pytest.raises(APIConnectionError, match=REFUSED):
        asyncio.run(health(f"https://localhost:{tls_port}"))
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    assert asyncio.run(health(f"https://localhost:{tls_port}")) == "ok"
    with pytest.raises(APIConnectionError, match=REFUSED):
        asyncio.run(health(f"https://127.0.0.1:{tls_port}"))


def test_a_client_of_an_http_url_loads_no_certificates(plain_port: int, loads: list[dict[str, Any]]) -> None:
    with Porter(base_url=f"http://127.0.0.1:{plain_port}", max_retries=0) as porter:
        assert porter.health().status == "ok"

    async def health() -> str:
        async with AsyncPorter(base_url=f"http://127.0.0.1:{plain_port}", max_retries=0) as porter:
            return (await porter.health()).status

    assert asyncio.run(health()) == "ok"
    assert loads == []


def test_the_context_has_httpxs_default_settings_but_its_trust() -> None:
    ours = _tls.LazyTrust().context
    theirs = httpx.create_ssl_context()
    for name in ("verify_mode", "check_hostname", "minimum_version", "maximum_version", "options", "verify_flags"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert [c["name"] for c in ours.get_ciphers()] == [c["name"] for c in theirs.get_ciphers()]
    assert ours.cert_store_stats()["x509_ca"] == 0 < theirs.cert_store_stats()["x509_ca"]


def test_an_unreadable_ssl_cert_file_is_a_configuration_error_at_once(
    tls_port: int, loads: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with (
        Porter(base_url=f"https://localhost:{tls_port}") as porter,
        pytest.raises(ConfigurationError, match=r"SSL_CERT_FILE=.*missing\.pem"),
    ):
        porter.health()

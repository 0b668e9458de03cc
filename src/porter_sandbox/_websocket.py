"""A small WebSocket client (RFC 6455), sync, for the command line's terminals: no dependency beyond the standard library.

It does what a terminal needs and no more: the opening handshake (with the
client's headers, so the API key goes along), binary and text messages both
ways, answering pings, and the closing handshake. It speaks ``ws://`` and
``wss://`` (TLS with the system's certificates); it does not go through an
HTTP proxy. A refused upgrade raises the SDK error for its status, as any
other request would.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import ssl
import struct
import threading
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from ._exceptions import APIConnectionError, SandboxError, error_for_status

__all__ = ["WebSocket", "WebSocketClosed"]

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT: Final = 0x1
BINARY: Final = 0x2
_CONTINUATION: Final = 0x0
_CLOSE: Final = 0x8
_PING: Final = 0x9
_PONG: Final = 0xA
#: The largest message taken from the server (a terminal's output comes in pieces of at most 64 KiB).
MAX_MESSAGE: Final = 16 * 1024 * 1024


class WebSocketClosed(SandboxError):
    """The WebSocket closed; ``code`` and ``reason`` are the server's."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"the connection closed ({code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class WebSocket:
    """One client connection: ``send`` and ``receive`` messages until ``close``."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._sending = threading.Lock()
        self.closed = False

    @classmethod
    def connect(cls, url: str, headers: Mapping[str, str], timeout: float | None) -> WebSocket:
        """Open ``url`` (``http(s)://`` or ``ws(s)://``): the handshake, then a connection with no read timeout."""
        parts = urlsplit(url)
        secure = parts.scheme in ("https", "wss")
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            if secure:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except OSError as error:
            raise APIConnectionError(f"could not connect to {host}:{port}: {error}") from error
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            connection = cls(sock)
            status, answer_headers, body = connection._read_answer()
        except OSError as error:
            sock.close()
            raise APIConnectionError(f"the connection to {host}:{port} failed: {error}") from error
        if status != 101:
            sock.close()
            raise error_for_status(status, body)
        expected = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        if answer_headers.get("sec-websocket-accept") != expected:
            sock.close()
            raise SandboxError("the server did not accept the WebSocket properly (wrong Sec-WebSocket-Accept)")
        sock.settimeout(None)
        return connection

    def _read_answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if status != 101:
            length = int(headers.get("content-length", "0") or 0)
            while len(self._buffer) < length:
                self._fill()
            body, self._buffer = self._buffer[:length], self._buffer[length:]
        return status, headers, body

    def _fill(self) -> None:
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        self._buffer += data

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def send(self, data: bytes | str) -> None:
        """Send one message: text for ``str``, binary for ``bytes``."""
        if isinstance(data, str):
            self._send_frame(TEXT, data.encode())
        else:
            self._send_frame(BINARY, data)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        mask = os.urandom(4)
        with self._sending:
            self._sock.sendall(head + mask + _masked(payload, mask))

    def receive(self) -> bytes | str:
        """The next message (text as ``str``); :class:`WebSocketClosed` once the server closed."""
        kind = 0
        parts: list[bytes] = []
        size = 0
        while True:
            first, second = self._take(2)
            opcode, final = first & 0x0F, bool(first & 0x80)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._take(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._take(8))[0]
            mask = self._take(4) if second & 0x80 else b""
            if length > MAX_MESSAGE or size + length > MAX_MESSAGE:
                raise SandboxError(f"the server sent a message over {MAX_MESSAGE} bytes")
            payload = self._take(length)
            if mask:
                payload = _masked(payload, mask)
            if opcode == _PING:
                self._send_frame(_PONG, payload)
                continue
            if opcode == _PONG:
                continue
            if opcode == _CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                reason = payload[2:].decode("utf-8", "replace")
                self._answer_close(payload[:2])
                raise WebSocketClosed(code, reason)
            if opcode != _CONTINUATION:
                kind = opcode
            parts.append(payload)
            size += length
            if final:
                data = b"".join(parts)
                return data.decode("utf-8", "replace") if kind == TEXT else data

    def _answer_close(self, code: bytes) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self._send_frame(_CLOSE, code)
            self._sock.close()

    def close(self, code: int = 1000) -> None:
        """Close the connection (saying so to the server first, when it still listens)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._send_frame(_CLOSE, struct.pack("!H", code))
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._sock.close()


def _masked(payload: bytes, mask: bytes) -> bytes:
    """``payload`` XOR the repeated ``mask`` (as one big integer: quick enough for a terminal's traffic)."""
    if not payload:
        return b""
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")

"""The Docker engine's streams: hijacked exec connections, multiplexed frames, timestamped log lines.

Also mends one leak of the ``docker`` package: a failed connection attempt
to the engine's unix socket leaves that socket open. This runtime keeps
calling a dead engine until it comes back, so it would leak a descriptor per
attempt; ``UnixHTTPConnection.connect`` is replaced by one that closes it.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import socket
import struct
from collections.abc import Iterator
from typing import Protocol, cast

from docker.transport.unixconn import UnixHTTPConnection
from docker.types.daemon import CancellableStream


def _connect_closing_on_failure(self: UnixHTTPConnection) -> None:
    """``UnixHTTPConnection.connect``, closing its socket when the connection fails.

    The docker package's own leaves the socket of a failed attempt open (one
    per call while the engine is down); this runtime keeps calling a dead
    engine until it comes back, so it would leak a descriptor per attempt.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(self.timeout)
        sock.connect(self.unix_socket)
    except BaseException:
        sock.close()
        raise
    self.sock = sock


UnixHTTPConnection.connect = _connect_closing_on_failure  # type: ignore[method-assign]


class _Socket(Protocol):
    """The part of a socket a hijacked stream uses."""

    def recv(self, size: int, /) -> bytes: ...
    def sendall(self, data: bytes, /) -> None: ...
    def settimeout(self, value: float | None, /) -> None: ...
    def shutdown(self, how: int, /) -> None: ...


def _recv_exactly(sock: HijackedStream, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size > 0:
        try:
            chunk = sock.recv(min(size, 1 << 16))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def frames(sock: HijackedStream) -> Iterator[tuple[int, bytes]]:
    """The (stream number, bytes) frames of a multiplexed attach stream, until it ends."""
    while True:
        header = _recv_exactly(sock, 8)
        if header is None:
            return
        stream, size = struct.unpack(">BxxxL", header)
        payload = _recv_exactly(sock, size) if size else b""
        if payload is None:
            return
        yield stream, payload


class HijackedStream:
    """A stream the engine hijacked from an HTTP request (attach, exec), read without a timeout.

    The docker package answers a socket-like object (over a unix socket, a
    ``SocketIO`` around the socket, holding the HTTP response); reads and
    shutdowns go to the socket under it, so another thread can end a blocked read.
    """

    def __init__(self, raw: object) -> None:
        self._raw = raw
        self._sock = cast(_Socket, getattr(raw, "_sock", raw))
        self._sock.settimeout(None)

    def recv(self, size: int) -> bytes:
        return self._sock.recv(size)

    def send_all(self, data: bytes) -> None:
        """Write ``data`` to the process's stdin (an exec started with one)."""
        self._sock.sendall(data)

    def close_write(self) -> None:
        """Close the process's stdin: it reads end of file."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        # Each holds a reference to the socket; it is closed once all are.
        for closable in (self._raw, getattr(self._raw, "_response", None), self._sock):
            close = getattr(closable, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()


_TIMESTAMP = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


def split_timestamp(frame: bytes) -> tuple[int, bytes]:
    """A log frame's engine timestamp (ns since the epoch; 0 when it has none) and its payload."""
    head, space, payload = frame.partition(b" ")
    match = _TIMESTAMP.fullmatch(head)
    if not space or match is None:
        return 0, frame
    moment = datetime.datetime.fromisoformat(match.group(1).decode() + "+00:00")
    offset = match.group(3).decode()
    if offset != "Z":
        moment -= datetime.timedelta(hours=int(offset[:3]), minutes=int(offset[0] + offset[4:]))
    fraction = (match.group(2) or b"").decode().ljust(9, "0")
    return int(moment.timestamp()) * 1_000_000_000 + int(fraction), payload


def close_stream(stream: CancellableStream[bytes]) -> None:
    """End a log stream and free its connection; only from the thread that reads it."""
    # CancellableStream.close shuts the socket down but leaves the HTTP
    # response (and the file over the socket) open; both are closed here.
    with contextlib.suppress(Exception):
        stream.close()
    response = getattr(stream, "_response", None)
    close = getattr(response, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            close()

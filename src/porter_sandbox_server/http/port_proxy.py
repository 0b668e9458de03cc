"""Sandboxes' ports served through the server: ``PortProxy``, in front of the API app.

A request whose ``Host`` is ``<port>-<name>.localhost[:<server port>]`` (browsers
and curl resolve every ``*.localhost`` to this machine's loopback, no
``/etc/hosts`` needed) goes to ``port`` of sandbox ``name``, if it asked
for that port in ``networking``; any other request is the API's. The
connection is made inside the sandbox's network namespace, to its loopback
(``Runtime.open_port``), so an app that listens on ``127.0.0.1`` is served
as well as one on ``0.0.0.0``.

Served ports need no API key: as on Porter, where a port is served
publicly, whoever reaches the server's address reaches them (a browser sends
no bearer key). So what a request may hold of the server is bounded
(``ProxyLimits``), and nothing is read of it before its sandbox and port are
known to be served (404 or 502 at once otherwise):

- HTTP goes through h11, one request per upstream connection; the request
  body is streamed to the sandbox as it arrives (never gathered), the answer
  streamed back. The answer's head must come within ``first_byte_timeout``
  and its body may pause at most ``idle_timeout``; a client that goes away
  closes the upstream connection at once.
- A WebSocket is accepted once the sandbox's app accepted it; its messages
  are passed both ways until either side closes, each at most
  ``ws_max_size`` bytes (larger closes the connection with 1009).
- At most ``max_connections`` proxied connections at once, and
  ``max_per_sandbox`` to any one sandbox; past that a request answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import h11
import websockets
from websockets.asyncio.client import ClientConnection, connect

from .. import errors
from ..core.service import SandboxService
from ..runtimes.base import SandboxGone, Unsupported
from .proxy_limits import ProxyLimits

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: ``<port>-<sandbox name>.localhost``, with the server's port or without.
_HOST = re.compile(r"^(\d{1,5})-([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.localhost(?::\d+)?$")
#: What is read from a sandbox's port at once.
_CHUNK = 65536
_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"content-length",
}


class PortProxy:
    """The ASGI app that serves sandboxes' ports by ``Host`` and hands everything else to ``app``."""

    def __init__(self, app: App, service: SandboxService, limits: ProxyLimits | None = None) -> None:
        self.app = app
        self.service = service
        self.limits = limits or ProxyLimits()
        self._open_connections: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = _target(scope) if scope["type"] in ("http", "websocket") else None
        if target is None:
            await self.app(scope, receive, send)
            return
        port, name = target
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, port, name)
        else:
            await self._http(scope, receive, send, port, name)

    @contextlib.asynccontextmanager
    async def _connection(self, port: int, name: str) -> AsyncIterator[Any]:
        """A connection to the sandbox's port, counted while open; ``errors.ApiError`` says why there is none."""
        sandbox_id = self.service.served_port(name, port)
        if sum(self._open_connections.values()) >= self.limits.max_connections:
            raise Busy(
                f"the server already proxies {self.limits.max_connections} connections to sandboxes' ports; "
                "retry when some have ended"
            )
        if self._open_connections[sandbox_id] >= self.limits.max_per_sandbox:
            raise Busy(
                f"sandbox {name!r} already has {self.limits.max_per_sandbox} proxied connections open; "
                "retry when some have ended"
            )
        self._open_connections[sandbox_id] += 1
        try:
            try:
                connection = await self.service.runtime.open_port(sandbox_id, port)
            except (SandboxGone, Unsupported) as error:
                raise errors.NotFound(
                    f"port {port} of sandbox {name!r} is not served: {error} (a port is served while the sandbox "
                    "runs, when it listed the port in networking)"
                ) from None
            except OSError as error:
                raise BadGateway(
                    f"nothing answers on port {port} of sandbox {name!r}: {error.strerror or error}"
                ) from None
            try:
                yield connection
            finally:
                connection.close()
        finally:
            self._open_connections[sandbox_id] -= 1
            if self._open_connections[sandbox_id] <= 0:
                del self._open_connections[sandbox_id]

    async def _http(self, scope: Scope, receive: Receive, send: Send, port: int, name: str) -> None:
        try:
            async with self._connection(port, name) as connection:
                reader, writer = await asyncio.open_connection(sock=connection, limit=_CHUNK)
                try:
                    await self._exchange(scope, receive, send, reader, writer)
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        except errors.ApiError as error:
            await _answer(send, error.status_code, error.message)

    async def _exchange(
        self, scope: Scope, receive: Receive, send: Send, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Stream the request upstream with h11 and its answer back, until either side is done or gone."""
        client = h11.Connection(our_role=h11.CLIENT)
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        headers = [(key, value) for key, value in scope["headers"] if key.lower() not in _HOP_BY_HOP]
        length = _header(scope, b"content-length")
        if length is not None:
            headers.append((b"content-length", length.encode()))
        elif "chunked" in (_header(scope, b"transfer-encoding") or "").lower():
            headers.append((b"transfer-encoding", b"chunked"))
        headers.append((b"connection", b"close"))
        try:
            writer.write(client.send(h11.Request(method=scope["method"], target=target, headers=headers)))
            # The body goes upstream as it comes; the server's --idle-timeout bounds a client's pauses.
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                if message.get("body"):
                    writer.write(client.send(h11.Data(data=message["body"])))
                    await asyncio.wait_for(writer.drain(), self.limits.idle_timeout)
                if not message.get("more_body"):
                    break
            writer.write(client.send(h11.EndOfMessage()))
            await asyncio.wait_for(writer.drain(), self.limits.idle_timeout)
        except (OSError, asyncio.TimeoutError, h11.LocalProtocolError) as error:
            await _answer(send, 502, f"the sandbox's app did not take the request: {error or 'it stopped reading'}")
            return
        answering = asyncio.ensure_future(self._answer_back(client, reader, send))
        gone = asyncio.ensure_future(_until_disconnect(receive))
        try:
            done, _ = await asyncio.wait([answering, gone], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (answering, gone):
                task.cancel()
            await asyncio.gather(answering, gone, return_exceptions=True)
        if answering in done:
            answering.result()  # its failure, if it failed

    async def _answer_back(self, client: h11.Connection, reader: asyncio.StreamReader, send: Send) -> None:
        """Stream the sandbox's answer to the client: its head within ``first_byte_timeout``, no pause over ``idle_timeout``."""
        started = False
        while True:
            try:
                event = client.next_event()
                if event is h11.NEED_DATA:
                    wait = self.limits.idle_timeout if started else self.limits.first_byte_timeout
                    client.receive_data(await asyncio.wait_for(reader.read(_CHUNK), wait))
                    continue
            except (OSError, asyncio.TimeoutError, h11.RemoteProtocolError) as error:
                if not started:
                    status = 504 if isinstance(error, asyncio.TimeoutError) else 502
                    said = "did not answer in time" if status == 504 else f"gave no answer: {error}"
                    await _answer(send, status, f"the sandbox's app {said}")
                # Once started, the answer is cut short: the client sees its connection close.
                return
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                # Its length is kept (h11 holds the answer to it); uvicorn frames the rest by chunks.
                kept = [
                    (key, value)
                    for key, value in event.headers
                    if key.lower() not in _HOP_BY_HOP or key.lower() == b"content-length"
                ]
                await send({"type": "http.response.start", "status": event.status_code, "headers": kept})
                started = True
            elif isinstance(event, h11.Data):
                await send({"type": "http.response.body", "body": bytes(event.data), "more_body": True})
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        await send({"type": "http.response.body", "body": b""})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, port: int, name: str) -> None:
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        try:
            async with self._connection(port, name) as connection:
                path = scope.get("raw_path") or scope["path"].encode()
                query = scope.get("query_string") or b""
                uri = f"ws://{_header(scope, b'host') or 'localhost'}{path.decode('latin-1')}"
                if query:
                    uri += "?" + query.decode("latin-1")
                try:
                    upstream = await connect(
                        uri,
                        sock=connection,
                        subprotocols=scope.get("subprotocols") or None,
                        max_size=self.limits.ws_max_size,
                        max_queue=4,
                        compression=None,
                        open_timeout=10,
                    )
                except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError) as error:
                    reason = f"the sandbox refused: {error}"[:120]
                    await send({"type": "websocket.close", "code": 1011, "reason": reason})
                    return
                async with upstream:
                    await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
                    await _relay(upstream, receive, send)
        except errors.ApiError as error:
            await send({"type": "websocket.close", "code": 1011, "reason": error.message[:120]})


class BadGateway(errors.ApiError):
    """Nothing answered on the sandbox's port."""

    status_code = 502


class Busy(errors.ApiError):
    """Too many proxied connections are open, to the server or to the sandbox."""

    status_code = 503


def _target(scope: Scope) -> tuple[int, str] | None:
    host = _header(scope, b"host")
    found = _HOST.match(host.lower()) if host else None
    if found is None:
        return None
    return int(found.group(1)), found.group(2)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _until_disconnect(receive: Receive) -> None:
    """Return once the client has gone (after its body, uvicorn's ``receive`` waits for that alone)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _relay(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    """Pass messages both ways until either side closes."""

    async def down() -> None:
        try:
            async for message in upstream:
                if isinstance(message, bytes):
                    await send({"type": "websocket.send", "bytes": message})
                else:
                    await send({"type": "websocket.send", "text": message})
            frame = upstream.protocol.close_rcvd
        except websockets.exceptions.ConnectionClosedError as closed:
            # Such as a message over ws_max_size: the 1009 the proxy sent, or the app's own code.
            frame = closed.rcvd or closed.sent
        # 1005 and 1006 say a code was missing; they are never sent in a close frame.
        if frame is not None and frame.code not in (1005, 1006):
            code = frame.code
        else:
            code = 1000 if upstream.protocol.close_rcvd is not None else 1011  # a close without a code, or none
        await send({"type": "websocket.close", "code": code})

    async def up() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close()
                return
            if message.get("bytes") is not None:
                await upstream.send(message["bytes"])
            elif message.get("text") is not None:
                await upstream.send(message["text"])

    tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)

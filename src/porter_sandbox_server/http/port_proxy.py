"""Sandboxes' ports served through the server: ``PortProxy``, in front of the API app.

A request whose ``Host`` is ``<port>-<name>.localhost[:<server port>]`` (browsers
and curl resolve every ``*.localhost`` to this machine's loopback, no
``/etc/hosts`` needed) goes to ``port`` of sandbox ``name``, if it asked
for that port in ``networking``; any other request is the API's. The
connection is made inside the sandbox's network namespace, to its loopback
(``Runtime.open_port``), so an app that listens on ``127.0.0.1`` is served
as well as one on ``0.0.0.0``.

HTTP goes through h11 (one request per upstream connection, the body
buffered up to ``MAX_BODY``, the answer streamed back); a WebSocket is
accepted once the sandbox's app accepted it, and its messages are passed
both ways until either side closes. Served ports need no API key: as on
Porter, where a port is served publicly, whoever reaches the server's
address reaches them (a browser sends no bearer key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import h11
import websockets
from websockets.asyncio.client import ClientConnection, connect

from .. import errors
from ..core.service import SandboxService
from ..runtimes.base import SandboxGone, Unsupported

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: ``<port>-<sandbox name>.localhost``, with the server's port or without.
_HOST = re.compile(r"^(\d{1,5})-([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.localhost(?::\d+)?$")
#: The largest request body passed to a sandbox's port.
MAX_BODY = 64 * 1024 * 1024
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

    def __init__(self, app: App, service: SandboxService) -> None:
        self.app = app
        self.service = service

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

    async def _open(self, port: int, name: str) -> Any:
        """A connection to the sandbox's port; ``errors.ApiError`` says why there is none."""
        sandbox_id = self.service.served_port(name, port)
        try:
            return await self.service.runtime.open_port(sandbox_id, port)
        except (SandboxGone, Unsupported) as error:
            raise errors.NotFound(
                f"port {port} of sandbox {name!r} is not served: {error} (a port is served while the sandbox "
                "runs, when it listed the port in networking)"
            ) from None
        except OSError as error:
            raise BadGateway(f"nothing answers on port {port} of sandbox {name!r}: {error.strerror or error}") from None

    async def _http(self, scope: Scope, receive: Receive, send: Send, port: int, name: str) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await _answer(send, 413, f"the request body is over {MAX_BODY} bytes, which the proxy does not pass")
                return
            if not message.get("more_body"):
                break
        try:
            connection = await self._open(port, name)
        except errors.ApiError as error:
            await _answer(send, error.status_code, error.message)
            return
        reader, writer = await asyncio.open_connection(sock=connection)
        try:
            await _exchange(scope, bytes(body), reader, writer, send)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, port: int, name: str) -> None:
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        try:
            connection = await self._open(port, name)
        except errors.ApiError as error:
            await send({"type": "websocket.close", "code": 1011, "reason": error.message[:120]})
            return
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
                max_size=None,
                compression=None,
                open_timeout=10,
            )
        except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError) as error:
            connection.close()
            await send({"type": "websocket.close", "code": 1011, "reason": f"the sandbox refused: {error}"[:120]})
            return
        async with upstream:
            await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
            await _relay(upstream, receive, send)


class BadGateway(errors.ApiError):
    """Nothing answered on the sandbox's port."""

    status_code = 502


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
    import json

    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _exchange(
    scope: Scope, body: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, send: Send
) -> None:
    """Send the request upstream with h11 and stream its answer back."""
    client = h11.Connection(our_role=h11.CLIENT)
    target = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    headers = [(key, value) for key, value in scope["headers"] if key.lower() not in _HOP_BY_HOP]
    headers += [(b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    writer.write(client.send(h11.Request(method=scope["method"], target=target, headers=headers)))
    if body:
        writer.write(client.send(h11.Data(data=body)))
    writer.write(client.send(h11.EndOfMessage()))
    await writer.drain()
    started = False
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            kept = [(key, value) for key, value in event.headers if key.lower() not in _HOP_BY_HOP]
            await send({"type": "http.response.start", "status": event.status_code, "headers": kept})
            started = True
        elif isinstance(event, h11.Data):
            await send({"type": "http.response.body", "body": bytes(event.data), "more_body": True})
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    if started:
        await send({"type": "http.response.body", "body": b""})


async def _relay(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    """Pass messages both ways until either side closes."""

    async def down() -> None:
        async for message in upstream:
            if isinstance(message, bytes):
                await send({"type": "websocket.send", "bytes": message})
            else:
                await send({"type": "websocket.send", "text": message})
        await send({"type": "websocket.close", "code": upstream.close_code or 1000})

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

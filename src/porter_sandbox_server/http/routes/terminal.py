"""``/x/v1/sandbox/{id}/terminal`` (an extension): an interactive terminal over a WebSocket.

The command runs on a pseudo-terminal of the sandbox's own (see the
runtimes). The server sends ``{"type": "started", "exec_id": ...}``, then the
terminal's output as binary messages, and ``{"type": "exit", "exit_code": N}``
before it closes; the client sends what is typed as binary messages and
``{"type": "resize", "rows": R, "cols": C}`` as text. Both ways have
backpressure: output is sent as fast as the client takes it (the command
waits meanwhile), and the next message is read only once the last was
written to the terminal. A client that goes away kills the command's group.

A plain GET (no upgrade) answers 426; errors before the start answer the
upgrade with their status and ``{"error": ...}`` (the WebSocket denial
response), or where the server cannot, close it with code 1008 and the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ... import errors
from ...core.processes import LiveProcess
from ...core.requests import ProcessRequest
from ...core.service import SandboxService
from ...runtimes.base import TerminalSize
from ..operations import route
from ..validation import ApiSpec

PATH = "/x/v1/sandbox/{id}/terminal"
#: What runs when the client names no command: bash where the sandbox has it, else sh.
DEFAULT_SHELL = ["sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"]
#: Set for the command unless the client's env says otherwise: programs draw for a common terminal.
DEFAULT_TERM = "xterm-256color"


def routes(service: SandboxService, spec: ApiSpec) -> list[BaseRoute]:
    """The terminal's WebSocket route, and a plain GET on the same path answering 426."""
    operation = spec.operation("GET", PATH)

    async def not_upgraded(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.get_record(path["id"])
        return JSONResponse(
            {
                "error": f"{request.url.path} is a WebSocket: connect with Upgrade: websocket (porter-sandbox shell does)"
            },
            status_code=426,
            headers={"Upgrade": "websocket", "Connection": "Upgrade"},
        )

    async def terminal(websocket: WebSocket) -> None:
        try:
            query, path = operation.query(websocket), operation.path(websocket)
            live = await service.start_process(path["id"], _request(query), background=False)
        except errors.ApiError as error:
            await _refuse(websocket, error.status_code, error.message)
            return
        try:
            await websocket.accept()
            await websocket.send_text(json.dumps({"type": "started", "exec_id": live.exec_id}))
            await _bridge(websocket, live)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client went away
        finally:
            live.abandon()  # a no-op once it ended

    return [WebSocketRoute(PATH, terminal), route(spec, PATH, {"GET": not_upgraded})]


def _request(query: dict[str, Any]) -> ProcessRequest:
    env: dict[str, str] = {"TERM": DEFAULT_TERM}
    for pair in query.get("env", []):
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise errors.BadRequest(f"query parameter 'env': {pair!r} is not NAME=value")
        env[key] = value
    return ProcessRequest(
        command=query.get("command") or DEFAULT_SHELL,
        cwd=query.get("cwd"),
        env=env,
        stdin_open=True,
        terminal=TerminalSize(query.get("rows", 24), query.get("cols", 80)),
    )


async def _bridge(websocket: WebSocket, live: LiveProcess) -> None:
    """Carry output out and keystrokes in until the command ends (or the client leaves); then say how it ended."""
    typing = asyncio.ensure_future(_keystrokes(websocket, live))
    try:
        while (piece := await live.next_piece()) is not None:
            await websocket.send_bytes(piece[1])
            if typing.done():
                return  # the client left: the caller kills the command
    finally:
        typing.cancel()
    code = live.exit_code if live.exit_code is not None else -1
    await websocket.send_text(json.dumps({"type": "exit", "exit_code": code, "timed_out": live.timed_out}))
    await websocket.close(1000)


async def _keystrokes(websocket: WebSocket, live: LiveProcess) -> None:
    """Write what the client types to the terminal and apply its resizes, until it leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            live.abandon()  # unblocks the output side too
            return
        data = message.get("bytes")
        if data:
            with contextlib.suppress(errors.Conflict):  # the command stopped reading: what it missed is dropped
                await live.write_stdin(data, close=False)
            continue
        text = message.get("text")
        if text:
            await _control(live, text)


async def _control(live: LiveProcess, text: str) -> None:
    try:
        message = json.loads(text)
    except ValueError:
        return
    if isinstance(message, dict) and message.get("type") == "resize":
        rows, cols = message.get("rows"), message.get("cols")
        if isinstance(rows, int) and isinstance(cols, int) and 0 < rows <= 1000 and 0 < cols <= 1000:
            await live.resize(rows, cols)


async def _refuse(websocket: WebSocket, status: int, message: str) -> None:
    """Answer the upgrade with ``status`` and ``{"error": message}``, or close it saying why where that cannot be."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"error": message}, status_code=status))
        return
    await websocket.close(code=1008, reason=message[:120])

"""A command run through the ``pods/exec`` subresource, over its websocket channels.

The API server speaks ``v4.channel.k8s.io``: every binary message starts with
a channel byte, 0 stdin, 1 stdout, 2 stderr, 3 the status (a JSON ``Status``
once the command ended: ``Success``, or ``Failure`` with the exit code among
its causes). Keeping the channels apart is what gives an exec its stdout and
stderr separately and its real exit code. Version 4 has no way to close stdin
(v5 adds one, from Kubernetes 1.29): a program that reads stdin must be told
where its input ends by what it reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from .client import KubeClient

__all__ = ["ExecSession", "ExecStatus", "start_exec"]

STDIN, STDOUT, STDERR, STATUS = 0, 1, 2, 3
#: The largest stdin message sent at once.
_STDIN_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ExecStatus:
    """How an exec ended, as the status channel said."""

    #: The command's exit code; ``None`` when it could not run at all (``message`` says why).
    exit_code: int | None
    message: str = ""


def parse_status(raw: bytes) -> ExecStatus:
    """The status channel's JSON ``Status`` as an exit code (or the failure's message)."""
    try:
        status = json.loads(raw)
    except ValueError:
        return ExecStatus(None, raw.decode("utf-8", "replace"))
    if not isinstance(status, dict):
        return ExecStatus(None, str(status))
    if status.get("status") == "Success":
        return ExecStatus(0)
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return ExecStatus(int(cause.get("message")), str(status.get("message") or ""))
            except (TypeError, ValueError):
                break
    return ExecStatus(None, str(status.get("message") or status.get("reason") or "the exec failed"))


class ExecSession:
    """One running exec: its stdin to write, its stdout and stderr frames to read, then its status."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> None:
        self._ws = ws
        #: Set once the status channel spoke (or the socket closed without it: ``None`` stays).
        self.status: ExecStatus | None = None
        self.ended = False

    async def send(self, data: bytes) -> None:
        """Write ``data`` to the command's stdin."""
        view = memoryview(data)
        while view:
            await self._ws.send_bytes(bytes([STDIN]) + bytes(view[:_STDIN_CHUNK]))
            view = view[_STDIN_CHUNK:]

    async def next_frame(self) -> tuple[int, bytes] | None:
        """The next ``(1 or 2, bytes)`` the command wrote; ``None`` once it ended (``status`` is then set)."""
        while not self.ended:
            message = await self._ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                data: bytes = message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                data = str(message.data).encode()
            else:  # closed, closing or an error: the command is over
                self.ended = True
                break
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == STATUS:
                self.status = parse_status(payload)
                continue  # the server closes the socket next
            if channel in (STDOUT, STDERR) and payload:
                return channel, payload
        return None

    async def close(self) -> None:
        """Close the websocket (ending the exec's connection); closing twice is harmless."""
        self.ended = True
        await self._ws.close()


async def start_exec(
    client: KubeClient, pod: str, container: str, command: Sequence[str], *, stdin: bool = False
) -> ExecSession:
    """Start ``command`` in a container of a pod of the client's namespace.

    Raises ``KubeError`` (404: no such pod; 400: the container is not
    running) and ``KubeUnreachable``.
    """
    query = [
        ("container", container),
        ("stdout", "true"),
        ("stderr", "true"),
        ("stdin", "true" if stdin else "false"),
        ("tty", "false"),
        *(("command", part) for part in command),
    ]
    ws = await client.websocket(client.namespaced("pods", pod, "exec"), query)
    return ExecSession(ws)

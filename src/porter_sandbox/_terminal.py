"""The command line's interactive terminal (``porter-sandbox shell``, ``exec -it``): a WebSocket to the server's.

The local terminal goes into raw mode, so every key (Ctrl-C too) reaches the
command, whose terminal (a pseudo-terminal of the sandbox's own) echoes and
interprets it. What it prints is written here as it comes; a resize of the
local window (``SIGWINCH``) resizes the remote one. When the command exits,
the local terminal is restored and its exit code is ours. Leaving (the
connection dropping, or this process being killed) kills the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ._exceptions import SandboxError
from ._extensions import extension_error
from ._websocket import WebSocket, WebSocketClosed

if TYPE_CHECKING:
    from ._client import Porter

__all__ = ["run_terminal", "terminal_url"]

WHAT = "interactive terminals (shell, exec -it)"


def terminal_url(base_url: str, sandbox_id: str, command: Sequence[str], rows: int, cols: int, term: str) -> str:
    """Where the terminal of ``command`` opens (``command`` empty: the server's shell)."""
    query: list[tuple[str, str | int]] = [("command", word) for word in command]
    query += [("rows", rows), ("cols", cols), ("env", f"TERM={term}")]
    return f"{base_url.rstrip('/')}/x/v1/sandbox/{sandbox_id}/terminal?{urlencode(query)}"


def _size() -> tuple[int, int]:
    columns, lines = shutil.get_terminal_size()
    return max(min(lines, 1000), 1), max(min(columns, 1000), 1)


def run_terminal(porter: Porter, sandbox_id: str, command: Sequence[str]) -> int:
    """Run ``command`` on a terminal in the sandbox, wired to this one; answer its exit code."""
    import termios
    import tty

    http = porter.raw.get_httpx_client()
    headers = {name: value for name, value in http.headers.items() if name.lower() in ("authorization", "user-agent")}
    rows, cols = _size()
    url = terminal_url(porter.base_url, sandbox_id, command, rows, cols, os.environ.get("TERM") or "xterm-256color")
    try:
        ws = WebSocket.connect(url, headers, porter.timeout.connect)
    except SandboxError as error:
        raise extension_error(WHAT, error) from None
    started = ws.receive()
    if not isinstance(started, str) or json.loads(started).get("type") != "started":
        ws.close()
        raise SandboxError(f"the terminal did not start: {started!r}")

    stdin = sys.stdin.fileno()
    saved = termios.tcgetattr(stdin)
    wake_r, wake_w = os.pipe()
    ended: dict[str, int] = {}
    resized = threading.Event()
    over = threading.Event()

    def on_resize(signum: int, frame: object) -> None:
        resized.set()
        with contextlib.suppress(OSError):
            os.write(wake_w, b"r")

    def receive() -> None:
        try:
            while True:
                message = ws.receive()
                if isinstance(message, bytes):
                    _write_all(sys.stdout.fileno(), message)
                    continue
                event = json.loads(message)
                if event.get("type") == "exit":
                    ended["exit_code"] = int(event.get("exit_code", 1))
        except (WebSocketClosed, OSError, ValueError):
            pass
        finally:
            over.set()
            with contextlib.suppress(OSError):
                os.write(wake_w, b"x")

    previous = signal.signal(signal.SIGWINCH, on_resize)
    receiver = threading.Thread(target=receive, name="porter-sandbox-terminal", daemon=True)
    try:
        tty.setraw(stdin)
        receiver.start()
        while not over.is_set():
            readable, _, _ = select.select([stdin, wake_r], [], [])
            if wake_r in readable:
                os.read(wake_r, 64)
                if resized.is_set():
                    resized.clear()
                    rows, cols = _size()
                    ws.send(json.dumps({"type": "resize", "rows": rows, "cols": cols}))
            if stdin in readable:
                data = os.read(stdin, 65536)
                if not data:
                    break
                ws.send(data)
    finally:
        termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, previous)
        ws.close()
        receiver.join(5)
        os.close(wake_r)
        os.close(wake_w)
    if "exit_code" not in ended:
        raise SandboxError("the terminal's connection ended before the command did")
    return ended["exit_code"]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

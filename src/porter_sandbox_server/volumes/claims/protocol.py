"""What the server and the file agent in a volume's helper pod say to each other, over one exec.

The server runs ``python3 -m porter_sandbox_server.volumes.claims.agent
/volume OP ARGS...`` in the helper pod through ``pods/exec``. The agent
answers first with one header line on stdout, a JSON object: ``{"ok": true,
...}`` with what the operation found, or ``{"error": {"status", "message"}}``,
the API error it raised (path rules, missing files), which the server raises
again as the same error.

``read`` and ``write`` then go on: the server sends frames on stdin (a type
byte, a 4-byte big-endian length, the payload), because the exec websocket
cannot close stdin to say where input ends.

- ``read``: ``R`` + (offset: 8 bytes, length: 4 bytes) asks for bytes; the
  agent answers a 4-byte length and that many bytes (fewer only at the end of
  the file). ``Q`` ends it.
- ``write``: ``D`` + data appends to the upload; ``C`` commits (the agent
  answers a second header line, ``ok`` or the error); ``A`` (or stdin ending
  because the connection dropped) aborts, leaving the old file.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from ... import errors

__all__ = [
    "ABORT",
    "COMMIT",
    "DATA",
    "QUIT",
    "READ",
    "error_from",
    "error_header",
    "frame",
    "ok_header",
    "read_request",
]

DATA, COMMIT, ABORT, READ, QUIT = b"D", b"C", b"A", b"R", b"Q"
FRAME_HEAD = struct.Struct(">cI")
READ_REQUEST = struct.Struct(">QI")
LENGTH = struct.Struct(">I")

_ERRORS: dict[int, type[errors.ApiError]] = {
    400: errors.BadRequest,
    404: errors.NotFound,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    503: errors.Unavailable,
}


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One stdin frame."""
    return FRAME_HEAD.pack(kind, len(payload)) + payload


def read_request(offset: int, length: int) -> bytes:
    """The frame that asks for ``length`` bytes from ``offset``."""
    return frame(READ, READ_REQUEST.pack(offset, length))


def ok_header(**found: Any) -> bytes:
    """A success header line."""
    return json.dumps({"ok": True, **found}).encode() + b"\n"


def error_header(error: errors.ApiError) -> bytes:
    """A failure header line carrying an API error."""
    return json.dumps({"error": {"status": error.status_code, "message": error.message}}).encode() + b"\n"


def error_from(header: dict[str, Any]) -> errors.ApiError | None:
    """The API error a header carries, or ``None`` for a success."""
    error = header.get("error")
    if not isinstance(error, dict):
        return None
    status = int(error.get("status") or 500)
    message = str(error.get("message") or "the volume's file agent failed")
    kind = _ERRORS.get(status)
    if kind is not None:
        return kind(message)
    failure = errors.ApiError(message)
    failure.status_code = status
    return failure

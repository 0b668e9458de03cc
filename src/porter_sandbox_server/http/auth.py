"""API keys: every route but the probes needs ``Authorization: Bearer <api key>`` when the server has one."""

from __future__ import annotations

import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: Routes anyone may call, API key or not: probes must work without secrets.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class BearerAuth:
    """ASGI middleware: every path but ``OPEN_PATHS`` needs ``Authorization: Bearer <api key>``.

    The scheme is matched without regard to case, as HTTP's are (``bearer``,
    ``BEARER``); the key itself exactly, in constant time.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._expected = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A WebSocket (a terminal) needs the key as much as any request; it is refused before the upgrade.
        if scope["type"] in ("http", "websocket") and scope["path"] not in OPEN_PATHS:
            given: bytes | None = None
            for key, value in scope["headers"]:
                if key == b"authorization":
                    given = value
                    break
            if given is None or not hmac.compare_digest(_bearer_token(given), self._expected):
                message = (
                    "the API key is wrong; check the key the server was started with (send Authorization: Bearer <api key>)"
                    if given
                    else "this server needs an API key: send Authorization: Bearer <api key>"
                )
                response = JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
                if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
                    await send({"type": "websocket.close", "code": 1008, "reason": "401: " + message[:100]})
                    return
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _bearer_token(header: bytes) -> bytes:
    """The token of an ``Authorization: Bearer <token>`` header; ``b""`` for any other scheme."""
    scheme, _, token = header.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return b""
    return token.strip(b" \t")

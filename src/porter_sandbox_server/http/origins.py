"""Only this machine's own clients drive the API: ``SameOrigin`` refuses web pages of other origins.

A keyless server answers anyone who reaches its loopback address, and a web
page can reach it: a sandbox's served page (itself a loopback origin, at
``<port>-<name>.localhost``) or any site whose name an attacker re-points at
127.0.0.1 (DNS rebinding). Such pages can send requests (a form's POST, a
``fetch`` in ``no-cors`` mode, a WebSocket) even though they cannot read the
answers, and an exec needs no answer read to do harm. So:

- a request carrying an ``Origin`` other than the server's own (the scheme
  and ``Host`` it was sent to) is refused 403: browsers send ``Origin`` on
  such POSTs and on every WebSocket handshake; API clients (the SDK, Porter's
  client, curl) send none;
- without an API key, a request whose ``Host`` is not a loopback name or
  address, or the address the server was started on, is refused 403: a
  rebound name arrives with its own ``Host``. (With a key, a page that does
  not know it is refused anyway, and the server may be reached by any name.)

The proxy's ``<port>-<name>.localhost`` requests never come here
(``port_proxy`` takes them first). JSON bodies must also say they are JSON
(``validation``), so a form cannot post one.
"""

from __future__ import annotations

import ipaddress

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class SameOrigin:
    """ASGI middleware: 403 for requests from other origins, and (keyless) for Hosts not this machine's."""

    def __init__(self, app: ASGIApp, *, host: str, check_host: bool) -> None:
        self.app = app
        self._host = _hostname(host)
        self._check_host = check_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            refusal = self._refusal(scope)
            if refusal is not None:
                if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
                    # Closing before the upgrade answers the handshake 403.
                    await send({"type": "websocket.close", "code": 1008, "reason": "403: " + refusal[:100]})
                    return
                await JSONResponse({"error": refusal}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> str | None:
        """Why the request is refused, or None."""
        host = origin = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
            elif key == b"origin":
                origin = value.decode("latin-1")
        if self._check_host and host is not None and not self._is_ours(_hostname(host)):
            return (
                f"this server answers requests to its own address only, not to {host!r}: use "
                "http://127.0.0.1:<port> or http://localhost:<port> (a server with an API key takes any name)"
            )
        if origin is not None and origin.lower() != f"http://{host or ''}".lower():
            return (
                f"requests from web pages of another origin ({origin}) are refused: call the API from a client "
                "that sends no Origin header (the SDK, the CLI, curl)"
            )
        return None

    def _is_ours(self, hostname: str) -> bool:
        if hostname in ("localhost", self._host):
            return True
        try:
            return ipaddress.ip_address(hostname).is_loopback
        except ValueError:
            return False


def _hostname(host: str) -> str:
    """The name or address of a ``Host`` (or ``--host``), without its port or an IPv6 address's brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host  # a name, or a bare IPv6 address (``--host ::1``)

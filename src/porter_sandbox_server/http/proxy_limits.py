"""What requests to sandboxes' served ports may hold of the server (``port_proxy``), and its defaults.

Apart from ``port_proxy`` so that the command line reads the defaults without importing the proxy.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Proxied connections (HTTP requests and WebSockets) open at once, server-wide (``--proxy-connections``).
MAX_CONNECTIONS = 256
#: Proxied connections open at once to one sandbox (``--proxy-connections-per-sandbox``).
MAX_PER_SANDBOX = 32
#: How long a sandbox's app may take to start its answer, in seconds (``--proxy-first-byte-timeout``).
FIRST_BYTE_TIMEOUT = 60.0
#: How long a sandbox's answer may pause once started, in seconds (``--proxy-idle-timeout``).
IDLE_TIMEOUT = 300.0
#: The largest WebSocket message passed either way (uvicorn's default; the server takes 1 MiB from clients).
WS_MAX_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True)
class ProxyLimits:
    """What the proxy lets requests to sandboxes' ports hold of the server."""

    max_connections: int = MAX_CONNECTIONS
    max_per_sandbox: int = MAX_PER_SANDBOX
    first_byte_timeout: float = FIRST_BYTE_TIMEOUT
    idle_timeout: float = IDLE_TIMEOUT
    ws_max_size: int = WS_MAX_SIZE

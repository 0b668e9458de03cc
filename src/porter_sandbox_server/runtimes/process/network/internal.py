"""Internal addresses: how sandboxes of one server reach each other's ports (``networking`` with ``internal``).

A sandbox whose ``networking`` has an ``internal`` port gets a virtual
address in ``NETWORK`` (its ``internal_address``). No interface has it:
in every sandbox's namespace the firewall redirects TCP to that network to a
listener the server owns there (``LISTEN_PORT`` on its loopback, a
privileged port no sandbox process can take). The server reads where the
connection was going (``SO_ORIGINAL_DST``), and joins it to that port of the
sandbox holding the address, connecting inside its namespace, if that
sandbox serves the port; any other connection is reset. So a sandbox without
an internal port is reachable from no other, and an internal address is
reachable from sandboxes of this server only (the host has no route to it).
A sandbox with an egress policy reaches an internal address only when the
policy lists it (or a network holding it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import resource
import socket
import struct
from collections.abc import Awaitable, Callable

from ...egress import EgressPolicy

logger = logging.getLogger(__name__)

#: Where internal addresses come from (a slice of the shared address space, RFC 6598).
NETWORK = ipaddress.IPv4Network("100.80.0.0/16")
#: The server's listener in each sandbox's loopback for connections to internal addresses.
LISTEN_PORT = 1021
_SO_ORIGINAL_DST = 80
_LINGER_RESET = struct.pack("ii", 1, 0)
#: Connections one sandbox may hold open through its relay at once (counted from the accept, so those
#: still connecting count too); more are reset, so that it cannot make the server hold descriptors
#: without bound.
MAX_CONNECTIONS = 256
#: How long the relay waits for the connection to the destination (a port whose backlog is full would
#: otherwise hold both descriptors for the kernel's SYN retries, about two minutes).
CONNECT_TIMEOUT = 5.0

#: Opens a connection to a port of the sandbox holding an internal address: (address, port) -> socket.
Connector = Callable[[str, int], Awaitable[socket.socket]]


class AddressBook:
    """Which sandbox holds which internal address."""

    def __init__(self) -> None:
        self._free = iter(NETWORK.hosts())
        self._released: list[str] = []
        self._holders: dict[str, str] = {}

    def take(self, sandbox_id: str) -> str:
        """A free address for ``sandbox_id``."""
        address = self._released.pop() if self._released else str(next(self._free))
        self._holders[address] = sandbox_id
        return address

    def release(self, address: str) -> None:
        """``address`` is free again."""
        if self._holders.pop(address, None) is not None:
            self._released.append(address)

    def holder(self, address: str) -> str | None:
        """The sandbox holding ``address``, if any."""
        return self._holders.get(address)


def original_destination(connection: socket.socket) -> tuple[str, int]:
    """Where a redirected connection was going."""
    raw = connection.getsockopt(socket.SOL_IP, _SO_ORIGINAL_DST, 16)
    port, packed = struct.unpack_from("!H4s", raw, 2)
    return socket.inet_ntoa(packed), port


def allowed_by(policy: EgressPolicy | None, address: str) -> bool:
    """Whether a sandbox under ``policy`` may connect to the internal ``address``."""
    if policy is None:
        return True
    ip = ipaddress.IPv4Address(address)
    return any(ip in ipaddress.IPv4Network(network) for network in policy.networks)


def server_wide_limit() -> int:
    """Relay connections all sandboxes together may hold: a quarter of this process's descriptors (each takes two)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(MAX_CONNECTIONS, min(4096, soft // 4))


class ConnectionBudget:
    """Relay connections the whole server may hold at once, shared by every sandbox's relay."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> bool:
        """Count one more connection; False (and nothing counted) when the budget is spent."""
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def give(self) -> None:
        """A connection counted by ``take`` has ended."""
        self.used -= 1


class InternalRelay:
    """One sandbox's listener for internal addresses: joins each connection to its destination, or resets it."""

    def __init__(
        self, sandbox_id: str, policy: EgressPolicy | None, connector: Connector, budget: ConnectionBudget
    ) -> None:
        self.sandbox_id = sandbox_id
        self.policy = policy
        self.connector = connector
        self.budget = budget
        self.server: asyncio.AbstractServer | None = None
        self.open = 0

    async def serve(self, listener: socket.socket) -> None:
        """Start accepting on ``listener`` (a socket made and listening inside the sandbox's namespace)."""
        self.server = await asyncio.start_server(self._joined, sock=listener)

    async def _joined(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = writer.get_extra_info("socket")
        if self.open >= MAX_CONNECTIONS or not self.budget.take():
            logger.debug("sandbox %s: internal connection refused: too many open", self.sandbox_id)
            _reset(raw, writer)
            return
        # Counted from here, before the connection to the destination is even tried: one still
        # connecting holds descriptors as much as one relaying.
        self.open += 1
        try:
            try:
                address, port = original_destination(raw)
                if not allowed_by(self.policy, address):
                    raise ConnectionRefusedError(f"the egress policy does not list {address}")
                upstream = await asyncio.wait_for(self.connector(address, port), CONNECT_TIMEOUT)
            except Exception as error:  # whatever the reason, the sandbox sees a reset, as from a closed port
                logger.debug("sandbox %s: internal connection refused: %s", self.sandbox_id, error)
                _reset(raw, writer)
                return
            try:
                their_reader, their_writer = await asyncio.open_connection(sock=upstream)
            except OSError:
                upstream.close()
                _reset(raw, writer)
                return
            await relay(reader, writer, their_reader, their_writer)
        finally:
            self.open -= 1
            self.budget.give()

    def close(self) -> None:
        """Stop accepting."""
        if self.server is not None:
            self.server.close()


def _reset(raw: socket.socket, writer: asyncio.StreamWriter) -> None:
    """Close the sandbox's connection with a reset, as a closed port would."""
    with contextlib.suppress(OSError):
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    writer.close()


async def relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    their_reader: asyncio.StreamReader,
    their_writer: asyncio.StreamWriter,
) -> None:
    """Copy bytes both ways until both sides have finished; then close both."""

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
            if sink.can_write_eof():
                sink.write_eof()
        except (OSError, RuntimeError):  # a reset, or a transport already closed (write_eof raises RuntimeError)
            pass

    try:
        await asyncio.gather(copy(reader, their_writer), copy(their_reader, writer))
    finally:
        for each in (writer, their_writer):
            each.close()

"""The server's resolver for a sandbox: every DNS query the sandbox sends ends here (``firewall``).

It listens on UDP port 53 of the sandbox's loopback (a socket the server
made inside the sandbox's namespace). A query for a name the egress policy
allows (every name, without a policy) is forwarded to the upstream server
(``serve --dns-upstream``, by default the first ``nameserver`` of the host's
``/etc/resolv.conf``) from the server's own namespace, and the IPv4
addresses of its answer are opened in the sandbox's firewall for the
answer's TTL (at least ``MIN_TTL`` seconds, at most ``MAX_TTL``) before the answer is passed on.
So a name is enforced as a name: an address opens only because an allowed
name resolved to it, and closes when that answer expires (connections
already made stay). Any other name is answered ``REFUSED`` at once.

The parsing is the least DNS needs: the header, the question's name, and
the answer records (with name compression). Only a plain query (opcode
QUERY, one question, no answer or authority records) is read; any other
packet is dropped, never forwarded, and what is forwarded is the query
rebuilt from its question (and its EDNS ``OPT`` record), not the bytes the
sandbox sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

from ...egress import EgressPolicy

logger = logging.getLogger(__name__)

#: An address an answer opened stays open at least this long (a TTL of 0 would race the connection).
MIN_TTL = 5
#: And at most this long, whatever the TTL (nft refuses a timeout of 2^31 seconds or more).
MAX_TTL = 86400
_UPSTREAM_TIMEOUT = 5.0
#: Queries one sandbox may send: this many a second, in bursts of up to ``QUERY_BURST``; more are dropped
#: unread (its resolver retries), so a flood costs the server's event loop next to nothing.
QUERY_RATE = 200.0
QUERY_BURST = 400
#: Queries of one sandbox forwarded at once; more are dropped (the sandbox's resolver retries), so a
#: flood of queries cannot make the server open sockets without bound.
MAX_IN_FLIGHT = 64
_REFUSED = 5
_SERVFAIL = 2
_TYPE_A = 1
_TYPE_OPT = 41
_OPCODE = 0x7800
#: Header flags a forwarded query keeps: recursion desired, checking disabled.
_KEPT_FLAGS = 0x0100 | 0x0010


class BadPacket(Exception):
    """Not a DNS message this resolver can read."""


def default_upstream(resolv_conf: Path = Path("/etc/resolv.conf")) -> tuple[str, int] | None:
    """The host's first nameserver, or None when it names none."""
    try:
        text = resolv_conf.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            return parts[1], 53
    return None


def parse_upstream(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT``; a bare host means port 53) as an address; ``ValueError`` otherwise."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "53"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, "53"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--dns-upstream {text!r}: give HOST:PORT, such as 10.0.0.53:53")
    return host, int(port)


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` and the offset after it (compression pointers followed, loops refused)."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if offset >= len(packet):
            raise BadPacket("name runs past the packet")
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(packet) or jumps > 16:
                raise BadPacket("bad compression pointer")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
            jumps += 1
            continue
        if length & 0xC0:
            raise BadPacket("unknown label type")
        offset += 1
        if length == 0:
            break
        labels.append(packet[offset : offset + length].decode("ascii", "replace"))
        offset += length
    return ".".join(labels).lower(), (end if end >= 0 else offset)


def read_query(packet: bytes) -> tuple[str, bytes]:
    """The name a query asks about, and the query as it is forwarded; ``BadPacket`` unless it is a plain query.

    A plain query: opcode QUERY, one question (its name without compression),
    no answer or authority records. What is forwarded is rebuilt from the
    header, the question and an EDNS ``OPT`` record if the query's one
    additional record is that; anything else the sandbox put in is dropped.
    """
    if len(packet) < 12:
        raise BadPacket("shorter than a DNS header")
    flags, questions, answers, authorities, additional = struct.unpack_from("!HHHHH", packet, 2)
    if flags & 0x8000 or flags & _OPCODE != 0:
        raise BadPacket("not a standard query")
    if questions != 1 or answers or authorities:
        raise BadPacket("not a query with one question and no records")
    offset = 12
    while (length := packet[offset] if offset < len(packet) else -1) != 0:
        if length < 0 or length & 0xC0:
            raise BadPacket("the question's name is cut short or compressed")
        offset += 1 + length
    name, end = _read_name(packet, 12)
    if end + 4 > len(packet):
        raise BadPacket("question cut short")
    header = struct.pack("!HHHHHH", struct.unpack_from("!H", packet)[0], flags & _KEPT_FLAGS, 1, 0, 0, 0)
    forwarded = header + packet[12 : end + 4]
    opt = packet[end + 4 :]
    # An OPT record: the root name, type 41, and its data running exactly to the packet's end.
    is_opt = (
        additional == 1
        and len(opt) >= 11
        and opt[0] == 0
        and struct.unpack_from("!HHIH", opt, 1)[::3] == (_TYPE_OPT, len(opt) - 11)
    )
    if is_opt:
        forwarded = forwarded[:10] + b"\x00\x01" + forwarded[12:] + opt
    return name, forwarded


def question_name(packet: bytes) -> str:
    """The name a query asks about; ``BadPacket`` unless it is a plain query (``read_query``)."""
    return read_query(packet)[0]


def answer_addresses(packet: bytes) -> list[tuple[str, int]]:
    """The IPv4 addresses (with their TTLs) of an answer's A records."""
    if len(packet) < 12:
        raise BadPacket("shorter than a DNS header")
    questions, answers = struct.unpack_from("!HH", packet, 4)
    offset = 12
    for _ in range(questions):
        _, offset = _read_name(packet, offset)
        offset += 4
    found: list[tuple[str, int]] = []
    for _ in range(answers):
        _, offset = _read_name(packet, offset)
        if offset + 10 > len(packet):
            raise BadPacket("record cut short")
        kind, klass, ttl, length = struct.unpack_from("!HHIH", packet, offset)
        offset += 10
        if kind == _TYPE_A and klass == 1 and length == 4 and offset + 4 <= len(packet):
            found.append((socket.inet_ntoa(packet[offset : offset + 4]), ttl))
        offset += length
    return found


def error_answer(query: bytes, rcode: int) -> bytes:
    """An answer to ``query`` with no records and ``rcode`` (REFUSED, SERVFAIL)."""
    txid, flags = struct.unpack_from("!HH", query, 0)
    end = 12
    _, end = _read_name(query, 12)
    flags = 0x8000 | (flags & 0x7900) | 0x0080 | rcode  # response, opcode and RD kept, RA set
    return struct.pack("!HHHHHH", txid, flags, 1, 0, 0, 0) + query[12 : end + 4]


class TokenBucket:
    """A rate limit: ``take`` is True at most ``rate`` times a second on average, ``burst`` times at once."""

    def __init__(self, rate: float = QUERY_RATE, burst: int = QUERY_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        """Spend a token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


#: Opens addresses for some seconds in the sandbox's firewall.
Opener = Callable[[list[str], int], Awaitable[None]]


class Resolver(asyncio.DatagramProtocol):
    """Answers one sandbox's DNS queries (see the module doc)."""

    def __init__(
        self,
        sandbox_id: str,
        upstream: tuple[str, int],
        policy: EgressPolicy | None,
        opener: Opener,
        bucket: TokenBucket,
    ) -> None:
        self.sandbox_id = sandbox_id
        self.upstream = upstream
        self.policy = policy
        self.opener = opener
        #: The sandbox's query rate limit (shared by its IPv4 and IPv6 resolvers).
        self.bucket = bucket
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.bucket.take():
            return
        try:
            name, data = read_query(data)
        except BadPacket:
            return
        if self.policy is not None and not self.policy.allows_name(name):
            self._reply(error_answer(data, _REFUSED), addr)
            return
        if len(self.tasks) >= MAX_IN_FLIGHT:
            return
        task = asyncio.ensure_future(self._forward(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _forward(self, query: bytes, addr: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.upstream[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as upstream:
            upstream.setblocking(False)
            try:
                await loop.sock_connect(upstream, self.upstream)
                await loop.sock_sendall(upstream, query)
                while True:
                    answer = await asyncio.wait_for(loop.sock_recv(upstream, 65535), _UPSTREAM_TIMEOUT)
                    if answer[:2] == query[:2]:
                        break
            except (OSError, asyncio.TimeoutError):
                self._reply(error_answer(query, _SERVFAIL), addr)
                return
        if self.policy is not None:
            try:
                addresses = answer_addresses(answer)
            except BadPacket:
                self._reply(error_answer(query, _SERVFAIL), addr)
                return
            if addresses:
                ttl = max(MIN_TTL, min(MAX_TTL, *(ttl for _, ttl in addresses)))
                try:
                    await self.opener([address for address, _ in addresses], ttl)
                except Exception:  # an answer whose addresses could not be opened must not be passed on
                    logger.exception("sandbox %s: could not open the addresses of a DNS answer", self.sandbox_id)
                    self._reply(error_answer(query, _SERVFAIL), addr)
                    return
        self._reply(answer, addr)

    def _reply(self, packet: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(OSError):
                self.transport.sendto(packet, addr)

    def close(self) -> None:
        """Stop answering; drop queries in flight."""
        if self.transport is not None:
            self.transport.close()
        for task in list(self.tasks):
            task.cancel()

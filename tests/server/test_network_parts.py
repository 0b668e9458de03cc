"""The network's parts that need no sandbox: egress policies parsed, DNS messages read, the firewall's script."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import struct
import threading
import time

import pytest

from porter_sandbox_server.runtimes.egress import EgressPolicy
from porter_sandbox_server.runtimes.process.network import dns, firewall
from porter_sandbox_server.runtimes.process.network.netns import NetnsWorker


def test_a_policy_sorts_destinations_into_networks_names_and_wildcards() -> None:
    policy = EgressPolicy.parse(["203.0.113.7", "10.0.0.0/8", "API.example.com.", "*.example.org"])
    assert policy.networks == ("203.0.113.7/32", "10.0.0.0/8")
    assert policy.allows_name("api.example.com") and not policy.allows_name("www.example.com")
    assert policy.allows_name("a.b.example.org") and not policy.allows_name("example.org")
    assert not policy.allows_name("badexample.org")


@pytest.mark.parametrize(
    "bad",
    ["", "exa mple.com", "*.", "::1", "2001:db8::/32", "a..b", "-a.com", "*", "169.254.169.254", "169.254.0.0/16"],
)
def test_a_destination_of_none_of_the_forms_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        EgressPolicy.parse([bad])


def _query(name: str) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack("!HH", 1, 1)


def test_queries_and_answers_are_read_with_compression() -> None:
    query = _query("Api.Example.com")
    assert dns.question_name(query) == "api.example.com"
    answer = bytearray(query)
    answer[2:4] = struct.pack("!H", 0x8180)
    answer[6:8] = struct.pack("!H", 2)
    for address, ttl in (("192.0.2.10", 30), ("192.0.2.11", 7)):
        answer += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + bytes(map(int, address.split(".")))
    assert dns.answer_addresses(bytes(answer)) == [("192.0.2.10", 30), ("192.0.2.11", 7)]
    refused = dns.error_answer(query, 5)
    assert refused[:2] == query[:2] and refused[3] & 0x0F == 5 and dns.question_name(query) == "api.example.com"


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x00" * 11,
        _query("a.b")[:-3],  # question cut short
        struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # an answer, not a query
        struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c",  # a pointer to itself
        struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\x40abc",  # an unknown label type
        struct.pack("!HHHHHH", 1, 0x2900, 1, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # opcode UPDATE
        struct.pack("!HHHHHH", 1, 0x1100, 1, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # opcode STATUS
        _query("a.b")[:6] + b"\x00\x01" + _query("a.b")[8:],  # an answer record in a query
        _query("a.b")[:8] + b"\x00\x01" + _query("a.b")[10:],  # an authority record in a query
        struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x00\x00\x01\x00\x01",  # a compressed question
    ],
)
def test_a_packet_that_is_not_a_query_is_refused_not_crashed_on(packet: bytes) -> None:
    with pytest.raises(dns.BadPacket):
        dns.question_name(packet)


def test_a_query_is_forwarded_rebuilt_from_its_question_and_edns_record_only() -> None:
    plain = _query("api.example.com")
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
    junk = b"\x03bad\x00" + struct.pack("!HHIH", 16, 1, 60, 3) + b"\x02hi"
    with_opt = bytearray(plain + opt)
    with_opt[10:12] = struct.pack("!H", 1)
    assert dns.read_query(bytes(with_opt)) == ("api.example.com", bytes(with_opt))
    smuggled = bytearray(plain + junk + opt)
    smuggled[2:4] = struct.pack("!H", 0x0100 | 0x0400 | 0x0020)  # AA and Z bits set: not kept
    smuggled[10:12] = struct.pack("!H", 2)
    assert dns.read_query(bytes(smuggled)) == ("api.example.com", plain)
    trailing = plain + b"more bytes"
    assert dns.read_query(trailing) == ("api.example.com", plain)


def test_upstreams_are_parsed() -> None:
    assert dns.parse_upstream("10.0.0.53:5353") == ("10.0.0.53", 5353)
    assert dns.parse_upstream("10.0.0.53") == ("10.0.0.53", 53)
    assert dns.parse_upstream("[fd00::53]:53") == ("fd00::53", 53)
    with pytest.raises(ValueError):
        dns.parse_upstream("10.0.0.53:x")


def test_the_firewall_blocks_the_host_before_any_policy_and_denies_by_default_under_one() -> None:
    open_script = firewall.ruleset(["192.0.2.2"], None)
    assert "192.0.2.2" in open_script and "10.0.2.2" in open_script
    assert "ip daddr @allowed accept" not in open_script
    closed = firewall.ruleset([], ["203.0.113.0/24"])
    last = closed.rindex("meta l4proto tcp reject with tcp reset")
    assert closed.index("@blocked") < closed.index("ip daddr @allowed accept") < last
    assert "add element inet porter allowed { 203.0.113.0/24 }" in closed


def test_a_flood_of_queries_is_answered_no_faster_than_the_rate_limit() -> None:
    """Queries past the burst are dropped unread: a sandbox cannot keep the server's event loop busy with DNS."""

    async def flood() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        never: dns.Opener = lambda addresses, seconds: asyncio.sleep(0)  # noqa: E731 (every name is refused)
        resolver = dns.Resolver("flood", ("127.0.0.1", 9), EgressPolicy.parse([]), never, dns.TokenBucket())
        listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind(("127.0.0.1", 0))
        listener.setblocking(False)
        await loop.create_datagram_endpoint(lambda: resolver, sock=listener)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            sender.connect(listener.getsockname())
            answered = 0
            start = time.monotonic()
            for _ in range(20):  # in batches small enough for the socket buffers: none is lost to them
                for _ in range(50):
                    sender.send(_query("blocked.example.com"))
                await asyncio.sleep(0.02)
                with contextlib.suppress(BlockingIOError):
                    while sender.recv(512):
                        answered += 1
            elapsed = time.monotonic() - start
        resolver.close()
        return answered, elapsed

    answered, elapsed = asyncio.run(flood())
    assert dns.QUERY_BURST <= answered <= dns.QUERY_BURST + dns.QUERY_RATE * elapsed + 5, (answered, elapsed)


@pytest.mark.skipif(os.geteuid() != 0, reason="joining a network namespace needs root")
def test_a_sandboxs_namespace_work_runs_on_one_thread_in_order_however_much_is_queued() -> None:
    """Many firewall updates at once (a flood of allowed DNS answers) wait in line on one thread."""

    async def flood() -> tuple[list[int], set[int]]:
        worker = NetnsWorker(os.getpid())
        done: list[int] = []
        threads: set[int] = set()

        def work(number: int) -> int:
            threads.add(threading.get_ident())
            done.append(number)
            return number

        before = threading.active_count()
        results = await asyncio.gather(*(worker.run(functools.partial(work, number)) for number in range(500)))
        assert threading.active_count() <= before + 1
        worker.close()
        with pytest.raises(OSError):
            await worker.run(lambda: None)
        assert results == list(range(500))
        return done, threads

    done, threads = asyncio.run(flood())
    assert done == list(range(500)) and len(threads) == 1


def test_link_local_addresses_are_blocked_even_with_egress_open() -> None:
    """A cloud's metadata service (169.254.169.254) is out of reach whatever the policy, even 0.0.0.0/0."""
    assert EgressPolicy.parse(["0.0.0.0/0"]).networks == ("0.0.0.0/0",)
    for script in (firewall.ruleset([], None), firewall.ruleset([], ["0.0.0.0/0"]), firewall.block_only(["192.0.2.1"])):
        assert "169.254.0.0/16" in script

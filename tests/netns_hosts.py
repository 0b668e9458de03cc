"""Test hosts in a network namespace a test makes itself: ``HostNetns`` (HTTP on port 8099, and DNS).

The only non-loopback addresses the network tests talk to are these: a veth
pair from the host into a fresh ``ip netns``, whose end in that namespace
has the addresses ``.2``, ``.3`` and ``.5`` of a /24 picked from the test
process's pid (so runs beside each other do not collide). Each address
answers HTTP on port 8099 with its own address; ``.2`` also answers DNS on
port 53 with the names of ``DNS_NAMES``. Everything is removed on close.

    with HostNetns.make() as hosts:
        hosts.ip(3), hosts.dns_upstream  # "10.1xx.yy.3", "10.1xx.yy.2:53"
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest
from runtimes import _missing

#: Name -> the host address (its last byte) it resolves to.
DNS_NAMES = {
    "allowed.test": 3,
    "other.test": 5,
    "a.wild.test": 3,
    "b.wild.test": 3,
    "wild.test": 5,
    "short.test": 3,
    "huge.test": 3,
    "covered.test": 5,
}
#: The TTL of a name's answers, when not 30 s.
DNS_TTLS = {"short.test": 6, "huge.test": 2**31 + 7}

_SERVE = r"""
import http.server, socket, socketserver, struct, sys, threading
names = dict(item.split("=", 1) for item in sys.argv[2].split(",") if item)
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.server_address[0].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
for address in sys.argv[1].split(","):
    threading.Thread(target=Server((address, 8099), Answer).serve_forever, daemon=True).start()
dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind((sys.argv[1].split(",")[0], 53))
print("ready", flush=True)
while True:
    query, peer = dns.recvfrom(4096)
    labels, offset = [], 12
    while query[offset]:
        labels.append(query[offset + 1 : offset + 1 + query[offset]].decode()); offset += 1 + query[offset]
    question = query[12 : offset + 5]
    name = ".".join(labels).lower()
    qtype = struct.unpack("!H", query[offset + 1 : offset + 3])[0]
    found, _, ttl = names.get(name, "").partition("/")
    if not found or qtype != 1:
        flags, count, answer = 0x8180 | (0 if found else 3), 0, b""
    else:
        flags, count = 0x8180, 1
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, int(ttl), 4) + socket.inet_aton(found)
    dns.sendto(query[:2] + struct.pack("!HHHHH", flags, 1, count, 0, 0) + question + answer, peer)
"""


def require_sandbox_network() -> None:
    """Skip (or fail, with PORTER_SANDBOX_REQUIRE_BWRAP=1) unless sandboxes can have a network here.

    That needs a root server with slirp4netns, libnftables and iproute2 (besides bubblewrap).
    """
    from porter_sandbox_server.runtimes.process.network import firewall

    missing = [tool for tool in ("slirp4netns", "ip") if shutil.which(tool) is None]
    if not firewall.available():
        missing.append("libnftables")
    if os.geteuid() != 0 or missing:
        why = f"missing {', '.join(missing)}" if missing else "not root"
        _missing(
            f"sandboxes' networks need root, slirp4netns, nftables and iproute2 ({why})", "PORTER_SANDBOX_REQUIRE_BWRAP"
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass
class HostNetns:
    """A namespace of test hosts (see the module doc)."""

    netns: str
    veth: str
    prefix: str
    server: subprocess.Popen[bytes] | None = None
    made: list[str] = field(default_factory=list)

    @classmethod
    def make(cls) -> HostNetns:
        """Make the namespace, its veth and its servers; skip (or fail in CI) when this machine cannot."""
        require_sandbox_network()
        pid = os.getpid()
        hosts = cls(
            netns=f"porter-th-{pid}",
            veth=f"pth{pid % 1000000}",
            prefix=f"10.{100 + (pid >> 8) % 100}.{pid % 256}",
        )
        try:
            hosts._start()
        except BaseException:
            hosts.close()
            raise
        return hosts

    def _start(self) -> None:
        inner = f"{self.veth}i"
        _ip("netns", "add", self.netns)
        self.made.append("netns")
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", inner)
        self.made.append("veth")
        _ip("link", "set", inner, "netns", self.netns)
        _ip("addr", "add", f"{self.prefix}.1/24", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        for last in (2, 3, 5):
            _ip("-n", self.netns, "addr", "add", f"{self.prefix}.{last}/24", "dev", inner)
        _ip("-n", self.netns, "link", "set", inner, "up")
        _ip("-n", self.netns, "link", "set", "lo", "up")
        names = ",".join(f"{name}={self.ip(last)}/{DNS_TTLS.get(name, 30)}" for name, last in DNS_NAMES.items())
        addresses = ",".join(self.ip(last) for last in (2, 3, 5))
        self.server = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-c", _SERVE, addresses, names],
            stdout=subprocess.PIPE,
        )
        assert self.server.stdout is not None
        deadline = time.monotonic() + 10
        line = self.server.stdout.readline()
        if line.strip() != b"ready" or time.monotonic() > deadline:
            pytest.fail(f"the test hosts did not start: {line!r}")

    def ip(self, last: int) -> str:
        """The test host address ending in ``last`` (2, 3 or 5)."""
        return f"{self.prefix}.{last}"

    @property
    def dns_upstream(self) -> str:
        """The test DNS server, as ``serve --dns-upstream`` takes it."""
        return f"{self.ip(2)}:53"

    def close(self) -> None:
        """Stop the servers; remove the veth and the namespace."""
        if self.server is not None:
            self.server.kill()
            self.server.wait()
            if self.server.stdout is not None:
                self.server.stdout.close()
        if "veth" in self.made:
            subprocess.run(["ip", "link", "del", self.veth], capture_output=True)
        if "netns" in self.made:
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)

    def __enter__(self) -> HostNetns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The nftables table in each sandbox's network namespace: what its processes may reach.

Installed by the server (``ruleset``) before the sandbox runs any command,
through libnftables on a thread inside the namespace (``netns``). Sandbox
processes have no ``CAP_NET_ADMIN`` and cannot change it. In order, for
what the sandbox sends:

- to its own loopback: allowed (its own services, and DNS, below);
- DNS (UDP port 53 to any address): redirected to the server's resolver
  listening on the sandbox's loopback (``dns``), so names are answered by the
  server, never by whatever the sandbox addressed;
- TCP to an internal address (``internal``): redirected to the server's
  listener on the sandbox's loopback, which joins it to the sandbox holding
  that address, or resets it;
- to slirp4netns's gateway (``10.0.2.2``, the host), its built-in DNS
  (``10.0.2.3``), the host's loopback, this host's own interface addresses
  and link-local addresses (``169.254.0.0/16``: a cloud's metadata service):
  rejected, even with egress open, so the server's API and every other host service stay out of
  reach even when they listen on all addresses;
- with an egress policy: addresses in the set ``allowed`` (the policy's IPs
  and CIDRs, for good; addresses the resolver learned for allowed names, for
  their answer's TTL); anything else is rejected at once (a TCP reset, or ICMP
  administratively prohibited), never dropped into a hang;
- IPv6 leaves only through loopback (slirp4netns is run without IPv6); DNS to
  an IPv6 nameserver is redirected to the resolver's IPv6 loopback socket.
"""

from __future__ import annotations

import ctypes
import functools
import ipaddress
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence

from ...egress import LINK_LOCAL

TABLE = "porter"
#: slirp4netns's gateway (the host) and its built-in DNS.
SLIRP_GATEWAY = "10.0.2.2"
SLIRP_DNS = "10.0.2.3"
#: The port the server's resolver listens on in each sandbox's loopback.
RESOLVER_PORT = 53
#: Internal addresses, and the server's listener for them in each sandbox's loopback (``internal``).
INTERNAL_NETWORK = "100.80.0.0/16"
INTERNAL_PORT = 1021


#: Where the nft program is looked for (the server's own PATH may lack the sbin directories).
_NFT_PATH = "/usr/sbin:/sbin:/usr/local/sbin:/usr/bin:/bin"


class FirewallError(Exception):
    """libnftables refused a command; the message is its own."""


def ruleset(blocked: Iterable[str], allowed: Sequence[str] | None) -> str:
    """The table's nft script: ``blocked`` IPv4 addresses and networks always rejected, ``allowed`` the policy.

    ``allowed`` None leaves egress open (but for ``blocked``); a sequence (even
    empty) is the only IPv4 addresses and networks open from the start.
    """
    lines = [
        f"table inet {TABLE} {{",
        f"  set blocked {{ type ipv4_addr; flags interval; auto-merge; elements = {{ {_blocked_elements(blocked)} }}; }}",
        "  set allowed { type ipv4_addr; flags interval, timeout; }",
        "  chain resolve {",
        "    type nat hook output priority -100; policy accept;",
        f"    udp dport 53 redirect to :{RESOLVER_PORT}",
        f"    ip daddr {INTERNAL_NETWORK} meta l4proto tcp redirect to :{INTERNAL_PORT}",
        "  }",
        "  chain out {",
        "    type filter hook output priority 0; policy accept;",
        '    oifname "lo" accept',
        # Redirected DNS and its answers (the filter still sees the interface routing first chose).
        f"    ip daddr 127.0.0.1 udp dport {RESOLVER_PORT} accept",
        f"    ip saddr 127.0.0.1 udp sport {RESOLVER_PORT} accept",
        f"    ip6 daddr ::1 udp dport {RESOLVER_PORT} accept",
        f"    ip6 saddr ::1 udp sport {RESOLVER_PORT} accept",
        f"    ip daddr 127.0.0.1 tcp dport {INTERNAL_PORT} accept",
        f"    ip saddr 127.0.0.1 tcp sport {INTERNAL_PORT} accept",
        "    meta nfproto ipv6 reject with icmpx admin-prohibited",
        "    ip daddr @blocked meta l4proto tcp reject with tcp reset",
        "    ip daddr @blocked reject with icmpx admin-prohibited",
    ]
    if allowed is not None:
        lines += [
            "    ct state established,related accept",
            "    ip daddr @allowed accept",
            "    meta l4proto tcp reject with tcp reset",
            "    reject with icmpx admin-prohibited",
        ]
    lines += ["  }", "}"]
    script = "\n".join(lines) + "\n"
    if allowed:
        script += f"add element inet {TABLE} allowed {{ {', '.join(allowed)} }}\n"
    return script


def block_only(blocked: Iterable[str]) -> str:
    """The nft commands that make ``blocked`` (with what is always blocked) the set of blocked addresses, at once."""
    return f"flush set inet {TABLE} blocked\nadd element inet {TABLE} blocked {{ {_blocked_elements(blocked)} }}\n"


def _blocked_elements(blocked: Iterable[str]) -> str:
    always = {SLIRP_GATEWAY, SLIRP_DNS, "127.0.0.0/8", INTERNAL_NETWORK, str(LINK_LOCAL)}
    return ", ".join(sorted({*always, *blocked}))


def allow_for(addresses: Iterable[str], seconds: int) -> str:
    """The nft commands that open ``addresses`` for ``seconds`` from now, whether or not they are open already.

    nft leaves an element's timeout as it was when it is added again, so an
    address is added (a no-op when it is there), deleted and added with its
    new timeout, in one transaction: it is never missing in between.
    """
    listed = ", ".join(addresses)
    timed = ", ".join(f"{address} timeout {max(1, seconds)}s" for address in addresses)
    return (
        f"add element inet {TABLE} allowed {{ {listed} }}\n"
        f"delete element inet {TABLE} allowed {{ {listed} }}\n"
        f"add element inet {TABLE} allowed {{ {timed} }}\n"
    )


@functools.lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL("libnftables.so.1", use_errno=True)
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    """Whether libnftables can be loaded here (Debian: ``apt-get install nftables``)."""
    try:
        _lib()
    except OSError:
        return False
    return True


#: libnftables (1.0.6) opens its netlink socket with the context and waits on it with ``select()``:
#: numbered FD_SETSIZE (1024) or more, glibc aborts the whole server on its first change. A busy
#: server holds that many (about ten per live sandbox, and its clients' connections), so a context is
#: made only while a number this low is free (its socket takes the lowest free one, and keeps it).
LOW_DESCRIPTORS = 896


def lowest_free_descriptor() -> int:
    """The number the next descriptor this process opens would get (others may take it meanwhile)."""
    probe = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    os.close(probe)
    return probe


class Nft:
    """Runs nft scripts for the thread that made it (a sandbox's ``NetnsWorker``), in that thread's namespace.

    Through a libnftables context reused for every command; or, when the
    server's low descriptor numbers are all taken as it is made, through the
    ``nft`` program: a process of its own with few descriptors, started from
    the calling thread and so in its network namespace (a few milliseconds
    per command instead of a fraction of one).
    """

    def __init__(self) -> None:
        self._ctx: int | None = None
        self.program: str | None = None
        if lowest_free_descriptor() >= LOW_DESCRIPTORS:
            self.program = shutil.which("nft", path=_NFT_PATH)
            if self.program is None:
                raise FirewallError(
                    "the server holds too many descriptors for libnftables, and the nft program that would "
                    "stand in is not installed (`apt-get install nftables`)"
                )
            return
        self._lib = _lib()
        self._ctx = self._lib.nft_ctx_new(0)
        if not self._ctx:
            raise FirewallError("libnftables could not make a context")
        self._lib.nft_ctx_buffer_error(self._ctx)
        self._lib.nft_ctx_buffer_output(self._ctx)

    def run(self, script: str) -> None:
        """Run an nft script in the calling thread's network namespace; raise ``FirewallError`` when refused."""
        if self.program is not None:
            try:
                done = subprocess.run(
                    [self.program, "-f", "-"], input=script.encode(), capture_output=True, timeout=30, check=False
                )
            except (OSError, subprocess.SubprocessError) as error:
                raise FirewallError(f"nft could not be run: {error}") from error
            if done.returncode != 0:
                raise FirewallError(done.stderr.decode("utf-8", "replace").strip() or "nft refused the command")
            return
        if self._lib.nft_run_cmd_from_buffer(self._ctx, script.encode()) != 0:
            said = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode("utf-8", "replace").strip()
            raise FirewallError(said or "nft refused the command")

    def close(self) -> None:
        """Free the context."""
        if self._ctx:
            self._lib.nft_ctx_free(self._ctx)
            self._ctx = None


def host_addresses() -> list[str]:
    """This host's own IPv4 addresses (every interface's), which sandboxes must not reach through slirp4netns.

    ``OSError`` when they cannot be listed (no iproute2): a firewall without them would leave the host open.
    """
    try:
        listing = subprocess.run(["ip", "-j", "-4", "addr", "show"], capture_output=True, check=True, timeout=10)
        interfaces = json.loads(listing.stdout or b"[]")
    except (subprocess.SubprocessError, ValueError) as error:
        raise OSError(f"`ip -j -4 addr show` failed: {error}") from error
    found: list[str] = []
    for interface in interfaces:
        for entry in interface.get("addr_info", ()):
            local = entry.get("local")
            if local:
                found.append(str(ipaddress.IPv4Address(local)))
    return found

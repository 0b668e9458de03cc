"""A sandbox's network: its namespace joined to the outside by slirp4netns, its firewall and resolver.

Every sandbox of a bubblewrap server gets a network namespace of its own
(``bwrap --unshare-net``): its own loopback, nothing of the host's. On a root
server that namespace reaches out through **slirp4netns**, a user-mode TCP/IP
stack (libslirp) in a process of its own per sandbox: the sandbox sees a
``tap0`` at ``10.0.2.100`` with a gateway at ``10.0.2.2``; slirp4netns makes
ordinary sockets on the host for each of its connections. It runs with
``--disable-host-loopback`` (the gateway does not lead to the host's
loopback), ``--enable-sandbox`` (its own mount namespace, every capability
dropped) and ``--enable-seccomp``, since it parses every packet the sandbox
sends; and in the server's cgroup for slirp4netns, whose sockets a table on
the host keeps off every local address (``host_guard``). Why slirp4netns and not pasta: Debian's pasta failed to start as root
here ("Couldn't configure user mappings"), and slirp4netns has the two knobs
this needs (no host loopback, a ready descriptor) in the Debian release.

The server first waits for bwrap to have brought the namespace's loopback up
(slirp4netns touching the namespace while bwrap set it up failed bwrap now
and then), then installs the sandbox's firewall (``firewall``), its resolver
(``dns``) and its relay for internal addresses (``internal``) while it starts
slirp4netns (about 4 ms to its ready descriptor here, about 0.6 MiB of
proportional memory per sandbox): all while the agent's python starts. The
runtime holds the sandbox's first command until ``start`` is done, so no
command ever runs before its rules.

A non-root server cannot join its sandboxes' namespaces (they belong to the
user namespaces bwrap makes) nor run slirp4netns into them as this does:
its sandboxes get a namespace with only a loopback, no way out, and the
runtime says so (and refuses ``egress`` and ``networking``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import ipaddress
import logging
import math
import os
import shutil
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ...egress import EgressPolicy
from ..child import Child
from . import firewall
from .dns import Resolver, TokenBucket
from .host_guard import HostGuard
from .internal import ConnectionBudget, Connector, InternalRelay, server_wide_limit
from .netns import NetnsWorker, on_own_thread

#: How long slirp4netns may take to configure a namespace, and bwrap to set up its loopback.
_READY_TIMEOUT = 10.0
READY_WAIT = 10.0
_SIOCGIFFLAGS = 0x8913
_IFF_UP = 0x1


class NetworkFailed(Exception):
    """The sandbox's network could not be set up; the message says what failed."""


logger = logging.getLogger(__name__)
T = TypeVar("T")

#: How often this host's addresses are read again even without a netlink event (in case one was lost).
HOST_ADDRESSES_POLL = 30.0
_RTMGRP_IPV4_IFADDR = 0x10


@dataclass
class NetworkSettings:
    """How this server connects its sandboxes (found once at ``open``)."""

    slirp4netns: str
    #: Where allowed DNS queries go.
    dns_upstream: tuple[str, int]
    #: This host's own IPv4 addresses, blocked from every sandbox: kept current by ``watch``.
    host_addresses: tuple[str, ...]
    #: Connections all sandboxes' relays for internal addresses may hold at once.
    relay_budget: ConnectionBudget = field(default_factory=lambda: ConnectionBudget(server_wide_limit()))
    #: This server's slirp4netns cgroup and host table (``host_guard``); None where they cannot be made.
    guard: HostGuard | None = None
    #: The running sandboxes' networks whose firewall is installed, by sandbox id: ``watch`` updates them.
    installed: dict[str, SandboxNetwork] = field(default_factory=dict)
    _watcher: asyncio.Task[None] | None = None

    def watch(self) -> None:
        """Keep ``host_addresses``, and every running sandbox's blocked set, current as the host's addresses change.

        An address the host gains (a VPN, a DHCP lease, a new veth) is blocked in every running
        sandbox as soon as the kernel announces it (a netlink address event), not only in sandboxes
        started after.
        """
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()
        events = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK, socket.NETLINK_ROUTE)
        try:
            events.bind((0, _RTMGRP_IPV4_IFADDR))

            def readable() -> None:
                for _ in range(1000):  # what is queued, in a bounded turn of the loop
                    try:
                        events.recv(65536)
                    except BlockingIOError:
                        return
                    except OSError:  # ENOBUFS: events were lost; the list is read again all the same
                        pass
                    changed.set()

            loop.add_reader(events.fileno(), readable)
            try:
                while True:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(changed.wait(), HOST_ADDRESSES_POLL)
                    changed.clear()
                    await self._refresh()
            finally:
                loop.remove_reader(events.fileno())
        finally:
            events.close()

    async def _refresh(self) -> None:
        try:
            addresses = tuple(await asyncio.to_thread(firewall.host_addresses))
        except OSError as error:
            logger.warning("could not read this host's addresses again (keeping the last list): %s", error)
            return
        if set(addresses) == set(self.host_addresses):
            return
        self.host_addresses = addresses
        logger.info("this host's addresses changed: blocking %s in every sandbox", ", ".join(addresses))
        await asyncio.gather(*(network.block(addresses) for network in list(self.installed.values())))

    def close(self) -> None:
        """Stop watching the host's addresses; remove the host table and cgroup."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        if self.guard is not None:
            self.guard.remove()
            self.guard = None

    @classmethod
    def find(cls, dns_upstream: tuple[str, int] | None) -> NetworkSettings | str:
        """The settings, or why sandboxes cannot be connected here (a missing tool, no upstream)."""
        slirp = shutil.which("slirp4netns")
        if slirp is None:
            return "slirp4netns is not installed (`apt-get install slirp4netns`)"
        if not firewall.available():
            return "libnftables is not installed (`apt-get install nftables`)"
        if dns_upstream is None:
            return "no DNS server to forward to: /etc/resolv.conf names none; pass --dns-upstream HOST:PORT"
        try:
            addresses = firewall.host_addresses()
        except OSError as error:
            return f"this host's addresses cannot be listed (`apt-get install iproute2`): {error}"
        guard = HostGuard.install()
        if isinstance(guard, str):
            logger.warning(
                "slirp4netns cannot be kept off this host's addresses on the host's side (%s): "
                "sandboxes rely on their own firewalls for that",
                guard,
            )
        return cls(slirp, dns_upstream, tuple(addresses), guard=guard if isinstance(guard, HostGuard) else None)


@dataclass
class SandboxNetwork:
    """One sandbox's slirp4netns, firewall and resolver."""

    sandbox_id: str
    pid: int
    policy: EgressPolicy | None
    #: Opens connections to other sandboxes' internal addresses.
    connector: Connector
    slirp: Child | None = None
    #: Its resolver on the loopback's IPv4 address, and on its IPv6 one.
    resolvers: list[Resolver] = field(default_factory=list)
    relay: InternalRelay | None = None
    #: Our end of slirp4netns's exit descriptor: closing it (or our death) ends slirp4netns.
    exit_fd: int = -1
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: Its thread inside the namespace, and that thread's nft context.
    worker: NetnsWorker | None = None
    nft: firewall.Nft | None = None
    #: The server's settings, once its firewall is installed.
    settings: NetworkSettings | None = None
    #: When each address DNS answers opened closes again (``time.monotonic``).
    open_until: dict[str, float] = field(default_factory=dict)
    #: Sockets made in the namespace and not yet handed to the resolver or the relay: ``close`` closes them
    #: (a sandbox torn down while its firewall was being installed). Guarded by ``made_lock``.
    made: list[socket.socket] = field(default_factory=list)
    made_lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False

    async def start(self, settings: NetworkSettings) -> None:
        """Connect the namespace of ``pid`` and install its rules; ``NetworkFailed`` says what failed."""
        try:
            self.worker = NetnsWorker(self.pid)
            # bwrap sets up the namespace's loopback as it starts, and slirp4netns (which touches the
            # loopback too) racing it failed bwrap now and then: both wait for it.
            await self.worker.run(wait_loopback_up)
            await asyncio.gather(self._install(settings), self._start_slirp(settings))
        except (OSError, firewall.FirewallError, asyncio.TimeoutError) as error:
            raise NetworkFailed(f"the sandbox's network could not be set up: {error}") from error

    async def _start_slirp(self, settings: NetworkSettings) -> None:
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        exit_r, self.exit_fd = os.pipe2(os.O_CLOEXEC)
        try:
            argv = [
                settings.slirp4netns,
                "--configure",
                "--mtu=65520",
                "--disable-host-loopback",
                "--enable-sandbox",
                "--enable-seccomp",
                f"--ready-fd={ready_w}",
                f"--exit-fd={exit_r}",
                str(self.pid),
                "tap0",
            ]
            if settings.guard is not None:
                argv = settings.guard.wrap(argv)
            # Started as bwrap is (``Child``: vfork): uvloop's spawn forks the whole server, which cost
            # milliseconds of CPU per sandbox once the server was large, on the event loop.
            self.slirp = await Child.start(argv, pass_fds=(ready_w, exit_r), cwd="/")
        finally:
            os.close(ready_w)
            os.close(exit_r)
        reading = asyncio.ensure_future(_read_all(ready_r))
        try:
            done, _ = await asyncio.wait([reading], timeout=_READY_TIMEOUT)
            if not done:
                with contextlib.suppress(ProcessLookupError):
                    self.slirp.kill()  # its end of the pipe closes: the read ends
            said = await asyncio.shield(reading)
        finally:
            if reading.done():
                os.close(ready_r)
            else:  # cancelled meanwhile: close it once the read is over, never under it
                reading.add_done_callback(lambda _: os.close(ready_r))
        if said != b"1":
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.slirp.wait(), 1.0)
            why = self.slirp.stderr.tail.decode("utf-8", "replace").strip()[-300:] or "it said nothing"
            raise NetworkFailed(f"slirp4netns did not start (exit status {self.slirp.returncode}): {why}")

    async def _install(self, settings: NetworkSettings) -> None:
        blocked = settings.host_addresses
        script = firewall.ruleset(blocked, self.policy.networks if self.policy else None)

        def inside() -> list[socket.socket]:
            self._nft().run(script)
            made: list[socket.socket] = []
            try:
                internal = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                made.append(internal)
                internal.bind(("127.0.0.1", firewall.INTERNAL_PORT))
                internal.listen(64)
                for family, loopback in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                    resolver = socket.socket(family, socket.SOCK_DGRAM)
                    made.append(resolver)
                    try:
                        resolver.bind((loopback, firewall.RESOLVER_PORT))
                    except OSError:
                        if family == socket.AF_INET:
                            raise
                        made.pop().close()  # a host without IPv6: queries to an IPv6 nameserver fail
            except BaseException:
                for each in made:
                    each.close()
                raise
            with self.made_lock:
                if self.closed:
                    for each in made:
                        each.close()
                    raise OSError("the sandbox's network was closed while it was being set up")
                self.made = made
            return made

        internal, *listeners = await self.in_netns(inside)
        try:
            await self._adopt(settings, blocked, internal, listeners)
        except BaseException:
            self._close_made()
            raise
        with self.made_lock:
            self.made = []

    async def _adopt(
        self,
        settings: NetworkSettings,
        blocked: tuple[str, ...],
        internal: socket.socket,
        listeners: list[socket.socket],
    ) -> None:
        """Serve the resolver and the relay on the sockets just made in the namespace."""
        self.settings = settings
        settings.installed[self.sandbox_id] = self
        if settings.host_addresses != blocked:  # changed while the firewall was being installed
            await self.block(settings.host_addresses)
        loop = asyncio.get_running_loop()
        bucket = TokenBucket()
        for listener in listeners:
            listener.setblocking(False)
            resolver = Resolver(self.sandbox_id, settings.dns_upstream, self.policy, self.allow, bucket)
            self.resolvers.append(resolver)
            await loop.create_datagram_endpoint(functools.partial(_same, resolver), sock=listener)
        internal.setblocking(False)
        self.relay = InternalRelay(self.sandbox_id, self.policy, self.connector, settings.relay_budget)
        await self.relay.serve(internal)

    async def assign(
        self, sandbox_id: str, policy: EgressPolicy | None, first: Callable[[], None] | None = None
    ) -> None:
        """Make this network (started for a pre-started sandbox, egress open) the network of ``sandbox_id``.

        With a policy, the table is replaced by the policy's in one nft transaction, before any
        command of the sandbox runs; the resolver and the relay answer by the policy from then on.
        ``first`` runs before, on the same trip to the namespace's thread (the runtime names the host).
        """
        settings = self.settings
        if settings is None or self.closed:
            raise NetworkFailed("the sandbox's network is not set up")
        script = ""
        if policy is not None:
            script = f"delete table inet {firewall.TABLE}\n" + firewall.ruleset(
                settings.host_addresses, policy.networks
            )

        def inside() -> None:
            if first is not None:
                first()
            if script:
                self._nft().run(script)

        try:
            await self.in_netns(inside)
        except firewall.FirewallError as error:
            raise NetworkFailed(f"the sandbox's egress policy could not be installed: {error}") from error
        if settings.installed.get(self.sandbox_id) is self:
            del settings.installed[self.sandbox_id]
        self.sandbox_id, self.policy = sandbox_id, policy
        settings.installed[sandbox_id] = self
        for resolver in self.resolvers:
            resolver.sandbox_id, resolver.policy = sandbox_id, policy
        if self.relay is not None:
            self.relay.sandbox_id, self.relay.policy = sandbox_id, policy

    async def allow(self, addresses: list[str], seconds: int) -> None:
        """Open ``addresses`` in the sandbox's firewall for ``seconds`` from now (or longer, if open longer already).

        An address inside a network the policy lists is open for good already (and nft would refuse it
        as overlapping that network): it is left alone.
        """
        networks = [ipaddress.IPv4Network(network) for network in self.policy.networks] if self.policy else []
        now = time.monotonic()
        if len(self.open_until) > 4096:  # forget what has expired, so this stays as small as what is open
            self.open_until = {address: until for address, until in self.open_until.items() if until > now}
        by_seconds: dict[int, list[str]] = {}
        for address in dict.fromkeys(addresses):
            if any(ipaddress.IPv4Address(address) in network for network in networks):
                continue
            # Another name's answer may have opened it for longer: never shorten that.
            longest = max(seconds, math.ceil(self.open_until.get(address, now) - now))
            self.open_until[address] = now + longest
            by_seconds.setdefault(longest, []).append(address)
        if by_seconds:
            script = "".join(firewall.allow_for(each, longest) for longest, each in by_seconds.items())
            await self.in_netns(lambda: self._nft().run(script))

    async def block(self, addresses: tuple[str, ...]) -> None:
        """Make ``addresses`` (and what is always blocked) the host addresses the sandbox cannot reach."""
        script = firewall.block_only(addresses)
        try:
            await self.in_netns(lambda: self._nft().run(script))
        except (OSError, firewall.FirewallError) as error:
            logger.error("sandbox %s: could not update its blocked addresses: %s", self.sandbox_id, error)

    async def in_netns(self, work: Callable[[], T]) -> T:
        """``work()`` on the sandbox's thread inside its namespace, awaited (``OSError`` once closed)."""
        if self.worker is None:
            raise OSError("the sandbox's network is not started")
        return await self.worker.run(work)

    def _nft(self) -> firewall.Nft:
        """The worker's nft context, made on first use (on the worker thread) and freed as the worker ends."""
        if self.nft is None:
            nft = self.nft = firewall.Nft()
            assert self.worker is not None
            self.worker.at_end.append(nft.close)
        return self.nft

    def _close_made(self) -> None:
        with self.made_lock:
            self.closed = True
            made, self.made = self.made, []
        for each in made:
            each.close()

    async def close(self) -> None:
        """Stop the resolver and slirp4netns (the namespace itself ends with the sandbox)."""
        self._close_made()
        if self.settings is not None and self.settings.installed.get(self.sandbox_id) is self:
            del self.settings.installed[self.sandbox_id]
        for resolver in self.resolvers:
            resolver.close()
        if self.relay is not None:
            self.relay.close()
        if self.worker is not None:
            self.worker.close()
        if self.exit_fd >= 0:
            os.close(self.exit_fd)
            self.exit_fd = -1
        slirp = self.slirp
        if slirp is not None and slirp.returncode is None:
            slirp.kill()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(slirp.wait(), 5.0)


def _same(resolver: Resolver) -> Resolver:
    return resolver


def wait_loopback_up(timeout: float = READY_WAIT) -> None:
    """Wait until the calling thread's namespace has its loopback up: bwrap has then finished setting it up."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        while True:
            flags = struct.unpack_from("H", fcntl.ioctl(probe, _SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0)), 16)[0]
            if flags & _IFF_UP:
                return
            if time.monotonic() > deadline:
                raise NetworkFailed("the sandbox's loopback did not come up")
            time.sleep(0.0005)


async def _read_all(fd: int) -> bytes:
    """What slirp4netns writes on its ready descriptor: ``1`` once configured, nothing when it failed.

    A blocking read on a thread: it ends when slirp4netns writes or exits (the caller kills it on a timeout).
    """
    return await on_own_thread(functools.partial(os.read, fd, 16))

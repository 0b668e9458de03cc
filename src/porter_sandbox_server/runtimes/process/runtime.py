"""The ``process`` runtime: sandboxes as process trees on this host, isolated with bubblewrap.

What a sandbox sees of the host is ``bwrap``'s business (see ``bwrap``); its
limits are its cgroups' (``cgroups``). Its network is a namespace of its own,
connected to the outside through slirp4netns on a root server, with the host
out of reach and the egress policy enforced (``network.stack``).

How execs get in: PID 1 of each sandbox is a tiny agent (``agent``, run by
the host's ``python3 -I -S``; ``bootstrap`` says how its code arrives). The
server keeps one ``SOCK_SEQPACKET`` socket to it (``protocol``). To run a
process (the main command or an exec) the server makes two pipes and sends
the agent the command, its environment and the pipes' write ends
(``SCM_RIGHTS``); the agent starts it with ``posix_spawn`` and answers with
its exit status. So an exec costs no bubblewrap or interpreter start (about
1 ms on a 2-core box, against about 6 ms for a bare ``bwrap ... true``), it
runs in the sandbox's namespaces, sees exactly the main process's files, and
its output flows straight from the process into the server's pipes (read by
the event loop, never blocking it: ``pipes``). The alternatives cost more per
exec: ``nsenter`` plus redoing the mount setup, or a fresh ``bwrap`` per
exec, which would not share the PID namespace. Without a command, the agent
itself is the idle keep-alive main process.

Streamed execs, background processes and terminals (``start_process``) go
the same way with ``RUN``: the server also keeps its stdin's write end, and
each leads a process group of its own that ``SIGNAL`` reaches whole. For a
terminal the agent opens a pseudo-terminal inside the sandbox (its own
devpts, so ``tty`` there names it) and sends the master back over the socket
(``processes``). Being PID 1, it cannot be killed
from inside the sandbox. A keep-alive sandbox counts as running once its
PID 1 exists (about 3 ms): execs wait in the socket while the agent's python
starts (about 10 ms). A main command must be seen to start.

Ending: when the main process ends the agent reports its status and exits;
being PID 1, its exit ends every process left in the sandbox. ``stop`` kills
the agent (through a pidfd) and ``bwrap``, and returns once PID 1, and so
every process of the sandbox, has ended. A server killed outright takes its
``bwrap`` children with it (``--die-with-parent``), and the agent exits when
its socket closes. An agent that goes away without its main process having
ended (killed from outside the sandbox) is the sandbox lost.

Who it runs as: never host root (``identity``): a root server's sandboxes run
as an unprivileged sandbox uid, a non-root server's as its own uid in a user
namespace per sandbox. Every sandbox process runs under the system-call
filter of ``seccomp``.

Scratch space: each sandbox's ``tmp``, ``workspace`` and ``home`` live in
``<data dir>/sandboxes/<id>`` (owned by the sandbox uid), made at launch and
removed once it ended; its ``/dev/shm`` is a tmpfs sized from its memory limit
(``runtimes.tmpfs``).

Snapshots (``filesystem`` mode): a copy of those three directories in
``<data dir>/snapshots/<id>``, taken while the sandbox's freezer cgroup
holds its processes still (or copied until a copy saw nothing change, where
there is no freezer); see ``snapshots`` for how the copy keeps host files
out. A sandbox started from a snapshot gets a copy of it as its scratch
space. ``full`` snapshots (memory too) would need CRIU, whose Debian release
cannot checkpoint on current kernels; they are not offered.

Metrics: CPU time and memory use from each sandbox's cgroups (``cpuacct``
and ``memory``), read in one thread hop for all sandboxes. They count what
the sandbox's programs use: the agent joins the cgroups once it runs, so its
own start (a few MB, some ms of CPU) stays charged to the server. There are
no per-sandbox network counters yet.

Limits: memory by the sandbox's memory cgroup (the kernel kills a process
over it, and the exit is reported with that reason), CPU as a CFS quota, and
at most ``LaunchSpec.pids_max`` processes by its pids cgroup. Without a
memory cgroup, memory falls back to ``RLIMIT_AS`` on each process (a process
over it gets ``MemoryError`` or ``ENOMEM``), and CPU is not enforced; without
a pids cgroup, a non-root server's sandboxes are held to ``pids_max`` by
``RLIMIT_NPROC``, which counts per user namespace. Across all sandboxes,
``max_total_pids`` bounds the processes of the sandbox uid (``RLIMIT_NPROC``
counted at the host's level): a root server's agent sets it on itself, and a
non-root server starts bwrap under it, so that the user namespace it makes
keeps it as the limit of the server's uid. The server says in its log which
of these hold.

``--isolation none`` runs the same agent directly on the host (a new session
in the scratch ``workspace``, ``HOME`` and ``TMPDIR`` under it): nothing is
isolated and volumes cannot appear at their mount paths.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...volumes.hostdir import FileOwner, HostDirVolumes
from ..base import (
    Capabilities,
    CommandRefused,
    ExecOutput,
    ExitKind,
    LaunchFailed,
    LaunchSpec,
    Placement,
    Process,
    ProcessSpec,
    ResourceSample,
    Runtime,
    RuntimeEvents,
    RuntimeUnavailable,
    SandboxExit,
    SandboxGone,
    SnapshotFailed,
    Stream,
    Unsupported,
)
from ..egress import EgressPolicy
from ..output import CappedOutput, LogBudget
from ..pool import SandboxPool
from ..processes import ChunkQueue, NeverStarted
from ..tmpfs import tmpfs_sizes
from . import protocol, seccomp, snapshots
from .bootstrap import BOOTSTRAP, agent_payload
from .bwrap import (
    INSTALL_HINT,
    PYTHON_ALIAS_DIR,
    SANDBOX_HOME,
    SANDBOX_PATH,
    SYSTEM_DIRS,
    WORKSPACE,
    bwrap_argv,
    hidden_dirs,
    hostname,
    probe_bwrap,
    system_python,
)
from .cgroups import Cgroups, SandboxCgroup
from .child import READY_TIMEOUT, Child, child_pid_or_exit, parent_pid, wait_group_gone, wait_readable
from .identity import SandboxIdentity, make_undumpable, uids_of
from .limits import default_total_pids, host_memory_bytes, process_limit_for_children
from .network.dns import default_upstream
from .network.internal import AddressBook
from .network.netns import on_own_thread
from .network.stack import NetworkFailed, NetworkSettings, SandboxNetwork
from .pipes import OutputReader, read_pipe
from .pool import PoolSettings, fits, pooled_spec, set_hostname
from .processes import AgentProcess, ChunkReader, PipeWriter
from .sandbox import Sandbox, State
from .scratch import (
    allow_large_packets,
    prepare_scratch,
    raise_open_files_limit,
    remove_children,
    remove_tree,
    write_passwd,
)

logger = logging.getLogger(__name__)

#: At most this many processes (and threads) in one sandbox when its spec names no ``pids_max``.
DEFAULT_PIDS_MAX = 1024
_OUTPUT_GRACE = 0.5  # how long an exec waits for its pipes to close after it exited
_SEND_TIMEOUT = 30.0
#: How long a connection to a port inside a sandbox may take (a full backlog would hold it for minutes).
PORT_CONNECT_TIMEOUT = 5.0


def _exit_code(status: int) -> int:
    """A ``waitpid`` status as a shell reports it: the exit code, or 128 + signal."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


class ProcessRuntime(Runtime):
    """Runs each sandbox as a process tree on this host, isolated with bubblewrap (see the module doc).

    ``data_dir`` holds the volumes (``volumes/``) and the sandboxes' scratch
    space (``sandboxes/``). ``max_total_pids`` bounds the processes of all its
    sandboxes together (by default half of what the host's kernel allows).
    """

    name = "process"
    capabilities = Capabilities(
        outlives_server=False,
        volume_types=frozenset({"disk"}),
        snapshot_modes=frozenset({"filesystem"}),
        metrics=True,
        streaming_exec=True,
        terminal=True,
    )

    def __init__(
        self,
        data_dir: Path,
        isolation: str = "auto",
        *,
        max_total_pids: int | None = None,
        dns_upstream: tuple[str, int] | None = None,
        pool: PoolSettings | None = None,
    ) -> None:
        if isolation not in ("auto", "bwrap", "none"):
            raise ValueError(f"isolation must be auto, bwrap or none, not {isolation!r}")
        self.isolation = isolation
        self.volumes: HostDirVolumes = HostDirVolumes(data_dir / "volumes")
        self.scratch_root = data_dir / "sandboxes"
        self.snapshot_root = data_dir / "snapshots"
        #: The passwd and group files a root server's sandboxes see (naming the sandbox uid).
        self._passwd_dir = data_dir / "sandbox-etc"
        self.max_total_pids = max_total_pids if max_total_pids is not None else default_total_pids()
        #: Whose uid sandboxes run as (``identity``); None when unisolated (the server's own user).
        self.identity: SandboxIdentity | None = None
        self._seccomp: bytes | None = None
        self._bwrap: str | None = None
        self._python: str | None = None
        self._agent_payload = b""
        self._events: RuntimeEvents | None = None
        self._sandboxes: dict[str, Sandbox] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._cgroups: Cgroups | None = None
        self._tokens = 0
        self._told_image = False
        self._told_cpu = False
        self._opened = False
        #: Where sandboxes' allowed DNS queries go (``serve --dns-upstream``; None: the host's resolv.conf).
        self.dns_upstream = dns_upstream
        #: How sandboxes reach out; None when they cannot (``network_unavailable`` says why).
        self.network: NetworkSettings | None = None
        self._internal = AddressBook()
        #: Pre-started sandboxes (``serve --pool``); the pool exists once open, where this host allows one.
        self.pool_settings = pool or PoolSettings()
        self.pool: SandboxPool[Sandbox] | None = None
        self.network_unavailable = "--isolation none shares the host's network and isolates nothing"

    def network_note(self) -> str:
        """Why this server's sandboxes cannot enforce egress or serve ports, after a refusal."""
        return f" ({self.network_unavailable})" if self.network is None else ""

    @property
    def isolated(self) -> bool:
        """Whether sandboxes run under bubblewrap."""
        return self._bwrap is not None

    @property
    def memory_mechanism(self) -> str:
        """How memory limits are enforced here: ``cgroup v1``, ``cgroup v2`` or ``RLIMIT_AS``."""
        if self._cgroups is not None and self._cgroups.memory is not None:
            return f"cgroup v{self._cgroups.version}"
        return "RLIMIT_AS"

    async def open(self, events: RuntimeEvents) -> None:
        """Find bubblewrap and python3, probe cgroups; raise ``RuntimeUnavailable`` without bwrap.

        Scratch space a stopped server left behind is removed: its sandboxes died with it.
        """
        self._events = events
        if self.isolation == "none":
            self._python = sys.executable
            logger.warning(
                "--isolation none: sandbox commands run UNISOLATED on this host, with the server's "
                "user and full view of its files; use it only for code you trust"
            )
        else:
            self._bwrap = shutil.which("bwrap")
            if self._bwrap is None:
                raise RuntimeUnavailable(INSTALL_HINT)
            self._python = system_python()
            if self._python is None:
                raise RuntimeUnavailable(
                    "the process runtime runs a small agent with the host's python3 inside each sandbox, "
                    f"and none was found in {SANDBOX_PATH}: install python3 (`apt-get install python3`)"
                )
            self.identity = SandboxIdentity.for_this_server()
            self._seccomp = seccomp.filter_program()
            await probe_bwrap(
                self._bwrap, self._python, user_namespace=self.identity.is_server_uid, seccomp=self._seccomp
            )
        self._agent_payload = await agent_payload(self._python)
        raise_open_files_limit()
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        self.snapshot_root.mkdir(mode=0o700, exist_ok=True)
        await asyncio.to_thread(remove_children, self.scratch_root)
        if self.identity is not None:
            await self._settle_identity(self.identity)
        self._cgroups = await asyncio.to_thread(Cgroups.discover)
        if self._cgroups is not None:
            await asyncio.to_thread(self._cgroups.remove_stale)
        if self.identity is not None:
            await self._find_network(self.identity)
        self._log_isolation()
        self._open_pool()
        self._opened = True

    def _open_pool(self) -> None:
        """Start filling the pool (``serve --pool``), or say why this host cannot have one."""
        if self.pool_settings.size <= 0:
            return
        why_not = ""
        if self._bwrap is None or self.identity is None:
            why_not = "--isolation none starts no sandboxes to keep"
        elif self.identity.is_server_uid:
            why_not = "a server that is not root cannot join a pre-started sandbox's namespaces to name it"
        elif self._cgroups is not None and self._cgroups.version != 1:
            why_not = "cgroup v2 cannot rename a pre-started sandbox's cgroup for the sandbox it becomes"
        if why_not:
            logger.warning("--pool %d is off: %s; every sandbox starts fresh", self.pool_settings.size, why_not)
            return
        self.pool = SandboxPool(
            self.pool_settings.size,
            self._start_pooled,
            self._kill,
            usable=lambda sandbox: sandbox.takes_commands,
            watch=_watch_pooled,
        )
        self.pool.fill()
        logger.info(
            "keeping %d sandbox(es) started for launches without volumes, snapshot or CPU limit, with %s of "
            "memory and at most %d processes",
            self.pool_settings.size,
            "no limit" if self.pool_settings.memory_bytes is None else f"{self.pool_settings.memory_bytes} bytes",
            self._pids_max(pooled_spec(self.pool_settings, "-")),
        )

    async def _find_network(self, identity: SandboxIdentity) -> None:
        """Whether sandboxes can reach out (a root server with slirp4netns and nftables), and what that allows."""
        if identity.is_server_uid:
            self.network_unavailable = (
                "this server does not run as root, so its sandboxes get a network namespace with only a "
                "loopback: it cannot join their namespaces to connect them, filter them or serve their ports"
            )
        else:
            found = await asyncio.to_thread(NetworkSettings.find, self.dns_upstream or default_upstream())
            if isinstance(found, str):
                self.network_unavailable = f"sandboxes have no network beyond their loopback: {found}"
            else:
                self.network = found
                found.watch()
        if self.network is not None:
            self.capabilities = dataclasses.replace(type(self).capabilities, egress=True, networking=True)
        else:
            logger.warning("process runtime: %s", self.network_unavailable)

    async def _settle_identity(self, identity: SandboxIdentity) -> None:
        """Make the data directory fit the sandbox uid: volumes owned by it, its passwd entry, an undumpable server."""
        if identity.is_server_uid:
            # Sandbox code runs as our uid: it must not ptrace us or take our descriptors.
            if not make_undumpable():
                logger.warning("could not make the server non-dumpable: sandboxes run as its uid without that guard")
            return
        # Volumes a sandbox of an older server (root then) or the Docker runtime filled: the sandbox uid's now.
        await asyncio.to_thread(self.volumes.claim, FileOwner(identity.uid, identity.gid))
        await asyncio.to_thread(write_passwd, self._passwd_dir, identity)

    def _log_isolation(self) -> None:
        if self.identity is None:
            logger.info("process runtime: isolation none, memory limits by %s", self.memory_mechanism)
            return
        pids_cgroup = self._cgroups is not None and self._cgroups.pids is not None
        if pids_cgroup:
            per_sandbox = "by its pids cgroup"
        elif self.identity.is_server_uid:
            per_sandbox = "by RLIMIT_NPROC in its user namespace"
        else:
            per_sandbox = "NOT ENFORCED (no pids cgroup can be made here; only the total below holds)"
        logger.info(
            "process runtime: bubblewrap isolation; sandboxes run as host uid %d (%s); system-call filter %s",
            self.identity.uid,
            self.identity.source,
            "on" if self._seccomp is not None else f"NOT AVAILABLE on {os.uname().machine}",
        )
        logger.info(
            "process runtime: limits: memory by %s; CPU %s; processes per sandbox %s; processes of all sandboxes "
            "together at most %d, by RLIMIT_NPROC of uid %d",
            self.memory_mechanism,
            "by cgroup CPU quota" if self._cgroups and self._cgroups.cpu else "not enforced",
            per_sandbox,
            self.max_total_pids,
            self.identity.uid,
        )

    async def readiness(self) -> str | None:
        """``None`` once opened; sandboxes need nothing remote."""
        return None if self._opened else "the process runtime is not open"

    # ------------------------------------------------------------------ launch

    async def launch(self, spec: LaunchSpec) -> Placement:
        """Start the sandbox's agent (and main command) and return once it runs."""
        events = self._require_events()
        if spec.sandbox_id in self._sandboxes:
            raise LaunchFailed(f"sandbox {spec.sandbox_id} is already running")
        if not self._told_image:
            self._told_image = True
            logger.warning(
                "the process runtime runs no images: image %r (and any other) is recorded, not pulled; "
                "commands run from this host's system directories",
                spec.image,
            )
        # Args without a command run as the command: the host, our "image", has no entrypoint
        # (as an image without ENTRYPOINT runs its args).
        argv = [*(spec.command or ()), *(spec.args or ())]
        mounts = self._mounts(spec)
        policy = self._egress_policy(spec)
        scratch = self.scratch_root / spec.sandbox_id
        env = self._base_env(spec, scratch)
        if any("\0" in value for value in [*argv, *(f"{k}={v}" for k, v in env.items())]):
            raise LaunchFailed("command arguments and environment values cannot contain NUL characters")
        sandbox = None
        if self.pool is not None and fits(spec, self.pool_settings, self._pids_max):
            sandbox = await self._from_pool(spec, env, policy)
        if sandbox is None:
            # A main command must be seen to start, and a sandbox with volumes must be seen to have
            # them: bwrap fails on a mount it cannot make, which is then this launch's failure, not an
            # exit after it. A keep-alive sandbox runs once its PID 1 exists: execs wait in the agent's
            # socket while its python starts (most of a launch).
            wait_ready = bool(argv) or bool(mounts)
            sandbox = await self._start_sandbox(spec, scratch, mounts, env, policy, events, wait_ready=wait_ready)
        if argv:
            try:
                await self._network_up(sandbox, LaunchFailed)
                await self._start_main(sandbox, argv)
            except BaseException:
                await self._kill(sandbox)
                raise
        internal_address = None
        if spec.internal_ports and self.network is not None:
            sandbox.internal_address = self._internal.take(spec.sandbox_id)
            # As Porter reports it: host:port of its (first) internal port.
            internal_address = f"{sandbox.internal_address}:{spec.internal_ports[0]}"
        if sandbox.state is State.STARTING:
            sandbox.state = State.RUNNING
            if sandbox.pump is not None and sandbox.pump.done():
                # The agent went away while launch finished: report it, as the pump would have.
                sandbox.state = State.EXITING
                self._background(sandbox, self._agent_ended(sandbox, events))
        return Placement(internal_address=internal_address)

    async def _start_sandbox(
        self,
        spec: LaunchSpec,
        scratch: Path,
        mounts: list[tuple[str, Path]],
        env: dict[str, str],
        policy: EgressPolicy | None,
        events: RuntimeEvents,
        *,
        wait_ready: bool,
    ) -> Sandbox:
        """Start a fresh sandbox: its scratch space (from a snapshot, if asked), cgroups, bwrap and agent."""
        if spec.snapshot_id is not None:
            try:
                await asyncio.to_thread(snapshots.restore, self.snapshot_root / spec.snapshot_id, scratch)
            except (OSError, SnapshotFailed) as error:
                self._remove_scratch(scratch)
                raise LaunchFailed(f"could not start from snapshot {spec.snapshot_id}: {error}") from error
        prepare_scratch(scratch, self.identity)  # a few mkdirs: not worth a thread

        cgroup: SandboxCgroup | None = None
        rlimit_as = 0
        if spec.memory_bytes is not None and (self._cgroups is None or self._cgroups.memory is None):
            rlimit_as = spec.memory_bytes
        if spec.cpu_millis is not None and (self._cgroups is None or self._cgroups.cpu is None) and not self._told_cpu:
            self._told_cpu = True
            logger.warning("CPU limits are not enforced: this host lets the server create no CPU cgroup")
        try:
            if self._cgroups is not None:
                # A few writes to cgroupfs: quick enough for the event loop. The pids limit is always
                # there (a fork bomb in one sandbox must not take the host's pids).
                cgroup = SandboxCgroup.create(
                    self._cgroups, spec.sandbox_id, spec.memory_bytes, spec.cpu_millis, self._pids_max(spec)
                )
                if not cgroup.dirs:
                    cgroup = None
            sandbox = await self._spawn(
                spec, scratch, mounts, env, cgroup, rlimit_as, events, policy=policy, wait_ready=wait_ready
            )
        except BaseException:
            self._remove_scratch(scratch)
            raise
        return sandbox

    async def _start_pooled(self) -> Sandbox:
        """Start a sandbox for the pool: the pool's limits, egress open, ready with its network up."""
        spec = pooled_spec(self.pool_settings, f"pooled-{secrets.token_hex(8)}")
        scratch = self.scratch_root / spec.sandbox_id
        env = self._base_env(spec, scratch)
        sandbox = await self._start_sandbox(spec, scratch, [], env, None, self._require_events(), wait_ready=True)
        if self._sandboxes.get(spec.sandbox_id) is sandbox:
            del self._sandboxes[spec.sandbox_id]  # no request reaches it until a launch takes it
        try:
            await self._network_up(sandbox, LaunchFailed)
        except BaseException:
            await self._kill(sandbox)
            raise
        return sandbox

    async def _from_pool(self, spec: LaunchSpec, env: dict[str, str], policy: EgressPolicy | None) -> Sandbox | None:
        """A pooled sandbox made the sandbox ``spec`` asks for, or None (none ready, or it could not be made so)."""
        assert self.pool is not None
        sandbox = self.pool.take()
        if sandbox is None:
            return None
        pooled_id = sandbox.spec.sandbox_id
        try:
            await self._assign(sandbox, spec, env, policy)
        except Exception as error:  # whatever went wrong, a fresh sandbox is the way on
            logger.warning(
                "sandbox %s: a pre-started sandbox could not become it (%s); starting one",
                spec.sandbox_id,
                error,
                exc_info=not isinstance(error, (OSError, NetworkFailed)),
            )
            await self._kill(sandbox)
            return None
        except BaseException:
            await self._kill(sandbox)
            raise
        logger.info("sandbox %s: started from the pool (%s)", spec.sandbox_id, pooled_id)
        return sandbox

    async def _assign(
        self, sandbox: Sandbox, spec: LaunchSpec, env: dict[str, str], policy: EgressPolicy | None
    ) -> None:
        """Make a pooled sandbox the sandbox ``spec`` asks for, before anything of it runs (see ``pool``)."""
        if sandbox.agent_pid is None or sandbox.agent_pidfd is None:
            raise OSError("the pre-started sandbox has no init process to name")
        scratch = self.scratch_root / spec.sandbox_id
        os.rename(sandbox.scratch, scratch)
        sandbox.scratch = scratch
        if sandbox.cgroup is not None:
            sandbox.cgroup.rename(spec.sandbox_id)
        name = functools.partial(set_hostname, sandbox.agent_pid, sandbox.agent_pidfd, hostname(spec.name))
        if sandbox.network is not None:
            await sandbox.network.assign(spec.sandbox_id, policy, first=name)  # on its thread, in one trip
        else:
            await on_own_thread(name)
        if not sandbox.takes_commands:
            raise OSError("the pre-started sandbox ended")
        sandbox.spec, sandbox.env = spec, env
        self._sandboxes[spec.sandbox_id] = sandbox

    async def _spawn(
        self,
        spec: LaunchSpec,
        scratch: Path,
        mounts: list[tuple[str, Path]],
        env: dict[str, str],
        cgroup: SandboxCgroup | None,
        rlimit_as: int,
        events: RuntimeEvents,
        *,
        policy: EgressPolicy | None,
        wait_ready: bool,
    ) -> Sandbox:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        allow_large_packets(ours)
        theirs.set_inheritable(True)
        assert self._python is not None
        agent = [self._python, "-I", "-S", "-c", BOOTSTRAP, str(theirs.fileno())]
        info_r, info_w = os.pipe2(os.O_CLOEXEC)
        filter_r = -1
        identity = self.identity
        try:
            if self._bwrap is not None and identity is not None:
                in_user_namespace = identity.is_server_uid
                if in_user_namespace:
                    # Counted per user namespace: this sandbox's own processes. (The total is bwrap's below.)
                    agent += ["bwrap", "-", str(self._pids_max(spec))]
                else:
                    # Counted for the sandbox uid across all sandboxes: the total.
                    agent += ["bwrap", f"{identity.uid}:{identity.gid}", str(self.max_total_pids)]
                pass_fds: tuple[int, ...] = (theirs.fileno(), info_w)
                if self._seccomp is not None:
                    filter_r, filter_w = os.pipe2(os.O_CLOEXEC)
                    os.write(filter_w, self._seccomp)  # a few hundred bytes: the pipe holds them
                    os.close(filter_w)
                    pass_fds += (filter_r,)
                argv = bwrap_argv(
                    self._bwrap,
                    spec.name,
                    agent,
                    scratch=scratch,
                    mounts=mounts,
                    info_fd=info_w,
                    user_namespace=in_user_namespace,
                    shm_bytes=tmpfs_sizes(spec.memory_bytes or host_memory_bytes())[1],
                    hidden=hidden_dirs([scratch, *(source for _, source in mounts)]),
                    passwd=None if in_user_namespace else self._passwd_dir,
                    seccomp_fd=filter_r if filter_r >= 0 else None,
                )
                cwd = "/"
            else:
                in_user_namespace = False
                agent += ["none", "-", "0"]
                argv = agent
                cwd = str(scratch / "workspace")
                pass_fds = (theirs.fileno(),)
            try:
                if in_user_namespace:
                    # The user namespace bwrap makes keeps bwrap's RLIMIT_NPROC as the limit of our uid.
                    with process_limit_for_children(self.max_total_pids):
                        process = await Child.start(argv, pass_fds=pass_fds, cwd=cwd)
                else:
                    process = await Child.start(argv, pass_fds=pass_fds, cwd=cwd)
            except OSError as error:
                raise LaunchFailed(f"could not start the sandbox: {error}") from error
        except BaseException:
            os.close(info_r)
            ours.close()
            if cgroup is not None:
                await cgroup.remove()
            raise
        finally:
            os.close(info_w)
            if filter_r >= 0:
                os.close(filter_r)
            theirs.close()

        sandbox = Sandbox(
            spec=spec,
            scratch=scratch,
            process=process,
            control=ours,
            env=env,
            cgroup=cgroup,
            rlimit_as=rlimit_as,
            ready=loop.create_future(),
        )
        self._sandboxes[spec.sandbox_id] = sandbox
        # The agent's first read is its own code (keeps its command line short in `ps`).
        with contextlib.suppress(OSError):  # bwrap may have failed already: it says why on stderr
            ours.send(self._agent_payload)
        sandbox.pump = self._background(sandbox, self._pump(sandbox, events))
        process.stderr.listener = functools.partial(self._stderr_said, sandbox)
        waiter = asyncio.ensure_future(process.wait())
        try:
            if self._bwrap is not None:
                # bwrap names PID 1 right after cloning it, long before the agent runs.
                agent_pid = await child_pid_or_exit(info_r, waiter)
                if agent_pid is None:
                    raise LaunchFailed(await self._refusal(sandbox))
                sandbox.agent_pid = agent_pid
                with contextlib.suppress(OSError):
                    sandbox.agent_pidfd = os.pidfd_open(agent_pid)
                # Were PID 1 gone and its pid reused already, we would signal and confine a stranger.
                if parent_pid(agent_pid) != process.pid:
                    raise LaunchFailed(await self._refusal(sandbox))
            else:
                agent_pid = process.pid
            # Here every namespace of the sandbox exists and PID 1's host pid is known, while bwrap may
            # still be mounting: the place to act on those namespaces from outside.
            if self.network is not None:
                # Connected while bwrap mounts, the cgroups attach and the agent starts (so off the path to
                # the first command); commands wait for it (``_network_up``).
                sandbox.network = SandboxNetwork(spec.sandbox_id, agent_pid, policy, self._connect_internal)
                sandbox.network_ready = asyncio.ensure_future(sandbox.network.start(self.network))
                sandbox.network_ready.add_done_callback(functools.partial(self._network_settled, sandbox))
            if cgroup is not None:
                # Before the agent starts anything: what it starts inherits the cgroups.
                try:
                    # In a thread: an attach can wait out an RCU grace period (10-15 ms on this cgroup v1
                    # host), which on the event loop stalled every other request for that long.
                    await asyncio.to_thread(cgroup.add, agent_pid)
                except ProcessLookupError:  # PID 1 is gone already: bwrap refused
                    raise LaunchFailed(await self._refusal(sandbox)) from None
            if wait_ready:
                first: list[asyncio.Future[Any]] = [sandbox.ready, waiter]
                await asyncio.wait(first, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
                if not sandbox.ready.done() or sandbox.ready.exception() is not None:
                    raise LaunchFailed(await self._refusal(sandbox))
        except BaseException:
            await self._kill(sandbox)
            raise
        finally:
            waiter.cancel()
            os.close(info_r)
        return sandbox

    async def _refusal(self, sandbox: Sandbox) -> str:
        """Why the sandbox did not start, from what bwrap (or the agent) wrote on stderr."""
        # Its socket closes a moment before bwrap ends and its stderr with it: wait for both (bounded).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(sandbox.process.wait(), timeout=2.0)
        await asyncio.wait([sandbox.process.stderr.done], timeout=1.0)
        said = sandbox.process.stderr.tail.decode("utf-8", "replace").strip()
        return f"the sandbox did not start: {said or 'no answer from its init process'}"

    async def _start_main(self, sandbox: Sandbox, argv: list[str]) -> None:
        loop = asyncio.get_running_loop()
        token = self._next_token()
        sandbox.main_token = token
        started: asyncio.Future[None] = loop.create_future()
        result: asyncio.Future[tuple[bytes, list[bytes]]] = loop.create_future()
        sandbox.main_started = started
        sandbox.results[token] = result
        sandbox.main_readers = await self._send_spawn(sandbox, token, protocol.MAIN, argv, sandbox.env, exec_id="")
        either: list[asyncio.Future[Any]] = [started, result]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            return  # it runs (and may already have ended: the pump reports that)
        error = result.exception()
        if error is not None:
            raise LaunchFailed("the sandbox ended before its main process started") from error
        kind, fields = result.result()
        if kind == protocol.SPAWN_FAILED:
            raise LaunchFailed(_spawn_error(fields)[1])

    # ------------------------------------------------------------------ exec

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        """Run ``command`` in the sandbox through its agent; see the module doc."""
        sandbox = self._live(sandbox_id)
        if not command:
            raise CommandRefused("command is empty: give the program to run and its arguments")
        merged = {**sandbox.env, **env}
        if any("\0" in value for value in [*command, *(f"{k}={v}" for k, v in merged.items())]):
            raise CommandRefused("command arguments and environment values cannot contain NUL characters")
        await self._wait_ready(sandbox)
        loop = asyncio.get_running_loop()
        token = self._next_token()
        result: asyncio.Future[tuple[bytes, list[bytes]]] = loop.create_future()
        sandbox.results[token] = result
        try:
            out, err = await self._send_spawn(sandbox, token, protocol.EXEC, list(command), merged, exec_id=exec_id)
            kind, fields = await result
        finally:
            sandbox.results.pop(token, None)
        if kind == protocol.SPAWN_FAILED:
            code, message = _spawn_error(fields)
            self._require_events().log(sandbox_id, exec_id, "stderr", message)
            out.close()
            err.close()
            return ExecOutput(stdout="", stderr=message + "\n", exit_code=code)
        code = _exit_code(int(fields[0]))
        # Background processes may hold the pipes open: wait a moment, then leave them to drain.
        await asyncio.wait({out.closed, err.closed}, timeout=_OUTPUT_GRACE)
        # The answer is whole once a pipe closed; its lines are logged a moment later (sooner, unless
        # the logs are behind): wait for that too, so that logs read after the answer hold them.
        logging = {reader.done for reader in (out, err) if reader.closed.done() and not reader.done.done()}
        if logging:
            await asyncio.wait(logging, timeout=_OUTPUT_GRACE)
        for reader in (out, err):
            if not reader.done.done():
                sandbox.stray_readers.add(reader)
                reader.done.add_done_callback(functools.partial(_forget_reader, sandbox.stray_readers, reader))
        answers = [reader.answer for reader in (out, err)]
        for reader in (out, err):
            reader.answer = None  # what a background process writes from now on is not the exec's answer
        stdout, stderr = (answer.text() if answer is not None else "" for answer in answers)
        reason = self._oom_reason(sandbox, code)
        if reason is not None:
            self._require_events().log(sandbox_id, exec_id, "stderr", reason)
            stderr += ("" if not stderr or stderr.endswith("\n") else "\n") + reason + "\n"
        return ExecOutput(
            stdout=stdout,
            stderr=stderr,
            exit_code=code,
            stdout_truncated=answers[0] is not None and answers[0].truncated,
            stderr_truncated=answers[1] is not None and answers[1].truncated,
        )

    async def _wait_ready(self, sandbox: Sandbox) -> None:
        if not sandbox.ready.done():
            # A keep-alive sandbox's agent may still be starting: a command would wait in its
            # socket anyway, but never longer than a launch may take.
            await asyncio.wait([sandbox.ready], timeout=READY_TIMEOUT)
            if not sandbox.ready.done() or sandbox.ready.exception() is not None:
                raise SandboxGone(f"sandbox {sandbox.spec.sandbox_id} did not start")
        await self._network_up(sandbox, SandboxGone)

    async def _network_up(self, sandbox: Sandbox, failure: type[Exception]) -> None:
        """Wait until the sandbox's firewall and resolver are in place: no command runs before them."""
        ready = sandbox.network_ready
        if ready is None:
            return
        if not ready.done():
            await asyncio.wait([ready], timeout=READY_TIMEOUT)
        if not ready.done() or ready.cancelled() or ready.exception() is not None:
            error = None if not ready.done() or ready.cancelled() else ready.exception()
            raise failure(f"sandbox {sandbox.spec.sandbox_id}: {error or 'its network did not come up'}")

    def _network_settled(self, sandbox: Sandbox, ready: asyncio.Future[None]) -> None:
        """A sandbox whose network could not be set up is stopped: it never runs a command without its rules."""
        if ready.cancelled() or ready.exception() is None:
            return
        if sandbox.state in (State.STARTING, State.RUNNING):
            logger.error("sandbox %s: %s; stopping it", sandbox.spec.sandbox_id, ready.exception())
            self._kill_now(sandbox)

    def _egress_policy(self, spec: LaunchSpec) -> EgressPolicy | None:
        """The sandbox's egress policy; a policy this server cannot enforce fails the launch."""
        if spec.egress is None:
            return None
        if self.network is None:
            raise LaunchFailed(f"egress cannot be enforced: {self.network_unavailable}")
        try:
            return EgressPolicy.parse(spec.egress)
        except ValueError as error:
            raise LaunchFailed(str(error)) from None

    async def start_process(self, sandbox_id: str, spec: ProcessSpec, exec_id: str) -> Process:
        """Start ``spec`` through the agent (``RUN``); answer it once the agent said it runs."""
        sandbox = self._live(sandbox_id)
        if not spec.command:
            raise CommandRefused("command is empty: give the program to run and its arguments")
        merged = {**sandbox.env, **spec.env}
        texts = [*spec.command, *(f"{k}={v}" for k, v in merged.items()), spec.cwd or ""]
        if any("\0" in value for value in texts):
            raise CommandRefused("command arguments, environment values and cwd cannot contain NUL characters")
        await self._wait_ready(sandbox)
        loop = asyncio.get_running_loop()
        token = self._next_token()
        ended: asyncio.Future[tuple[bytes, list[bytes]]] = loop.create_future()
        started: asyncio.Future[int] = loop.create_future()
        sandbox.results[token] = ended
        sandbox.started[token] = started
        streams: tuple[Stream, ...] = ("stdout",) if spec.terminal is not None else ("stdout", "stderr")
        queue = ChunkQueue(streams)
        readers: list[ChunkReader] = []
        stdin: PipeWriter | None = None
        sent: list[int] = []
        sent_run = False

        def release() -> None:
            if sandbox.results.get(token) is ended:
                del sandbox.results[token]
            if sandbox.started.get(token) is started:
                del sandbox.started[token]

        try:
            flags = b""
            if spec.terminal is None:
                for stream in streams:
                    read_end, write_end = os.pipe2(os.O_CLOEXEC)
                    sent.append(write_end)
                    reader = ChunkReader(queue, stream)
                    await read_pipe(read_end, reader)
                    readers.append(reader)
                if spec.stdin:
                    flags += protocol.STDIN_PIPE
                    read_end, write_end = os.pipe2(os.O_CLOEXEC)
                    sent.append(read_end)
                    stdin = PipeWriter(write_end)
            else:
                flags += protocol.ON_TERMINAL
            size = spec.terminal
            packet = protocol.encode(
                protocol.RUN,
                str(token).encode(),
                flags,
                str(sandbox.rlimit_as).encode(),
                os.fsencode(spec.cwd or ""),
                str(size.rows if size else 0).encode(),
                str(size.cols if size else 0).encode(),
                str(len(spec.command)).encode(),
                *(os.fsencode(arg) for arg in spec.command),
                *(os.fsencode(f"{key}={value}") for key, value in merged.items()),
            )
            try:
                await self._send(sandbox, packet, sent)
                sent_run = True
            finally:
                for fd in sent:
                    os.close(fd)
                sent.clear()
            either: list[asyncio.Future[Any]] = [started, ended]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not started.done():
                error = ended.exception()
                if error is not None:
                    raise error
                kind, fields = ended.result()
                code, message = _spawn_error(fields) if kind == protocol.SPAWN_FAILED else (127, "")
                raise _NotStarted(code, message)
            master = started.result()
        except _NotStarted as failure:
            release()
            for reader in readers:
                reader.close()
            if stdin is not None:
                stdin.close()
            return NeverStarted(failure.code, failure.message)
        except BaseException:
            release()
            for fd in sent:
                os.close(fd)
            for reader in readers:
                reader.close()
            if stdin is not None:
                stdin.close()
            if not sent_run:
                raise
            # Sent: it runs (or will: the agent takes messages in order), and its caller went away.
            self._background(sandbox, self._signal(sandbox, token, signal.SIGKILL))
            raise
        if spec.terminal is not None:
            if master < 0:
                release()
                raise SandboxGone(f"sandbox {sandbox_id}'s agent sent no terminal")
            try:
                stdin = PipeWriter(os.dup(master))
                reader = ChunkReader(queue, "stdout")
                await read_pipe(master, reader)
                readers.append(reader)
            except BaseException:
                release()
                if stdin is not None:
                    stdin.close()
                self._background(sandbox, self._signal(sandbox, token, signal.SIGKILL))
                raise
        return AgentProcess(
            queue=queue,
            readers=readers,
            stdin=stdin,
            terminal=spec.terminal is not None,
            ended=ended,
            exit_code=_exit_code,
            oom_note=functools.partial(self._oom_reason, sandbox),
            signal_group=functools.partial(self._signal, sandbox, token),
            release=release,
        )

    async def _signal(self, sandbox: Sandbox, token: int, signum: int) -> None:
        """Ask the agent to signal the process group of ``token``'s process; nothing when the sandbox is gone."""
        packet = protocol.encode(protocol.SIGNAL, str(token).encode(), str(int(signum)).encode())
        with contextlib.suppress(SandboxGone):
            await self._send(sandbox, packet, [])

    async def _send_spawn(
        self,
        sandbox: Sandbox,
        token: int,
        kind: bytes,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        exec_id: str,
    ) -> list[OutputReader]:
        """Send the agent a command to spawn, with pipes read by two readers.

        An exec's readers (``exec_id`` not empty) keep its answer and log
        within its budget; the main process's log everything it writes.
        """
        events = self._require_events()
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        limits = self.output_limits
        budget = LogBudget(limits) if exec_id else None
        readers = [
            OutputReader(
                events,
                sandbox.spec.sandbox_id,
                exec_id,
                stream,
                answer=CappedOutput(stream, limits.exec_answer_bytes) if exec_id else None,
                budget=budget,
            )
            for stream in ("stdout", "stderr")
        ]
        try:
            await read_pipe(out_r, readers[0])
        except BaseException:
            for fd in (err_r, out_w, err_w):
                os.close(fd)
            raise
        try:
            await read_pipe(err_r, readers[1])
        except BaseException:
            for fd in (out_w, err_w):
                os.close(fd)
            readers[0].close()
            raise
        packet = protocol.encode(
            protocol.SPAWN,
            str(token).encode(),
            kind,
            str(sandbox.rlimit_as).encode(),
            str(len(argv)).encode(),
            *(os.fsencode(arg) for arg in argv),
            *(os.fsencode(f"{key}={value}") for key, value in env.items()),
        )
        try:
            await self._send(sandbox, packet, [out_w, err_w])
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        return readers

    async def _send(self, sandbox: Sandbox, packet: bytes, fds: list[int]) -> None:
        loop = asyncio.get_running_loop()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        deadline = loop.time() + _SEND_TIMEOUT
        while True:
            try:
                sandbox.control.sendmsg([packet], ancillary)
                return
            except BlockingIOError:
                pass
            except OSError as error:
                if error.errno == 90:  # EMSGSIZE
                    raise CommandRefused("the command and its environment are too large to run") from error
                raise SandboxGone(f"sandbox {sandbox.spec.sandbox_id} is no longer running") from error
            if loop.time() > deadline or not sandbox.takes_commands:
                raise SandboxGone(f"sandbox {sandbox.spec.sandbox_id} is not taking commands")
            writable = loop.create_future()
            loop.add_writer(sandbox.control.fileno(), writable.set_result, None)
            try:
                await asyncio.wait_for(writable, timeout=1.0)
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                pass
            finally:
                loop.remove_writer(sandbox.control.fileno())

    # ------------------------------------------------------------------ agent messages

    async def _pump(self, sandbox: Sandbox, events: RuntimeEvents) -> None:
        try:
            while True:
                try:
                    packet, fds = await receive_packet(sandbox.control)
                except OSError:
                    packet, fds = b"", []
                if not packet:
                    _close_all(fds)
                    break
                kind, fields = protocol.decode(packet)
                if kind != protocol.STARTED or len(fds) > 1:
                    # Only a terminal's master comes with a message: whatever else came is closed unseen.
                    _close_all(fds)
                    fds = []
                if kind == protocol.READY:
                    if not sandbox.ready.done():
                        if self._agent_is_the_sandbox_user(sandbox):
                            sandbox.ready.set_result(None)
                        else:
                            sandbox.ready.set_exception(LaunchFailed("the sandbox's init process kept its privileges"))
                            self._kill_now(sandbox)
                            break
                    continue
                exited_without_status = kind == protocol.EXITED and not (len(fields) > 1 and fields[1].isdigit())
                if not fields or not fields[0].isdigit() or exited_without_status:
                    # Sandboxed code runs as the agent's user: never trust a packet's shape.
                    logger.warning("sandbox %s: ignored a malformed agent message", sandbox.spec.sandbox_id)
                    continue
                token, payload = int(fields[0]), fields[1:]
                if kind == protocol.STARTED:
                    waiter = sandbox.started.get(token)
                    if waiter is not None:
                        if not waiter.done():
                            waiter.set_result(fds.pop() if fds else -1)
                    elif sandbox.main_started is not None and not sandbox.main_started.done():
                        sandbox.main_started.set_result(None)
                    _close_all(fds)
                    continue
                _close_all(fds)
                future = sandbox.results.get(token)
                if future is not None and not future.done():
                    future.set_result((kind, payload))
                main_ended = token == sandbox.main_token and kind == protocol.EXITED
                if main_ended and sandbox.state in (State.STARTING, State.RUNNING):
                    sandbox.state = State.EXITING
                    self._background(sandbox, self._main_ended(sandbox, events, int(payload[0])))
        finally:
            gone = SandboxGone(f"sandbox {sandbox.spec.sandbox_id} ended while the exec ran")
            for future in sandbox.results.values():
                if not future.done():
                    future.set_exception(gone)
            for waiter in sandbox.started.values():
                if not waiter.done():
                    waiter.set_exception(gone)
            if not sandbox.ready.done():
                sandbox.ready.set_exception(LaunchFailed("the sandbox's init process ended"))
            # Never awaited when the sandbox ended before it was ready; mark them retrieved.
            outcomes: list[asyncio.Future[Any]] = [*sandbox.results.values(), *sandbox.started.values(), sandbox.ready]
            for outcome in outcomes:
                if outcome.done() and not outcome.cancelled():
                    outcome.exception()
            if sandbox.state is State.RUNNING:
                # The agent went away by itself: killed from outside, or it crashed.
                sandbox.state = State.EXITING
                self._background(sandbox, self._agent_ended(sandbox, events))

    async def _main_ended(self, sandbox: Sandbox, events: RuntimeEvents, status: int) -> None:
        code = _exit_code(status)
        await asyncio.wait([reader.done for reader in sandbox.main_readers], timeout=5.0)
        reason = self._oom_reason(sandbox, code)
        kind = ExitKind.EXITED if reason is None else ExitKind.OUT_OF_MEMORY
        await self._report_exit(sandbox, events, SandboxExit(kind, code, reason))

    async def _agent_ended(self, sandbox: Sandbox, events: RuntimeEvents) -> None:
        try:
            returncode = await asyncio.wait_for(sandbox.process.wait(), timeout=10.0)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            sandbox.process.kill()
            returncode = await sandbox.process.wait()
        code = returncode if returncode >= 0 else 128 - returncode
        if sandbox.main_readers:
            await asyncio.wait([reader.done for reader in sandbox.main_readers], timeout=1.0)
        reason = self._oom_reason(sandbox, code)
        if reason is not None:
            end = SandboxExit(ExitKind.OUT_OF_MEMORY, code, reason)
        elif sandbox.ready.exception() is not None:
            # bwrap refused after a keep-alive launch returned: the sandbox's exit, with bwrap's word.
            end = SandboxExit(ExitKind.EXITED, code, await self._refusal(sandbox))
        else:
            end = SandboxExit(
                ExitKind.LOST, code, f"the sandbox's init process was killed from outside (exit code {code})"
            )
        await self._report_exit(sandbox, events, end)

    async def _report_exit(self, sandbox: Sandbox, events: RuntimeEvents, end: SandboxExit) -> None:
        if sandbox.state is not State.EXITING:
            return  # stopped meanwhile: a stop reports nothing
        if self._sandboxes.get(sandbox.spec.sandbox_id) is sandbox:
            del self._sandboxes[sandbox.spec.sandbox_id]
        try:
            events.exited(sandbox.spec.sandbox_id, end)
        finally:
            await self._cleanup(sandbox)

    def _agent_is_the_sandbox_user(self, sandbox: Sandbox) -> bool:
        """Whether the agent that said READY runs as the sandbox uid (a root server's agent had to drop to it)."""
        identity = self.identity
        if identity is None or identity.is_server_uid or sandbox.agent_pid is None:
            return True
        if uids_of(sandbox.agent_pid) == {identity.uid}:
            return True
        logger.error("sandbox %s: its agent did not become the sandbox uid; stopping it", sandbox.spec.sandbox_id)
        return False

    def _kill_now(self, sandbox: Sandbox) -> None:
        """SIGKILL the sandbox's PID 1 and bwrap, without waiting (what ends is reported as usual)."""
        if sandbox.agent_pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(sandbox.agent_pidfd, signal.SIGKILL)
        sandbox.process.kill()

    def _pids_max(self, spec: LaunchSpec) -> int:
        return spec.pids_max if spec.pids_max is not None else DEFAULT_PIDS_MAX

    def _oom_reason(self, sandbox: Sandbox, code: int) -> str | None:
        if sandbox.cgroup is None or code != 128 + signal.SIGKILL:
            return None
        kills = sandbox.cgroup.oom_kills()
        if kills <= sandbox.oom_seen:
            return None
        sandbox.oom_seen = kills
        return (
            f"killed by the kernel: the sandbox exceeded its memory limit of {sandbox.spec.memory_bytes} bytes "
            "(resources.memory, or the server's --default-memory)"
        )

    def _stderr_said(self, sandbox: Sandbox, chunk: bytes) -> None:
        if sandbox.ready.done():
            # Only bwrap or the agent itself write here (before that, it is the launch's error): worth the log.
            logger.warning("sandbox %s: %s", sandbox.spec.sandbox_id, chunk.decode("utf-8", "replace").rstrip())

    # ------------------------------------------------------------------ ports

    async def _connect_internal(self, address: str, port: int) -> socket.socket:
        """A connection to ``port`` of the sandbox holding the internal ``address`` (``network.internal``).

        Only its ports marked ``internal`` are served there, not those it serves through the proxy.
        """
        holder = self._internal.holder(address)
        if holder is None:
            raise SandboxGone(f"no sandbox holds the internal address {address}")
        sandbox = self._live(holder)
        if port not in sandbox.spec.internal_ports:
            raise SandboxGone(f"sandbox {holder} does not serve port {port} at its internal address")
        return await self._connect_inside(sandbox, port)

    async def open_port(self, sandbox_id: str, port: int) -> socket.socket:
        """A connection to ``127.0.0.1:port`` inside the sandbox, from a socket made in its namespace.

        So an app that listens on its loopback only is served too, and the
        connection passes the sandbox's own firewall as its loopback traffic.
        """
        sandbox = self._live(sandbox_id)
        if port not in sandbox.spec.ports:
            raise SandboxGone(f"sandbox {sandbox_id} does not serve port {port}")
        return await self._connect_inside(sandbox, port)

    async def _connect_inside(self, sandbox: Sandbox, port: int) -> socket.socket:
        if self.network is None:
            raise Unsupported(f"this server cannot serve sandboxes' ports ({self.network_unavailable})")
        await self._network_up(sandbox, SandboxGone)
        if sandbox.network is None:
            raise SandboxGone(f"sandbox {sandbox.spec.sandbox_id} has no network")
        connection = await sandbox.network.in_netns(
            functools.partial(socket.socket, socket.AF_INET, socket.SOCK_STREAM)
        )
        try:
            connection.setblocking(False)
            # A port whose backlog is full never answers the SYN: give up well before the kernel would.
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(connection, ("127.0.0.1", port)), PORT_CONNECT_TIMEOUT
            )
        except BaseException:
            connection.close()
            raise
        return connection

    # ------------------------------------------------------------------ stop

    async def stop(self, sandbox_id: str) -> None:
        """Kill the sandbox's whole process tree and free its scratch space; a no-op when it is gone."""
        sandbox = self._sandboxes.pop(sandbox_id, None)
        if sandbox is None:
            return
        await self._kill(sandbox)

    async def _kill(self, sandbox: Sandbox) -> None:
        sandbox.state = State.STOPPING
        if self._sandboxes.get(sandbox.spec.sandbox_id) is sandbox:
            del self._sandboxes[sandbox.spec.sandbox_id]
        process = sandbox.process
        if sandbox.agent_pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(sandbox.agent_pidfd, signal.SIGKILL)
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                if self._bwrap is None:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()  # and --die-with-parent takes the agent, PID 1, and so the sandbox
        if sandbox.cgroup is not None:
            sandbox.cgroup.kill_all()
            # A frozen process dies of its SIGKILL only once thawed (a snapshot may be copying).
            sandbox.cgroup.thaw()
        if sandbox.agent_pidfd is not None:
            # PID 1 has ended only once every other process of its namespace has.
            await wait_readable(sandbox.agent_pidfd, timeout=10.0)
        elif self._bwrap is None:
            await wait_group_gone(process.pid, timeout=10.0)
        await self._cleanup(sandbox)

    async def _cleanup(self, sandbox: Sandbox) -> None:
        try:
            await asyncio.wait_for(sandbox.process.wait(), timeout=10.0)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            logger.warning("sandbox %s: its bwrap process did not end", sandbox.spec.sandbox_id)
        pump = sandbox.pump
        if pump is not None and not pump.done() and pump is not asyncio.current_task():
            # Its reader is registered on the socket's descriptor: closing the socket under it left the
            # event loop watching a number the next pipe or socket reuses ("File exists" on add_reader).
            pump.cancel()
            await asyncio.wait([pump])
        sandbox.control.close()
        if sandbox.network_ready is not None and not sandbox.network_ready.done():
            sandbox.network_ready.cancel()
        if sandbox.internal_address is not None:
            self._internal.release(sandbox.internal_address)
        if sandbox.network is not None:
            await sandbox.network.close()
        if sandbox.agent_pidfd is not None:
            os.close(sandbox.agent_pidfd)
            sandbox.agent_pidfd = None
        for reader in [*sandbox.main_readers, *sandbox.stray_readers]:
            reader.close()
        if sandbox.cgroup is not None:
            await sandbox.cgroup.remove()
        async with sandbox.capturing:
            pass  # a snapshot still copying the scratch space finishes first
        self._remove_scratch(sandbox.scratch)
        sandbox.state = State.ENDED
        current = asyncio.current_task()
        for task in list(sandbox.tasks):
            if task is not current and not task.done():
                task.cancel()

    # ------------------------------------------------------------------ snapshots and metrics

    async def snapshot(self, sandbox_id: str, snapshot_id: str, mode: str) -> int:
        """Copy the sandbox's ``tmp``, ``workspace`` and home, frozen meanwhile; answer the bytes copied."""
        sandbox = self._live(sandbox_id)
        if mode != "filesystem":
            raise SnapshotFailed(f"the process runtime takes filesystem snapshots only, not {mode!r}")
        async with sandbox.capturing:
            staging = self.snapshot_root / f"{snapshot_id}.partial"
            try:
                size = await asyncio.to_thread(self._capture, sandbox, staging)
                os.rename(staging, self.snapshot_root / snapshot_id)
            except BaseException as error:
                await asyncio.to_thread(shutil.rmtree, staging, True)
                if isinstance(error, OSError):
                    raise SnapshotFailed(f"copying the sandbox's files failed: {error}") from error
                raise
        return size

    @staticmethod
    def _capture(sandbox: Sandbox, staging: Path) -> int:
        cgroup = sandbox.cgroup
        if cgroup is not None and cgroup.freeze():
            try:
                return snapshots.capture(sandbox.scratch, staging)
            finally:
                cgroup.thaw()
        return snapshots.capture_verified(sandbox.scratch, staging)

    async def delete_snapshot(self, snapshot_id: str) -> None:
        """Delete the snapshot's copy of the files."""
        await asyncio.to_thread(snapshots.remove, self.snapshot_root / snapshot_id)

    async def prune_snapshots(self, keep: set[str]) -> None:
        """Delete every snapshot directory the store does not know (and any a crash left half made)."""

        def prune() -> None:
            for child in self.snapshot_root.iterdir():
                if child.name not in keep:
                    snapshots.remove(child)

        await asyncio.to_thread(prune)

    async def sample(self, sandbox_ids: Sequence[str]) -> dict[str, ResourceSample]:
        """CPU time and memory of each sandbox from its cgroups; one thread hop for all of them."""
        cgroups = [
            (sandbox_id, sandbox.cgroup)
            for sandbox_id in sandbox_ids
            if (sandbox := self._sandboxes.get(sandbox_id)) is not None and sandbox.cgroup is not None
        ]
        if not cgroups:
            return {}

        def read() -> dict[str, ResourceSample]:
            found: dict[str, ResourceSample] = {}
            for sandbox_id, cgroup in cgroups:
                usage = cgroup.usage()
                if usage is not None:
                    found[sandbox_id] = ResourceSample(usage[0], usage[1], read_at=time.time())
            return found

        return await asyncio.to_thread(read)

    # ------------------------------------------------------------------ adopt / close

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        """Sandboxes die with the server (``--die-with-parent``): none to adopt."""
        return set()

    async def close(self, stop_sandboxes: bool) -> None:
        """Stop every sandbox when asked (they would die with the server anyway); finish cleaning up.

        Then no scratch space is left: sandboxes never outlive the server, so
        whatever is still under the scratch root (a launch cut short, a clean-up
        that timed out) belongs to none.
        """
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        if stop_sandboxes:
            await asyncio.gather(*(self.stop(sandbox_id) for sandbox_id in list(self._sandboxes)))
        # Sandboxes that ended by themselves may still be cleaning up (cgroups, pipes, scratch).
        live = {task for sandbox in self._sandboxes.values() for task in sandbox.tasks}
        finishing = self._tasks - live - {asyncio.current_task()}
        if finishing:
            _done, pending = await asyncio.wait(finishing, timeout=10.0)
            for task in pending:
                task.cancel()
        if stop_sandboxes and not self._sandboxes and self.scratch_root.is_dir():
            await asyncio.to_thread(remove_children, self.scratch_root)
        if self.network is not None:
            self.network.close()
        self._opened = False

    # ------------------------------------------------------------------ small parts

    def _require_events(self) -> RuntimeEvents:
        if self._events is None:
            raise RuntimeUnavailable("the process runtime is not open")
        return self._events

    def _live(self, sandbox_id: str) -> Sandbox:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None or not sandbox.takes_commands:
            raise SandboxGone(f"sandbox {sandbox_id} is not running")
        return sandbox

    def _remove_scratch(self, scratch: Path) -> None:
        """Remove a sandbox's scratch space: out of the way at once, its files in the background.

        ``close`` waits for the removals still running; a server killed meanwhile
        leaves a ``.removing-`` directory that the next ``open`` removes.
        """
        # Named apart: a sandbox started again under the same id (a pooled one that could not become
        # it) may end while the first one's files are still being removed.
        doomed = scratch.with_name(f".removing-{scratch.name}-{secrets.token_hex(4)}")
        try:
            scratch.rename(doomed)
        except FileNotFoundError:
            return
        task: asyncio.Task[None] = asyncio.ensure_future(asyncio.to_thread(remove_tree, doomed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _next_token(self) -> int:
        self._tokens += 1
        return self._tokens

    def _background(self, sandbox: Sandbox, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        sandbox.tasks.add(task)
        self._tasks.add(task)
        task.add_done_callback(sandbox.tasks.discard)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    def _base_env(self, spec: LaunchSpec, scratch: Path) -> dict[str, str]:
        if self._bwrap is not None:
            env = {
                "PATH": f"{SANDBOX_PATH}:{PYTHON_ALIAS_DIR}",
                "HOME": SANDBOX_HOME,
                "PWD": WORKSPACE,
                "TMPDIR": "/tmp",
            }
        else:
            env = {
                "PATH": f"{SANDBOX_PATH}:{scratch / 'bin'}",
                "HOME": str(scratch / "home"),
                "PWD": str(scratch / "workspace"),
                "TMPDIR": str(scratch / "tmp"),
            }
        env.update({"HOSTNAME": hostname(spec.name), "LANG": "C.UTF-8"})
        env.update(spec.env)
        return env

    def _mounts(self, spec: LaunchSpec) -> list[tuple[str, Path]]:
        """``(mount path, host directory)`` of each volume, checked."""
        mounts: list[tuple[str, Path]] = []
        for mount in spec.mounts:
            mount_path, source = mount.path, self.volumes.host_path(mount.volume_id)
            if not mount_path.startswith("/") or ".." in mount_path.split("/"):
                raise LaunchFailed(f"mount path {mount_path!r} must be absolute, without '..'")
            if not source.is_dir():
                raise LaunchFailed(f"the directory of volume {mount.volume_id} for {mount_path} does not exist")
            if self._bwrap is None:
                raise LaunchFailed(
                    f"cannot mount a volume at {mount_path} with --isolation none (nothing is isolated, so "
                    "nothing can be mounted); run the server with bubblewrap to use volumes"
                )
            top = Path(mount_path).parts[1] if len(Path(mount_path).parts) > 1 else ""
            if top in ("", "proc", "dev") or top in SYSTEM_DIRS:
                raise LaunchFailed(f"cannot mount a volume at {mount_path}: it is a system directory in the sandbox")
            for other in spec.mounts:
                if other.path != mount_path and Path(mount_path).is_relative_to(other.path):
                    # bwrap would follow a link a sandbox planted in the outer volume (the service refuses it too).
                    raise LaunchFailed(f"cannot mount a volume at {mount_path}: it lies inside the mount {other.path}")
            mounts.append((mount_path, source))
        return mounts


def _spawn_error(fields: list[bytes]) -> tuple[int, str]:
    """The exit code and message of an agent's ``SPAWN_FAILED`` answer."""
    code = fields[0] if fields else b""
    message = b"\0".join(fields[1:])
    return (int(code) if code.isdigit() else 127), message.decode("utf-8", "replace")


class _NotStarted(Exception):
    """The agent could not start a ``RUN`` process: the exit code and message its stderr gets."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: Room for the descriptors a message from the agent may carry (one is expected; more are closed).
_FD_SPACE = socket.CMSG_SPACE(4 * 4)


async def receive_packet(control: socket.socket) -> tuple[bytes, list[int]]:
    """The next message from the agent and the descriptors attached to it (``b""`` once its socket closed)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            packet, ancillary, flags, _address = control.recvmsg(65536, _FD_SPACE, socket.MSG_CMSG_CLOEXEC)
        except (BlockingIOError, InterruptedError):
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(control.fileno(), _settle, readable)
            try:
                await readable
            finally:
                loop.remove_reader(control.fileno())
            continue
        fds: list[int] = []
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                usable = len(data) - len(data) % 4
                fds.extend(array.array("i", data[:usable]))
        if flags & socket.MSG_TRUNC:
            _close_all(fds)
            continue  # not a message of the protocol: larger than any the agent sends
        return packet, fds


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _forget_reader(readers: set[OutputReader], reader: OutputReader, _done: asyncio.Future[None]) -> None:
    readers.discard(reader)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("process runtime task failed", exc_info=task.exception())


def _watch_pooled(sandbox: Sandbox, lost: Callable[[], None]) -> None:
    """Call ``lost`` when a pooled sandbox's agent goes away (its pump ends) before a launch takes it."""
    if sandbox.pump is not None:
        sandbox.pump.add_done_callback(lambda _: lost())

"""The rules of the Sandbox API: names, phases, execs, attachments, TTLs.

The service sits between the HTTP routes and the store, the runtime and its
volume backend. It takes typed requests (``requests``) and answers records;
the HTTP layer turns those into the contract's JSON. It runs on one event
loop; everything that must be atomic (a name check and its insert, a phase
change and its record) happens without an ``await`` in between, so no lock is
needed.

A sandbox's life: ``create_sandbox`` records it ``queued`` and answers at
once; a background task moves it to ``creating``, asks the runtime to launch
it, and records ``running`` with what the runtime assigned (or ``failed``
with reason ``launch_failed``). It ends when its main process exits
(``succeeded``/``failed``, reason ``workload_exited``), when the runtime loses
it (``failed``, ``backend_lost``), when it is deleted (``terminated``, reason
``sdk``, ``cli`` or ``dashboard``), when its TTL runs out (``terminated``,
``ttl_expired``), or when the server shuts down (``terminated``,
``user_terminated``: the operator stopped the server that ran it). Sandboxes
that were live when the server died come back ``failed`` with reason
``backend_lost`` unless the runtime adopts them.

Streamed execs, background processes and terminals (the API's extensions)
are ``processes``: the service checks the sandbox and the runtime's
capabilities, then hands the runtime's process to a ``LiveProcess``.

Snapshots (``snapshots``), metrics (``metrics``) and environment groups
(``env_groups``) live in their own modules; the service holds one of each
and calls them where a sandbox's life touches them: a sandbox created from a
snapshot holds it while it launches; ``env_groups`` are merged into its
environment when it is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import shutil
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import errors
from ..runtimes.base import (
    SANDBOX_ENV_DEFAULTS,
    CommandRefused,
    ExecOutput,
    ExitKind,
    LaunchFailed,
    LaunchSpec,
    Process,
    ProcessSpec,
    Runtime,
    RuntimeUnavailable,
    SandboxExit,
    SandboxGone,
    Stream,
    Unsupported,
    VolumeMount,
)
from ..store import TERMINAL_PHASES, LogPage, NameTaken, SandboxFilter, SandboxRecord, Store, StoreFull, VolumeRecord
from ..volumes.base import FileReader, FileWriter, Listing, VolumeBackend
from .counts import DEFAULT_WINDOW, buckets_for
from .env_groups import EnvGroups
from .limits import SandboxLimits
from .logs import LogBook, LogRetention
from .metrics import DEFAULT_INTERVAL, MetricsSampler
from .network import NetworkAsk, port_url
from .processes import LiveProcess, ProcessBook, ProcessLimits
from .requests import ProcessRequest, SandboxRequest, VolumeRequest, check_argv, check_env
from .snapshots import SnapshotBook
from .times import parse_since
from .ttl import Clock, LoopClock, TtlTimers

logger = logging.getLogger("porter_sandbox_server")

PAGE_SIZE = 50
#: How long an exec sent to a sandbox that is still starting waits for it.
EXEC_START_WAIT = 60.0
#: How long a runtime that said it was ready is believed without asking again.
READY_CACHE_SECONDS = 1.0
#: Set in every sandbox unless its env says otherwise: Python flushes each line, so a Python main
#: process's logs arrive as it writes them, not when it exits.
#: Every phase a sandbox can be in, as the list filter takes them.
PHASES = ("queued", "creating", "running", *TERMINAL_PHASES)
#: New sandboxes, volumes and uploads are refused (507) while the data directory's disk has less free.
MIN_FREE_BYTES = 64 * 1024 * 1024
#: How often a state change the full disk refused is tried again.
SAVE_RETRY_SECONDS = 1.0
#: How long shutting down waits for launches under way.
CLOSE_WAIT_SECONDS = 15.0
#: How long an exec that found the main process gone waits for the runtime to report its end.
EXIT_REPORT_WAIT = 2.0
#: What ended a sandbox, said to an exec that came too late, by termination reason.
_ENDINGS = {
    "workload_exited": "its main process ended, and the sandbox with it",
    "backend_lost": "the runtime lost its main process",
}
#: How often a log follower looks for new lines when no write woke it (a write always does).
FOLLOW_POLL_SECONDS = 1.0


def new_id(prefix: str) -> str:
    """A fresh id that is also a valid DNS label: ``prefix`` + 12 hex digits."""
    return f"{prefix}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class ExecResult:
    """One finished exec: its id and what it printed."""

    exec_id: str
    output: ExecOutput


@dataclass(frozen=True)
class FilterValues:
    """The values the list filters can take, among all sandboxes."""

    tags: list[str]
    images: list[str]
    phases: list[str]


@dataclass(frozen=True)
class SandboxPage:
    """One page of a sandbox listing."""

    records: list[SandboxRecord]
    page: int
    total_pages: int
    filter_values: FilterValues | None = None

    @property
    def has_next_page(self) -> bool:
        """Whether a later page exists."""
        return self.page < self.total_pages


@dataclass(frozen=True)
class Counts:
    """How many matching sandboxes were created in each bucket of a window."""

    #: ``(bucket start in seconds since the epoch, count)``, oldest first, without gaps.
    points: list[tuple[float, int]]
    granularity_ms: int


@dataclass(frozen=True)
class VolumeState:
    """A volume as the API shows it: its record, its backend's phase, and the live sandboxes mounting it."""

    record: VolumeRecord
    phase: str
    attached_to: list[str]


@dataclass
class _Live:
    """What the service keeps in memory about a sandbox that has not ended."""

    record: SandboxRecord
    started: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set once it reached a terminal phase.
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    launch_error: str | None = None
    #: An exit the runtime reported before ``launch`` returned.
    early_exit: SandboxExit | None = None
    #: The snapshot it starts from, leased until its launch is over.
    snapshot_id: str | None = None
    #: Its network requests, for the runtime (kept in memory: only a runtime whose sandboxes die
    #: with the server enforces them).
    network: NetworkAsk = field(default_factory=lambda: NetworkAsk())


class SandboxService:
    """The Sandbox API's rules over a store, a runtime and its volume backend.

    ``limits`` are what a sandbox gets when its request names none (``serve --default-memory``,
    ``--max-pids``).
    """

    def __init__(
        self,
        data_dir: Path,
        runtime: Runtime,
        *,
        clock: Clock | None = None,
        default_ttl_seconds: int | None = None,
        env_groups: EnvGroups | None = None,
        metrics_interval: float = DEFAULT_INTERVAL,
        log_retention: LogRetention | None = None,
        min_free_bytes: int = MIN_FREE_BYTES,
        limits: SandboxLimits | None = None,
        process_limits: ProcessLimits | None = None,
    ) -> None:
        self.data_dir = data_dir
        #: The lifetime of a sandbox created without ``ttl_seconds`` (``None``: it lives until terminated).
        self.default_ttl_seconds = default_ttl_seconds
        self.runtime = runtime
        #: The port the server listens on, once bound: sandboxes' ports are served there (``http.port_proxy``).
        self.proxy_port: int | None = None
        self.limits = limits or SandboxLimits()
        self.volumes: VolumeBackend = runtime.volumes
        self.clock: Clock = clock or LoopClock()
        self.env_groups = env_groups or EnvGroups()
        self.snapshots = SnapshotBook(runtime, self.clock, self._spawn, new_id)
        self.metrics = MetricsSampler(runtime, self.clock, metrics_interval)
        self.log_retention = log_retention or LogRetention()
        self.min_free_bytes = min_free_bytes
        #: Streamed execs, background processes and terminals, per sandbox.
        self.processes = ProcessBook(process_limits or ProcessLimits())
        self._store: Store | None = None
        self._logs: LogBook | None = None
        #: Records whose last change a full disk refused: answered from here, saved once it can be.
        self._unsaved: dict[str, SandboxRecord] = {}
        self._save_timer: Any = None
        self._ttl = TtlTimers(self.clock, self._ttl_expired)
        self._live: dict[str, _Live] = {}
        self._attached: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Launches under way: shutting down lets them finish, so they stop what they started.
        self._launching: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._closed = False
        self._ready_until = 0.0

    # Start-up and shut-down

    async def start(self) -> None:
        """Open the store, the volume backend and the runtime; recover what the last run left live.

        Raises ``RuntimeUnavailable`` when the runtime cannot be used at all.
        """
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        secure_data_dir(self.data_dir)
        self._store = Store(self.data_dir / "porter-sandbox.db")
        self._logs = LogBook(self._store, self.clock, self.log_retention)
        await self.volumes.open()
        await self.runtime.open(self)
        await self.snapshots.open(self._store.snapshots)
        await self._recover()
        self.metrics.start(self._store.metrics, self._running_since)

    def _running_since(self) -> dict[str, float]:
        """The running sandboxes, each with when it started: what the metrics sampler samples."""
        return {
            sandbox_id: entry.record.started_at
            for sandbox_id, entry in self._live.items()
            if entry.record.phase == "running" and entry.record.started_at is not None
        }

    async def _recover(self) -> None:
        store = self.store
        live = store.live_sandboxes()
        if not live:
            return
        adopted = await self.runtime.adopt([self._launch_spec(record) for record in live])
        now = self.clock.time()
        for record in live:
            if record.id in adopted and record.phase == "running":
                entry = _Live(record)
                entry.started.set()
                self._track(entry)
                if record.ttl_deadline is not None:
                    self._ttl.arm(record.id, record.ttl_deadline)
                continue
            if record.id in adopted:
                # The server died mid-launch: what runs is not what the record says; stop it.
                with contextlib.suppress(Exception):
                    await self.runtime.stop(record.id)
            record.phase = "failed"
            record.termination_reason = "backend_lost"
            record.finished_at = now
            self._save(record)
            self.logbook.append(
                record.id, "", "stderr", "the server stopped while this sandbox was live (backend_lost)"
            )
        self.logbook.flush()

    async def close(self) -> None:
        """Terminate every live sandbox (reason ``user_terminated``), flush logs, close the runtime and store.

        Launches under way finish first (they stop what they started once they
        see it terminated), so the runtime is left with nothing to clean up
        but what it can stop itself.
        """
        if self._closed:
            return
        self._closed = True
        await self.metrics.stop()
        live = list(self._live)
        if live:
            await asyncio.gather(*(self.terminate(sandbox_id, "user_terminated") for sandbox_id in live))
        self._ttl.cancel_all()
        if self._launching:
            await asyncio.wait(set(self._launching), timeout=CLOSE_WAIT_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.runtime.close(stop_sandboxes=True)
        if self._save_timer is not None:
            self._save_timer.cancel()
        self._save_unsaved()
        if self._unsaved:
            logger.error(
                "the disk is full: the last state of sandboxes %s could not be recorded",
                ", ".join(sorted(self._unsaved)),
            )
        if self._logs is not None:
            self._logs.flush()
        if self._store is not None:
            self._store.close()

    @property
    def store(self) -> Store:
        """The store (once started)."""
        if self._store is None:
            raise RuntimeError("the service is not started")
        return self._store

    def _save(self, record: SandboxRecord) -> None:
        """Record the sandbox's state; a full disk keeps it in memory, answered from there, tried again later."""
        self._unsaved.pop(record.id, None)
        try:
            self.store.update_state(record)
        except StoreFull:
            if not self._unsaved:
                logger.warning("the disk is full: sandbox states are kept in memory and recorded once it has room")
            self._unsaved[record.id] = record
            if self._save_timer is None:
                self._save_timer = self.clock.call_later(SAVE_RETRY_SECONDS, self._retry_saves)

    def _retry_saves(self) -> None:
        self._save_timer = None
        self._save_unsaved()
        if self._unsaved and not self._closed:
            self._save_timer = self.clock.call_later(SAVE_RETRY_SECONDS, self._retry_saves)

    def _save_unsaved(self) -> None:
        for sandbox_id, record in list(self._unsaved.items()):
            try:
                self.store.update_state(record)
            except StoreFull:
                return
            if self._unsaved.get(sandbox_id) is record:
                del self._unsaved[sandbox_id]

    def check_free_space(self, what: str) -> None:
        """Raise ``InsufficientStorage`` while the data directory's disk has less than ``min_free_bytes`` free."""
        try:
            free = shutil.disk_usage(self.data_dir).free
        except OSError:
            return
        if free < self.min_free_bytes:
            raise errors.InsufficientStorage(
                f"the disk of the server's data directory is full ({free} bytes free; {what} needs "
                f"{self.min_free_bytes} free): free some space, such as by deleting volumes or files, and retry"
            )

    def accepting_logs(self) -> bool:
        """Whether the log book takes more lines now (``RuntimeEvents``); runtimes hold output while it does not."""
        return self._logs is None or self._logs.accepting()

    @property
    def logbook(self) -> LogBook:
        """The sandboxes' logs (once started)."""
        if self._logs is None:
            raise RuntimeError("the service is not started")
        return self._logs

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task failed", exc_info=task.exception())

    # Health

    async def readiness(self) -> tuple[str | None, int]:
        """Why sandboxes cannot run now (``None`` when they can), and how many are live."""
        reason = await self.runtime.readiness()
        self._ready_until = time.monotonic() + READY_CACHE_SECONDS if reason is None else 0.0
        return reason, self.store.count_live()

    async def _runtime_unavailable(self) -> str | None:
        # A runtime that was ready a moment ago is taken at its word: asking costs a round trip
        # to the engine (Docker), too much for every create. A launch that finds it down resets this.
        if time.monotonic() < self._ready_until:
            return None
        reason, _ = await self.readiness()
        return reason

    # Sandboxes

    async def create_sandbox(self, request: SandboxRequest) -> SandboxRecord:
        """Record a sandbox ``queued``, start launching it, and answer its record."""
        sandbox_id = new_id("sb")
        name = request.name if request.name is not None else sandbox_id
        mounts = dict(request.volume_mounts or {})
        env = self.env_groups.merge(request.env_groups, request.env or {})
        check_env(env)
        network = self._check_network_requests(request)
        unavailable = await self._runtime_unavailable()
        if unavailable is not None:
            raise errors.Unavailable(f"sandboxes cannot run now: {unavailable}", headers={"Retry-After": "5"})
        self.check_free_space("a new sandbox")
        # Checked after the last await: from here to the insert nothing else runs, so a volume
        # cannot be deleted between this check and the sandbox's attachment.
        for mount_path, volume_id in mounts.items():
            if self.store.get_volume(volume_id) is None:
                raise errors.BadRequest(
                    f"volume_mounts: no volume has the id {volume_id!r} (at {mount_path}); give a volume's id "
                    "(the SDK and the CLI also take its name), or create it first with POST /v1/volume"
                )
        image = request.image
        if request.snapshot_id is not None:
            # Leased from here (no await before the insert): a delete cannot free its files under the launch.
            image = self.snapshots.lease(request.snapshot_id, request.image).image
        record = SandboxRecord(
            id=sandbox_id,
            name=name,
            image=image,
            tags=dict(request.tags or {}),
            command=list(request.command) if request.command is not None else None,
            args=list(request.args) if request.args is not None else None,
            env=env,
            volume_mounts=mounts,
            memory_bytes=request.memory_bytes,
            cpu_millis=request.cpu_millis,
            ttl_seconds=request.ttl_seconds if request.ttl_seconds is not None else self.default_ttl_seconds,
            phase="queued",
            created_at=self.clock.time(),
        )
        try:
            self.store.insert_sandbox(record)
        except NameTaken:
            if request.snapshot_id is not None:
                self.snapshots.release(request.snapshot_id)
            raise errors.Conflict(
                f"sandbox name {name!r} is taken: names are never reused, even after termination; choose another"
            ) from None
        entry = _Live(record, snapshot_id=request.snapshot_id, network=network)
        self._track(entry)
        launching = self._spawn(self._launch(entry))
        self._launching.add(launching)
        launching.add_done_callback(self._launching.discard)
        return record

    def _check_network_requests(self, request: SandboxRequest) -> NetworkAsk:
        """Refuse what the runtime cannot enforce: a policy accepted and ignored would be believed."""
        capabilities = self.runtime.capabilities
        if request.egress is not None and not capabilities.egress:
            raise errors.BadRequest(
                f"egress: the {self.runtime.name} runtime of this server cannot enforce an egress policy, so a "
                "sandbox that asks for one is refused rather than started unrestricted; leave out egress to run "
                f"with open egress{self.runtime.network_note()}"
            )
        if request.networking and not capabilities.networking:
            raise errors.BadRequest(
                f"networking: the {self.runtime.name} runtime of this server cannot serve a sandbox's ports; "
                f"leave out networking{self.runtime.network_note()}"
            )
        return NetworkAsk.from_request(request.egress, request.networking)

    def _track(self, entry: _Live) -> None:
        self._live[entry.record.id] = entry
        for volume_id in entry.record.volume_mounts.values():
            self._attached.setdefault(volume_id, set()).add(entry.record.id)

    def _untrack(self, sandbox_id: str) -> None:
        entry = self._live.pop(sandbox_id, None)
        if entry is None:
            return
        self._ttl.cancel(sandbox_id)
        for volume_id in entry.record.volume_mounts.values():
            holders = self._attached.get(volume_id)
            if holders is not None:
                holders.discard(sandbox_id)
                if not holders:
                    del self._attached[volume_id]

    @staticmethod
    def _environment(record: SandboxRecord) -> dict[str, str]:
        """The sandbox's env, over what every sandbox gets unless it says otherwise."""
        return {**SANDBOX_ENV_DEFAULTS, **record.env}

    def _launch_spec(self, record: SandboxRecord) -> LaunchSpec:
        mounts = sorted(record.volume_mounts.items())
        memory = record.memory_bytes if record.memory_bytes is not None else self.limits.default_memory_bytes
        return LaunchSpec(
            sandbox_id=record.id,
            name=record.name,
            image=record.image,
            command=record.command,
            args=record.args,
            env=self._environment(record),
            tags=record.tags,
            mounts=tuple(VolumeMount(path, volume_id) for path, volume_id in mounts),
            memory_bytes=memory,
            cpu_millis=record.cpu_millis,
            pids_max=self.limits.max_pids,
        )

    def served_port(self, name: str, port: int) -> str:
        """The id of the live sandbox ``name`` that serves ``port`` publicly; ``errors.NotFound`` otherwise."""
        # A sandbox created without a name is named by its id.
        sandbox_id = self.store.sandbox_id_by_name(name) or name
        entry = self._live.get(sandbox_id)
        if entry is None:
            raise errors.NotFound(
                f"no running sandbox is named {name!r}: the host names <port>-<sandbox name>.localhost"
            )
        if port not in entry.network.public_ports:
            raise errors.NotFound(
                f"sandbox {name!r} does not serve port {port}: a port is served when the sandbox lists it in "
                "networking (internal ports are reached from other sandboxes only)"
            )
        return entry.record.id

    def _served_at(self, entry: _Live) -> str:
        """Where the server's proxy serves the sandbox's first public port, or ``""``."""
        public = entry.network.public_ports
        if not public or self.proxy_port is None:
            return ""
        return port_url(public[0], entry.record.name, self.proxy_port)

    def _launch_spec_of(self, entry: _Live) -> LaunchSpec:
        network = entry.network
        return replace(
            self._launch_spec(entry.record),
            snapshot_id=entry.snapshot_id,
            egress=network.egress,
            ports=network.ports,
            internal_ports=network.internal_ports,
        )

    async def _launch(self, entry: _Live) -> None:
        try:
            await self._start(entry)
        finally:
            if entry.snapshot_id is not None:
                self.snapshots.release(entry.snapshot_id)

    async def _start(self, entry: _Live) -> None:
        record = entry.record
        if record.terminal:
            return
        record.phase = "creating"
        self._save(record)
        try:
            placement = await self.runtime.launch(self._launch_spec_of(entry))
        except (LaunchFailed, RuntimeUnavailable, OSError) as error:
            if isinstance(error, RuntimeUnavailable):
                self._ready_until = 0.0
            message = str(error) or type(error).__name__
            entry.launch_error = message
            if not record.terminal:
                self.logbook.append(record.id, "", "stderr", f"the sandbox could not start: {message}")
                self._finish(entry, "failed", "launch_failed", None)
            return
        if record.terminal:
            # Terminated while it was starting: stop what the runtime just started.
            await self.runtime.stop(record.id)
            return
        record.phase = "running"
        record.started_at = self.clock.time()
        record.host = placement.host or self._served_at(entry)
        for note in entry.network.domain_notes(record.host):
            self.logbook.note(record.id, note)
        record.internal_address = placement.internal_address
        if record.ttl_seconds:
            record.ttl_deadline = record.started_at + record.ttl_seconds
            self._ttl.arm(record.id, record.ttl_deadline)
        self._save(record)
        entry.started.set()
        if entry.early_exit is not None:
            self.exited(record.id, entry.early_exit)

    def _ttl_expired(self, sandbox_id: str) -> None:
        if sandbox_id in self._live:
            self._spawn(self.terminate(sandbox_id, "ttl_expired"))

    def _finish(self, entry: _Live, phase: str, reason: str, exit_code: int | None) -> None:
        record = entry.record
        record.phase = phase
        record.termination_reason = reason
        record.exit_code = exit_code
        record.finished_at = self.clock.time()
        self._save(record)
        self._untrack(record.id)
        self.processes.sandbox_ended(record.id)
        entry.started.set()
        entry.ended.set()
        self.logbook.flush()
        self.logbook.wake_followers()  # those following its log read its last lines and end

    def get_record(self, sandbox_id: str) -> SandboxRecord:
        """The sandbox's record; ``NotFound`` when no sandbox has this id."""
        entry = self._live.get(sandbox_id)
        if entry is not None:
            return entry.record
        record = self._unsaved.get(sandbox_id) or self.store.get_sandbox(sandbox_id)
        if record is None:
            raise errors.NotFound(
                f"no sandbox has the id {sandbox_id!r}; list them with GET /v1/sandbox or find one by name with GET /v1/sandbox/lookup"
            )
        return record

    def lookup_sandbox(self, name: str) -> str:
        """The id of the sandbox that has (or had) this name."""
        sandbox_id = self.store.sandbox_id_by_name(name)
        if sandbox_id is None:
            raise errors.NotFound(f"no sandbox is named {name!r}")
        return sandbox_id

    def list_sandboxes(self, where: SandboxFilter, page: int, include_filter_values: bool) -> SandboxPage:
        """One page of matching sandboxes, newest first."""
        records, total = self.store.list_sandboxes(where, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        if self._unsaved:
            records = [self._unsaved.get(record.id, record) for record in records]
        values = FilterValues(*self.store.filter_values(), list(PHASES)) if include_filter_values else None
        return SandboxPage(records, page, max(1, math.ceil(total / PAGE_SIZE)), values)

    def counts(self, where: SandboxFilter) -> Counts:
        """Matching sandboxes per gap-free bucket across the creation window (the last day by default)."""
        end = where.end if where.end is not None else self.clock.time()
        start = where.start if where.start is not None else end - DEFAULT_WINDOW
        buckets = buckets_for(start, end)
        if buckets is None:
            # An empty window: nothing to count (a valid request, so not an error).
            return Counts(points=[], granularity_ms=1_000)
        counted = self.store.count_buckets(replace(where, start=start, end=end), buckets.origin, buckets.width)
        points = [(buckets.start_of(index), counted.get(index, 0)) for index in range(buckets.count)]
        return Counts(points=points, granularity_ms=buckets.granularity_ms)

    async def exec(self, sandbox_id: str, command: Sequence[str]) -> ExecResult:
        """Run ``command`` in the sandbox (waiting for it to start); answer what it printed."""
        if not command:
            raise errors.BadRequest('command is empty; give the program and its arguments, such as ["ls", "-l"]')
        check_argv(command, "command")
        entry = await self._running(sandbox_id)
        record = entry.record
        exec_id = new_id("ex")
        try:
            output = await self.runtime.exec(sandbox_id, list(command), exec_id, self._environment(record))
        except SandboxGone as gone:
            raise await self._gone(entry, gone) from None
        except CommandRefused as error:
            raise errors.BadRequest(str(error)) from None
        except RuntimeUnavailable as error:
            raise errors.Unavailable(f"the runtime cannot be reached: {error}", headers={"Retry-After": "5"}) from None
        return ExecResult(exec_id, output)

    async def _gone(self, entry: _Live, gone: SandboxGone) -> errors.Conflict:
        """The answer to a command the runtime found no running sandbox for.

        The runtime saw the sandbox end before its end was reported: this waits
        for the report, so the answer says how it ended rather than that a
        running sandbox is not running.
        """
        sandbox_id = entry.record.id
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(entry.ended.wait(), EXIT_REPORT_WAIT)
        record = self.get_record(sandbox_id)
        if not record.terminal:
            return errors.Conflict(
                f"sandbox {sandbox_id} is no longer running: its main process ended ({gone}) and its end is "
                "being recorded; exec needs a running sandbox, so see its logs and create a new one"
            )
        return errors.Conflict(self._not_running_message(record, entry.launch_error))

    async def _running(self, sandbox_id: str) -> _Live:
        """The sandbox once it runs (waiting while it starts); ``Conflict`` when it will not."""
        entry = self._live.get(sandbox_id)
        if entry is None:
            record = self.get_record(sandbox_id)
            raise errors.Conflict(self._not_running_message(record, None))
        if not entry.started.is_set():
            try:
                await asyncio.wait_for(entry.started.wait(), EXEC_START_WAIT)
            except asyncio.TimeoutError:
                raise errors.Conflict(
                    f"sandbox {sandbox_id} did not start within {EXEC_START_WAIT:g}s; retry later"
                ) from None
        record = entry.record
        if record.phase != "running":
            raise errors.Conflict(self._not_running_message(record, entry.launch_error))
        return entry

    # Processes (the extensions: streamed execs, background processes, terminals)

    def extensions(self) -> list[str]:
        """The extensions this server serves with its runtime (``GET /x/v1/capabilities``)."""
        found = ["logs_follow"]
        if self.runtime.capabilities.streaming_exec:
            found += ["exec", "exec_stream", "processes"]
        if self.runtime.capabilities.terminal:
            found.append("terminal")
        return sorted(found)

    async def start_process(self, sandbox_id: str, request: ProcessRequest, *, background: bool) -> LiveProcess:
        """Start ``request`` in the running sandbox; answer it running (its output goes to its pump)."""
        capabilities = self.runtime.capabilities
        if not capabilities.streaming_exec:
            raise errors.NotSupported(
                f"streamed execs, stdin, timeouts and background processes are not supported by the "
                f"{self.runtime.name} runtime of this server; plain exec (POST /v1/sandbox/{{id}}/exec) works"
            )
        if request.terminal is not None and not capabilities.terminal:
            raise errors.NotSupported(f"terminals are not supported by the {self.runtime.name} runtime of this server")
        self.get_record(sandbox_id)  # NotFound first
        table = self.processes.table(sandbox_id)
        with table.starting(sandbox_id):
            entry = await self._running(sandbox_id)
            record = entry.record
            exec_id = new_id("ex")
            spec = ProcessSpec(
                command=list(request.command),
                env={**self._environment(record), **request.env},
                cwd=request.cwd,
                stdin=request.stdin is not None or request.stdin_open,
                terminal=request.terminal,
            )
            try:
                process = await self.runtime.start_process(sandbox_id, spec, exec_id)
            except SandboxGone as gone:
                raise await self._gone(entry, gone) from None
            except CommandRefused as error:
                raise errors.BadRequest(str(error)) from None
            except Unsupported as error:
                raise errors.NotSupported(f"{error}; plain exec (POST /v1/sandbox/{{id}}/exec) works") from None
            except RuntimeUnavailable as error:
                raise errors.Unavailable(
                    f"the runtime cannot be reached: {error}", headers={"Retry-After": "5"}
                ) from None
            live = self._live_process(sandbox_id, exec_id, request, process, background)
            table.add(live)
        return live

    def _live_process(
        self, sandbox_id: str, exec_id: str, request: ProcessRequest, process: Process, background: bool
    ) -> LiveProcess:
        return LiveProcess(
            exec_id=exec_id,
            sandbox_id=sandbox_id,
            request=request,
            background=background,
            started_at=self.clock.time(),
            process=process,
            limits=self.processes.limits,
            output_limits=self.runtime.output_limits,
            log=lambda stream, line: self.logbook.append(sandbox_id, exec_id, stream, line),
            accepting=self.accepting_logs,
            spawn=self._spawn,
            now=self.clock.time,
        )

    def process(self, sandbox_id: str, exec_id: str) -> LiveProcess:
        """One process of the sandbox (running, or among the newest ended); ``NotFound`` otherwise."""
        self.get_record(sandbox_id)
        table = self.processes.find(sandbox_id)
        if table is None:
            raise errors.NotFound(
                f"sandbox {sandbox_id} has no process {exec_id!r}; list them with GET /x/v1/sandbox/{sandbox_id}/processes"
            )
        return table.get(sandbox_id, exec_id)

    def list_processes(self, sandbox_id: str) -> list[LiveProcess]:
        """The sandbox's processes (running, and the newest that ended), oldest first."""
        self.get_record(sandbox_id)
        table = self.processes.find(sandbox_id)
        return table.all() if table is not None else []

    def forget_process(self, sandbox_id: str, exec_id: str) -> None:
        """Kill the process (its whole group) if it runs, and forget it."""
        process = self.process(sandbox_id, exec_id)
        process.abandon()
        table = self.processes.find(sandbox_id)
        if table is not None:
            table.remove(exec_id)

    def follow_logs(
        self, sandbox_id: str, since: str | None, limit: int | None
    ) -> AsyncIterator[list[tuple[float, str, str, str]]]:
        """The sandbox's lines after ``since`` (the newest ``limit`` of them), then the new ones, until it ended.

        Checked now (``NotFound``, a bad ``since``); the iterator then answers
        batches of lines as the log book writes them (an empty batch each
        ``FOLLOW_POLL_SECONDS`` when none came), and once the sandbox ended,
        the rest of its lines, then stops.
        """
        self.get_record(sandbox_id)
        since_ts = parse_since(since, self.clock.time()) if since is not None else None
        return self._follow(sandbox_id, since_ts, limit)

    async def _follow(
        self, sandbox_id: str, since: float | None, limit: int | None
    ) -> AsyncIterator[list[tuple[float, str, str, str]]]:
        page = self.logbook.read(sandbox_id, since, limit)
        while True:
            if page.rows:
                since = page.rows[-1][0]
            yield page.rows
            if page.truncated:
                page = self.logbook.read_written(sandbox_id, since)
                continue
            if sandbox_id not in self._live:
                # Ended: a read writes what waits, so this answers its last lines; then nothing more comes.
                page = self.logbook.read(sandbox_id, since, None)
                if not page.rows:
                    return
                continue
            await self.logbook.wait_written(FOLLOW_POLL_SECONDS)
            page = self.logbook.read_written(sandbox_id, since)

    def _not_running_message(self, record: SandboxRecord, launch_error: str | None) -> str:
        """Why an exec cannot run: the phase, the reason, the exit code and the last error line it logged."""
        self.logbook.flush()
        if record.termination_reason == "launch_failed":
            detail = launch_error or self.store.last_error_line(record.id) or "see its logs"
            return f"sandbox {record.id} failed to start (launch_failed: {detail}); fix that and create a new one"
        if record.terminal:
            how = str(record.termination_reason)
            if record.exit_code is not None:
                how += f", exit code {record.exit_code}"
            ending = _ENDINGS.get(str(record.termination_reason))
            why = f": {ending}" if ending else ""
            last = self.store.last_error_line(record.id)
            said = f"; its last error line: {last!r}" if last else ""
            return (
                f"sandbox {record.id} is {record.phase} ({how}){why}{said}; "
                "exec needs a running sandbox, so create a new one"
            )
        return f"sandbox {record.id} is {record.phase}, not running"

    async def terminate(self, sandbox_id: str, reason: str) -> None:
        """End the sandbox with ``reason``; a no-op when it already ended."""
        entry = self._live.get(sandbox_id)
        if entry is None:
            self.get_record(sandbox_id)  # NotFound for unknown ids
            return
        was_launching = entry.record.phase in ("queued", "creating")
        self._finish(entry, "terminated", reason, None)
        if was_launching:
            # The launch task stops whatever the runtime starts once it notices.
            return
        try:
            await self.runtime.stop(sandbox_id)
        except Exception:
            logger.exception("stopping sandbox %s failed", sandbox_id)
        self.logbook.flush()
        self.logbook.forget(sandbox_id)

    # Runtime events

    def log(self, sandbox_id: str, exec_id: str, stream: Stream, line: str) -> None:
        """A line the sandbox wrote (``RuntimeEvents``); written in batches."""
        if threading.get_ident() != self._loop_thread and self._loop is not None:
            self._loop.call_soon_threadsafe(self.logbook.append, sandbox_id, exec_id, stream, line)
            return
        self.logbook.append(sandbox_id, exec_id, stream, line)

    def exited(self, sandbox_id: str, end: SandboxExit) -> None:
        """The main process ended, or the runtime lost the sandbox (``RuntimeEvents``)."""
        if threading.get_ident() != self._loop_thread and self._loop is not None:
            self._loop.call_soon_threadsafe(self.exited, sandbox_id, end)
            return
        entry = self._live.get(sandbox_id)
        if entry is None:
            return
        if entry.record.phase != "running":
            entry.early_exit = end
            return
        if end.message:
            self.logbook.append(sandbox_id, "", "stderr", end.message)
        if end.kind is ExitKind.LOST:
            self._finish(entry, "failed", "backend_lost", end.exit_code)
        else:
            phase = "succeeded" if end.exit_code == 0 else "failed"
            self._finish(entry, phase, "workload_exited", end.exit_code)
        self._spawn(self._cleanup(sandbox_id))

    async def _cleanup(self, sandbox_id: str) -> None:
        try:
            await self.runtime.stop(sandbox_id)
        except Exception:
            logger.exception("cleaning up sandbox %s failed", sandbox_id)
        self.logbook.forget(sandbox_id)

    def logs(self, sandbox_id: str, limit: int | None, since: str | None) -> LogPage:
        """A bounded page of the sandbox's ``(timestamp, line, level, exec_id)`` lines, oldest first."""
        self.get_record(sandbox_id)
        since_ts = parse_since(since, self.clock.time()) if since is not None else None
        return self.logbook.read(sandbox_id, since_ts, limit)

    # Volumes

    async def create_volume(self, request: VolumeRequest) -> VolumeState:
        """Create a volume in the runtime's volume backend."""
        if request.type not in self.runtime.capabilities.volume_types:
            kinds = ", ".join(sorted(self.runtime.capabilities.volume_types))
            why = (
                ": an object volume exposes a bucket registered on a Porter cluster, and this server has no object store"
                if request.type == "object"
                else ""
            )
            raise errors.BadRequest(
                f"the {self.runtime.name} runtime of this server makes only {kinds} volumes{why}; "
                "leave out type and object (or use type: disk)"
            )
        self.check_free_space("a new volume")
        volume_id = new_id("vol")
        name = request.name if request.name is not None else volume_id
        if self.store.volume_id_by_name(name) is not None:
            raise errors.Conflict(f"a volume named {name!r} exists; choose another name or delete that volume first")
        # The volume first, then its record: a record is never left without its volume (a full disk
        # can refuse the record, and then also the write that would take it back).
        phase = await self.volumes.create(volume_id)
        record = VolumeRecord(id=volume_id, name=name, created_at=self.clock.time())
        try:
            self.store.insert_volume(record)
        except BaseException as error:
            await self.volumes.delete(volume_id)
            if isinstance(error, NameTaken):
                raise errors.Conflict(
                    f"a volume named {name!r} exists; choose another name or delete that volume first"
                ) from None
            raise
        return VolumeState(record, phase, [])

    def get_volume_record(self, volume_id: str) -> VolumeRecord:
        """The volume's record; ``NotFound`` when no volume has this id."""
        record = self.store.get_volume(volume_id)
        if record is None:
            raise errors.NotFound(f"no volume has the id {volume_id!r}; list them with GET /v1/volume")
        return record

    async def _state(self, record: VolumeRecord) -> VolumeState:
        phase = await self.volumes.phase(record.id)
        return VolumeState(record, phase, sorted(self._attached.get(record.id, ())))

    async def get_volume(self, volume_id: str) -> VolumeState:
        """The volume, with its phase and attachments."""
        return await self._state(self.get_volume_record(volume_id))

    async def list_volumes(self) -> list[VolumeState]:
        """Every volume, oldest first."""
        return [await self._state(record) for record in self.store.list_volumes()]

    def lookup_volume(self, name: str) -> str:
        """The id of the existing volume with this name."""
        volume_id = self.store.volume_id_by_name(name)
        if volume_id is None:
            raise errors.NotFound(f"no volume is named {name!r}")
        return volume_id

    async def delete_volume(self, volume_id: str) -> None:
        """Delete the volume and its files; ``Conflict`` while a live sandbox mounts it."""
        self.get_volume_record(volume_id)
        holders = self._attached.get(volume_id)
        if holders:
            raise errors.Conflict(
                f"volume {volume_id} is attached to live sandboxes {', '.join(sorted(holders))}; terminate them first"
            )
        self.store.delete_volume(volume_id)
        await self.volumes.delete(volume_id)

    # Volume files

    async def list_volume_files(self, volume_id: str, path: str, search: str | None) -> Listing:
        """The nested tree under ``path`` in the volume."""
        self.get_volume_record(volume_id)
        return await self.volumes.list_files(volume_id, path, search)

    async def open_volume_file(self, volume_id: str, path: str) -> FileReader:
        """The volume's file at ``path``, opened for reading; the caller closes it."""
        self.get_volume_record(volume_id)
        return await self.volumes.open_file(volume_id, path)

    async def begin_volume_write(self, volume_id: str, path: str) -> FileWriter:
        """An atomic upload to ``path`` in the volume; the caller commits or aborts it."""
        self.get_volume_record(volume_id)
        self.check_free_space("an upload")
        return await self.volumes.begin_write(volume_id, path)

    async def move_volume_file(self, volume_id: str, source: str, destination: str) -> None:
        """Move a file or directory inside the volume."""
        self.get_volume_record(volume_id)
        await self.volumes.move(volume_id, source, destination)


def secure_data_dir(data_dir: Path) -> None:
    """Make the data directory (if needed) and keep it mode 0700: only the server's user may enter it.

    Volumes and sandbox scratch space below it hold files that sandboxes made, setuid ones
    included; no other local user may reach them. A directory an older server left wider is
    narrowed, and the log says so.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = data_dir.stat().st_mode & 0o7777
    if mode != 0o700:
        data_dir.chmod(0o700)
        logger.warning(
            "the data directory %s was mode %o; it is 0700 now (only the server's user may enter it)", data_dir, mode
        )

"""The rules of the Sandbox API: names, phases, execs, logs, volumes, TTLs.

The service sits between the HTTP routes and the store and runtime. It runs
on one event loop; everything that must be atomic (a name check and its
insert, a phase change and its record) happens without an ``await`` in
between, so no lock is needed.

A sandbox's life: ``create`` records it ``queued`` and answers at once; a
background task moves it to ``creating``, asks the runtime to launch it, and
records ``running`` (or ``failed`` with reason ``launch_failed``). It ends
when its main process exits (``succeeded``/``failed``, reason
``workload_exited``), when it is deleted (``terminated``, reason ``sdk``,
``cli`` or ``dashboard``), when its TTL runs out (``terminated``,
``ttl_expired``), or when the server shuts down (``terminated``,
``user_terminated``: the operator stopped the server that ran it). Sandboxes
that were live when the server died come back ``failed`` with reason
``backend_lost`` unless the runtime adopts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import secrets
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dateutil.parser import isoparse
from porter_sandbox_api.models.count_point import CountPoint
from porter_sandbox_api.models.counts_response import CountsResponse
from porter_sandbox_api.models.create_response import CreateResponse
from porter_sandbox_api.models.exec_response import ExecResponse
from porter_sandbox_api.models.filter_values import FilterValues
from porter_sandbox_api.models.list_sandboxes_response import ListSandboxesResponse
from porter_sandbox_api.models.list_volumes_response import ListVolumesResponse
from porter_sandbox_api.models.log_entry import LogEntry
from porter_sandbox_api.models.logs_response import LogsResponse
from porter_sandbox_api.models.pagination import Pagination
from porter_sandbox_api.models.status_response import StatusResponse
from porter_sandbox_api.models.string_map import StringMap
from porter_sandbox_api.models.volume import Volume

from . import errors
from .quantities import QuantityError, parse_cpu_millis, parse_memory_bytes
from .runtime import LaunchFailed, LaunchSpec, Runtime, RuntimeUnavailable, SandboxGone, Stream
from .store import LogRow, NameTaken, SandboxFilter, SandboxRecord, Store, VolumeRecord

logger = logging.getLogger("porter_sandbox_server")

PAGE_SIZE = 50
#: How long an exec sent to a sandbox that is still starting waits for it.
EXEC_START_WAIT = 60.0
#: How long a runtime that said it was ready is believed without asking again.
READY_CACHE_SECONDS = 1.0
#: Log lines wait at most this long in memory before they are written.
LOG_FLUSH_DELAY = 0.05
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: Bucket widths for counts, smallest first; the first that gives at most
#: ``_MAX_BUCKETS`` buckets across the window wins.
_GRANULARITIES_MS = [
    1_000,
    10_000,
    60_000,
    300_000,
    900_000,
    3_600_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    604_800_000,
    2_592_000_000,
    31_536_000_000,
]
_MAX_BUCKETS = 120
_MAX_TTL_SECONDS = 100 * 365 * 86400
#: The earliest time an answer can carry (0001-01-01T00:00:00Z), as seconds since the epoch.
_EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()
_DEFAULT_COUNTS_WINDOW = 86_400.0


def _timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def new_id(prefix: str) -> str:
    """A fresh id that is also a valid DNS label: ``prefix`` + 12 hex digits."""
    return f"{prefix}-{secrets.token_hex(6)}"


def check_name(name: str, what: str) -> None:
    """Raise ``BadRequest`` unless ``name`` is a DNS label."""
    if not _NAME.match(name):
        raise errors.BadRequest(
            f"{what} name {name!r} is invalid: use 1 to 63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )


def parse_time(text: str, what: str) -> float:
    """An RFC 3339 time as seconds since the epoch; ``BadRequest`` otherwise."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _isoparse(value)
    if parsed is None:
        raise errors.BadRequest(
            f"{what} {text!r} is not an RFC 3339 time; use a form such as 2024-05-01T12:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError):
        raise errors.BadRequest(f"{what} {text!r} is out of range") from None


def _check_mount_path(mount_path: str) -> None:
    if not mount_path.startswith("/"):
        raise errors.BadRequest(
            f"volume_mounts: mount path {mount_path!r} is relative; use an absolute path such as /data"
        )
    if mount_path == "/" or ".." in mount_path.split("/") or "\0" in mount_path:
        raise errors.BadRequest(
            f"volume_mounts: mount path {mount_path!r} is not allowed; use an absolute directory such as /data"
        )


def _check_argv(argv: Sequence[str], what: str) -> None:
    for index, item in enumerate(argv):
        if "\0" in item:
            raise errors.BadRequest(f"{what}[{index}] holds a NUL character, which no program can receive; remove it")


def _check_env(env: Mapping[str, str]) -> None:
    for key, value in env.items():
        if not key or "=" in key or "\0" in key:
            raise errors.BadRequest(f"env name {key!r} is invalid: use a non-empty name without '=' or NUL")
        if "\0" in value:
            raise errors.BadRequest(f"env {key!r} holds a NUL character, which no program can receive; remove it")


def _isoparse(text: str) -> datetime | None:
    # fromisoformat misses some RFC 3339 forms (nanoseconds, a lowercase "t") that dateutil reads.
    try:
        return isoparse(text.upper())
    except (ValueError, OverflowError):
        return None


def parse_since(text: str, now: float) -> float:
    """``since`` as seconds since the epoch: an RFC 3339 time or a duration back from ``now``."""
    stripped = text.strip()
    if stripped and _DURATION_PART.sub("", stripped) == "":
        seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(stripped))
        return now - seconds
    try:
        return parse_time(stripped, "since")
    except errors.BadRequest:
        raise errors.BadRequest(
            f"since {text!r} is neither an RFC 3339 time (2024-05-01T12:00:00Z) nor a duration (30s, 5m, 2h)"
        ) from None


@dataclass
class _Live:
    """What the service keeps in memory about a sandbox that has not ended."""

    record: SandboxRecord
    started: asyncio.Event = field(default_factory=asyncio.Event)
    launch_error: str | None = None
    #: An exit the runtime reported before ``launch`` returned.
    early_exit: tuple[int, str | None] | None = None
    ttl_timer: asyncio.TimerHandle | None = None


class SandboxService:
    """The Sandbox API's rules over a store and a runtime. ``request.app.state.service`` in the app."""

    def __init__(self, data_dir: Path, runtime: Runtime) -> None:
        self.data_dir = data_dir
        self.runtime = runtime
        self.volume_root = data_dir / "volumes"
        self.work_root = data_dir / "sandboxes"
        self.store: Store | None = None
        self._live: dict[str, _Live] = {}
        self._attached: dict[str, set[str]] = {}
        self._pending_logs: list[LogRow] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._closed = False
        self._ready_until = 0.0

    # Start-up and shut-down

    async def start(self) -> None:
        """Open the store and the runtime; recover what the last run left live.

        Raises ``RuntimeUnavailable`` when the runtime cannot be used at all.
        """
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.volume_root.mkdir(exist_ok=True)
        self.work_root.mkdir(exist_ok=True)
        self.store = Store(self.data_dir / "porter-sandbox.db")
        await self.runtime.open(self)
        await self._recover()

    async def _recover(self) -> None:
        store = self._store()
        live = store.live_sandboxes()
        if not live:
            return
        adopted = await self.runtime.adopt([self._launch_spec(record) for record in live])
        now = time.time()
        for record in live:
            if record.id in adopted and record.phase == "running":
                entry = _Live(record)
                entry.started.set()
                self._track(entry)
                if record.ttl_deadline is not None:
                    self._arm_ttl(entry, record.ttl_deadline - now)
                continue
            if record.id in adopted:
                # The server died mid-launch: what runs is not what the record says; stop it.
                with contextlib.suppress(Exception):
                    await self.runtime.stop(record.id)
            record.phase = "failed"
            record.termination_reason = "backend_lost"
            record.finished_at = now
            store.update_state(record)
            self._append_log(record.id, "", "stderr", "the server stopped while this sandbox was live (backend_lost)")
            self._remove_work_dir(record.id)
        self.flush_logs()

    async def close(self) -> None:
        """Terminate every live sandbox (reason ``user_terminated``), flush logs, close the runtime and store."""
        if self._closed:
            return
        self._closed = True
        live = list(self._live)
        if live:
            await asyncio.gather(*(self.terminate(sandbox_id, "user_terminated") for sandbox_id in live))
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.runtime.close(stop_sandboxes=True)
        self.flush_logs()
        if self.store is not None:
            self.store.close()

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the service is not started")
        return self.store

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
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
        return reason, self._store().count_live()

    async def _runtime_unavailable(self) -> str | None:
        # A runtime that was ready a moment ago is taken at its word: asking costs a round trip
        # to the engine (Docker), too much for every create. A launch that finds it down resets this.
        if time.monotonic() < self._ready_until:
            return None
        reason, _ = await self.readiness()
        return reason

    # Sandboxes

    async def create_sandbox(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Record a sandbox ``queued``, start launching it, and answer ``CreateResponse``."""
        store = self._store()
        sandbox_id = new_id("sb")
        name = body.get("name")
        if name is None:
            name = sandbox_id
        check_name(name, "sandbox")
        mounts: dict[str, str] = dict(body.get("volume_mounts") or {})
        for mount_path in mounts:
            _check_mount_path(mount_path)
        resources = body.get("resources") or {}
        try:
            cpu = parse_cpu_millis(resources["cpu"]) if resources.get("cpu") is not None else None
            memory = parse_memory_bytes(resources["memory"]) if resources.get("memory") is not None else None
        except QuantityError as error:
            raise errors.BadRequest(f"resources: {error}") from None
        command = body.get("command")
        args = body.get("args")
        env: dict[str, str] = dict(body.get("env") or {})
        _check_argv(command or [], "command")
        _check_argv(args or [], "args")
        _check_env(env)
        ttl = body.get("ttl_seconds")
        unavailable = await self._runtime_unavailable()
        if unavailable is not None:
            raise errors.Unavailable(f"sandboxes cannot run now: {unavailable}", headers={"Retry-After": "5"})
        # Checked after the last await: from here to the insert nothing else runs, so a volume
        # cannot be deleted between this check and the sandbox's attachment.
        for mount_path, volume_id in mounts.items():
            if self._store().get_volume(volume_id) is None:
                raise errors.BadRequest(
                    f"volume_mounts: no volume has the id {volume_id!r} (at {mount_path}); "
                    "create it first with POST /v1/volume"
                )
        record = SandboxRecord(
            id=sandbox_id,
            name=name,
            image=body["image"],
            tags=dict(body.get("tags") or {}),
            command=list(command) if command is not None else None,
            args=list(args) if args is not None else None,
            env=env,
            volume_mounts=mounts,
            memory_bytes=memory,
            cpu_millis=cpu,
            # Beyond a century a TTL never fires in practice; the cap keeps timers and columns in range.
            ttl_seconds=min(int(ttl), _MAX_TTL_SECONDS) if ttl is not None else None,
            phase="queued",
            created_at=time.time(),
        )
        try:
            store.insert_sandbox(record)
        except NameTaken:
            raise errors.Conflict(
                f"sandbox name {name!r} is taken: names are never reused, even after termination; choose another"
            ) from None
        entry = _Live(record)
        self._track(entry)
        self._spawn(self._launch(entry))
        response = CreateResponse(id=sandbox_id, name=name)
        if mounts:
            response.volume_mounts = StringMap.from_dict(mounts)
        return _answer(response)

    def _track(self, entry: _Live) -> None:
        self._live[entry.record.id] = entry
        for volume_id in entry.record.volume_mounts.values():
            self._attached.setdefault(volume_id, set()).add(entry.record.id)

    def _untrack(self, sandbox_id: str) -> None:
        entry = self._live.pop(sandbox_id, None)
        if entry is None:
            return
        if entry.ttl_timer is not None:
            entry.ttl_timer.cancel()
        for volume_id in entry.record.volume_mounts.values():
            holders = self._attached.get(volume_id)
            if holders is not None:
                holders.discard(sandbox_id)
                if not holders:
                    del self._attached[volume_id]

    def _launch_spec(self, record: SandboxRecord) -> LaunchSpec:
        return LaunchSpec(
            sandbox_id=record.id,
            name=record.name,
            image=record.image,
            command=record.command,
            args=record.args,
            env=record.env,
            tags=record.tags,
            mounts={path: self.volume_root / volume_id for path, volume_id in record.volume_mounts.items()},
            work_dir=self.work_root / record.id,
            memory_bytes=record.memory_bytes,
            cpu_millis=record.cpu_millis,
        )

    async def _launch(self, entry: _Live) -> None:
        record = entry.record
        if record.terminal:
            return
        record.phase = "creating"
        self._store().update_state(record)
        spec = self._launch_spec(record)
        try:
            spec.work_dir.mkdir(parents=True, exist_ok=True)
            await self.runtime.launch(spec)
        except (LaunchFailed, RuntimeUnavailable, OSError) as error:
            if isinstance(error, RuntimeUnavailable):
                self._ready_until = 0.0
            message = str(error) or type(error).__name__
            entry.launch_error = message
            self._remove_work_dir(record.id)
            if not record.terminal:
                self._append_log(record.id, "", "stderr", f"the sandbox could not start: {message}")
                self._finish(entry, "failed", "launch_failed", None)
            return
        if record.terminal:
            # Terminated while it was starting: stop what the runtime just started.
            await self.runtime.stop(record.id)
            self._remove_work_dir(record.id)
            return
        record.phase = "running"
        record.started_at = time.time()
        if record.ttl_seconds:
            record.ttl_deadline = record.started_at + record.ttl_seconds
            self._arm_ttl(entry, float(record.ttl_seconds))
        self._store().update_state(record)
        entry.started.set()
        if entry.early_exit is not None:
            self.exited(record.id, *entry.early_exit)

    def _arm_ttl(self, entry: _Live, delay: float) -> None:
        # Timers may fire a little early (loop clock resolution) and drift from the wall clock the
        # deadline is kept in, so the timer re-checks the deadline; long delays are re-armed daily.
        loop = asyncio.get_running_loop()
        entry.ttl_timer = loop.call_later(min(max(0.0, delay), 86400.0), self._ttl_due, entry)

    def _ttl_due(self, entry: _Live) -> None:
        record = entry.record
        if record.terminal or record.ttl_deadline is None or self._live.get(record.id) is not entry:
            return
        remaining = record.ttl_deadline - time.time()
        if remaining > 0:
            self._arm_ttl(entry, remaining + 0.001)
            return
        self._spawn(self.terminate(record.id, "ttl_expired"))

    def _finish(self, entry: _Live, phase: str, reason: str, exit_code: int | None) -> None:
        record = entry.record
        record.phase = phase
        record.termination_reason = reason
        record.exit_code = exit_code
        record.finished_at = time.time()
        self._store().update_state(record)
        self._untrack(record.id)
        entry.started.set()
        self.flush_logs()

    def _remove_work_dir(self, sandbox_id: str) -> None:
        work_dir = self.work_root / sandbox_id
        if work_dir.exists():
            self._spawn(asyncio.to_thread(shutil.rmtree, work_dir, True))

    def get_record(self, sandbox_id: str) -> SandboxRecord:
        """The sandbox's record; ``NotFound`` when no sandbox has this id."""
        entry = self._live.get(sandbox_id)
        if entry is not None:
            return entry.record
        record = self._store().get_sandbox(sandbox_id)
        if record is None:
            raise errors.NotFound(
                f"no sandbox has the id {sandbox_id!r}; list them with GET /v1/sandbox or find one by name with GET /v1/sandbox/lookup"
            )
        return record

    def status(self, sandbox_id: str) -> dict[str, Any]:
        """The sandbox's ``StatusResponse``."""
        return _answer(_status(self.get_record(sandbox_id)))

    def lookup_sandbox(self, name: str) -> dict[str, Any]:
        """``{"id"}`` of the sandbox that has (or had) this name."""
        sandbox_id = self._store().sandbox_id_by_name(name)
        if sandbox_id is None:
            raise errors.NotFound(f"no sandbox is named {name!r}")
        return {"id": sandbox_id}

    def list_sandboxes(self, where: SandboxFilter, page: int, include_filter_values: bool) -> dict[str, Any]:
        """One ``ListSandboxesResponse`` page, newest first."""
        store = self._store()
        records, total = store.list_sandboxes(where, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        total_pages = max(1, math.ceil(total / PAGE_SIZE))
        response = ListSandboxesResponse(
            sandboxes=[_status(record) for record in records],
            pagination=Pagination(current_page=page, total_pages=total_pages, has_next_page=page < total_pages),
        )
        if include_filter_values:
            tags, images, phases = store.filter_values()
            response.filter_values = FilterValues(tags=tags, images=images, phases=phases)
        return _answer(response)

    def counts(self, where: SandboxFilter) -> dict[str, Any]:
        """``CountsResponse``: matching sandboxes per gap-free bucket across the creation window."""
        end = where.end if where.end is not None else time.time()
        start = where.start if where.start is not None else end - _DEFAULT_COUNTS_WINDOW
        if start > end:
            # An empty window: nothing to count (a valid request, so not an error).
            return _answer(CountsResponse(points=[], granularity_ms=_GRANULARITIES_MS[0]))
        window_ms = (end - start) * 1000
        granularity = next((g for g in _GRANULARITIES_MS if window_ms / g < _MAX_BUCKETS), None)
        if granularity is None:
            step = _GRANULARITIES_MS[-1]
            granularity = math.ceil(window_ms / _MAX_BUCKETS / step) * step
        width = granularity / 1000
        # Buckets sit on multiples of their width, so the same window always gives the same edges.
        origin = math.floor(start / width) * width
        if origin < _EARLIEST:
            # A bucket edge before year 1 cannot be written as a time; start at the next edge.
            origin += width
        buckets = int((end - origin) // width) + 1
        counted = self._store().count_buckets(
            SandboxFilter(**{**where.__dict__, "start": start, "end": end}), origin, width
        )
        points = [
            CountPoint(timestamp=_timestamp(origin + index * width), count=counted.get(index, 0))
            for index in range(buckets)
        ]
        return _answer(CountsResponse(points=points, granularity_ms=granularity))

    async def exec(self, sandbox_id: str, command: Sequence[str]) -> dict[str, Any]:
        """Run ``command`` in the sandbox (waiting for it to start); answer ``ExecResponse``."""
        if not command:
            raise errors.BadRequest('command is empty; give the program and its arguments, such as ["ls", "-l"]')
        _check_argv(command, "command")
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
        exec_id = new_id("ex")
        try:
            output = await self.runtime.exec(sandbox_id, list(command), exec_id, record.env)
        except SandboxGone:
            raise errors.Conflict(self._not_running_message(self.get_record(sandbox_id), None)) from None
        except RuntimeUnavailable as error:
            raise errors.Unavailable(f"the runtime cannot be reached: {error}", headers={"Retry-After": "5"}) from None
        return _answer(
            ExecResponse(stdout=output.stdout, stderr=output.stderr, exit_code=output.exit_code, exec_id=exec_id)
        )

    @staticmethod
    def _not_running_message(record: SandboxRecord, launch_error: str | None) -> str:
        if record.termination_reason == "launch_failed":
            detail = f": {launch_error}" if launch_error else "; see its logs"
            return f"sandbox {record.id} failed to start{detail}"
        if record.terminal:
            return (
                f"sandbox {record.id} is {record.phase} ({record.termination_reason}); "
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
        self.flush_logs()
        self._remove_work_dir(sandbox_id)

    # Runtime events

    def log(self, sandbox_id: str, exec_id: str, stream: Stream, line: str) -> None:
        """A line the sandbox wrote (``RuntimeEvents``); written in batches."""
        if threading.get_ident() != self._loop_thread and self._loop is not None:
            self._loop.call_soon_threadsafe(self._append_log, sandbox_id, exec_id, stream, line)
            return
        self._append_log(sandbox_id, exec_id, stream, line)

    def exited(self, sandbox_id: str, exit_code: int, reason: str | None = None) -> None:
        """The main process ended (``RuntimeEvents``): ``succeeded`` on 0, else ``failed``."""
        if threading.get_ident() != self._loop_thread and self._loop is not None:
            self._loop.call_soon_threadsafe(self.exited, sandbox_id, exit_code, reason)
            return
        entry = self._live.get(sandbox_id)
        if entry is None:
            return
        if entry.record.phase != "running":
            entry.early_exit = (exit_code, reason)
            return
        if reason:
            self._append_log(sandbox_id, "", "stderr", reason)
        self._finish(entry, "succeeded" if exit_code == 0 else "failed", "workload_exited", exit_code)
        self._spawn(self._cleanup(sandbox_id))

    async def _cleanup(self, sandbox_id: str) -> None:
        try:
            await self.runtime.stop(sandbox_id)
        except Exception:
            logger.exception("cleaning up sandbox %s failed", sandbox_id)
        self._remove_work_dir(sandbox_id)

    def _append_log(self, sandbox_id: str, exec_id: str, stream: str, line: str) -> None:
        self._pending_logs.append((sandbox_id, time.time(), line, "error" if stream == "stderr" else "info", exec_id))
        if self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_later(LOG_FLUSH_DELAY, self.flush_logs)

    def flush_logs(self) -> None:
        """Write the log lines waiting in memory."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending_logs or self.store is None:
            return
        rows, self._pending_logs = self._pending_logs, []
        try:
            self.store.insert_logs(rows)
        except Exception:
            logger.exception("writing %d log lines failed", len(rows))

    def logs(self, sandbox_id: str, limit: int | None, since: str | None) -> dict[str, Any]:
        """``LogsResponse``: the sandbox's lines, oldest first."""
        self.get_record(sandbox_id)
        since_ts = parse_since(since, time.time()) if since is not None else None
        self.flush_logs()
        rows = self._store().read_logs(sandbox_id, since_ts, limit)
        return _answer(
            LogsResponse(
                sandbox_id=sandbox_id,
                logs=[
                    LogEntry(timestamp=_timestamp(ts), line=line, level=level, exec_id=exec_id)
                    for ts, line, level, exec_id in rows
                ],
            )
        )

    # Volumes

    def create_volume(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a disk volume (a directory under the data dir); answer ``Volume``."""
        if body.get("type") == "object":
            raise errors.BadRequest(
                "the local server supports only disk volumes; leave out type and object (or use type: disk)"
            )
        volume_id = new_id("vol")
        name = body.get("name")
        if name is None:
            name = volume_id
        check_name(name, "volume")
        record = VolumeRecord(id=volume_id, name=name, created_at=time.time())
        try:
            self._store().insert_volume(record)
        except NameTaken:
            raise errors.Conflict(
                f"a volume named {name!r} exists; choose another name or delete that volume first"
            ) from None
        (self.volume_root / volume_id).mkdir(parents=True, exist_ok=True)
        return _answer(self._volume(record))

    def _volume(self, record: VolumeRecord) -> Volume:
        return Volume(
            id=record.id,
            name=record.name,
            type_="disk",
            path=record.id,
            phase="ready",
            attached_to=sorted(self._attached.get(record.id, ())),
            created_at=_timestamp(record.created_at),
        )

    def _volume_record(self, volume_id: str) -> VolumeRecord:
        record = self._store().get_volume(volume_id)
        if record is None:
            raise errors.NotFound(f"no volume has the id {volume_id!r}; list them with GET /v1/volume")
        return record

    def get_volume(self, volume_id: str) -> dict[str, Any]:
        """The volume's ``Volume``."""
        return _answer(self._volume(self._volume_record(volume_id)))

    def list_volumes(self) -> dict[str, Any]:
        """``ListVolumesResponse`` of every volume."""
        return _answer(ListVolumesResponse(volumes=[self._volume(record) for record in self._store().list_volumes()]))

    def lookup_volume(self, name: str) -> dict[str, Any]:
        """``{"id"}`` of the existing volume with this name."""
        volume_id = self._store().volume_id_by_name(name)
        if volume_id is None:
            raise errors.NotFound(f"no volume is named {name!r}")
        return {"id": volume_id}

    async def delete_volume(self, volume_id: str) -> None:
        """Delete the volume and its files; ``Conflict`` while a live sandbox mounts it."""
        self._volume_record(volume_id)
        holders = self._attached.get(volume_id)
        if holders:
            raise errors.Conflict(
                f"volume {volume_id} is attached to live sandboxes {', '.join(sorted(holders))}; terminate them first"
            )
        self._store().delete_volume(volume_id)
        directory = self.volume_root / volume_id
        # Renamed first, so the id is gone at once even if removing many files takes a while.
        doomed = self.volume_root / f".deleted-{volume_id}"
        with contextlib.suppress(FileNotFoundError):
            directory.rename(doomed)
            await asyncio.to_thread(shutil.rmtree, doomed, True)

    def volume_directory(self, volume_id: str) -> Path:
        """The directory that holds the volume's files; ``NotFound`` for unknown ids."""
        self._volume_record(volume_id)
        return self.volume_root / volume_id


def _answer(model: Any) -> dict[str, Any]:
    """A generated model as the JSON object the contract describes."""
    body: dict[str, Any] = model.to_dict()
    return body


def _status(record: SandboxRecord) -> StatusResponse:
    status = StatusResponse(
        id=record.id,
        name=record.name,
        image=record.image,
        phase=record.phase,
        created_at=_timestamp(record.created_at),
        host="",
        tags=StringMap.from_dict(record.tags),
        volume_mounts=StringMap.from_dict(record.volume_mounts),
    )
    if record.exit_code is not None:
        status.exit_code = record.exit_code
    if record.started_at is not None:
        status.started_at = _timestamp(record.started_at)
    if record.finished_at is not None:
        status.finished_at = _timestamp(record.finished_at)
    if record.termination_reason is not None:
        status.termination_reason = record.termination_reason
    return status

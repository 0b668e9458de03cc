"""Snapshots: captured through the runtime, recorded in the store, held while sandboxes start from them.

``create`` records a snapshot ``pending`` and answers at once; a background
task asks the runtime to capture the sandbox, then records it ``ready`` (with
its size) or ``failed`` (with the reason). A sandbox created with
``snapshot_id`` takes a lease on a ready snapshot for as long as it is being
launched: deleting the snapshot meanwhile forgets it at once (404 from then
on) but frees its data only once the last lease is returned, so a launch
never loses its files half-way. A snapshot deleted while still being captured
is freed once the capture ends. Snapshots outlive the sandboxes they were
taken of. At start-up, captures a stopped server left ``pending`` are marked
``failed``, and the runtime frees whatever it holds that no ready snapshot
names.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from .. import errors
from ..runtimes.base import Runtime, RuntimeUnavailable, SandboxGone, SnapshotFailed
from ..store import SandboxRecord, SnapshotRecord, SnapshotTable
from .ttl import Clock

logger = logging.getLogger("porter_sandbox_server")

MODES = ("filesystem", "full")
_WHY_NOT_FULL = (
    "full snapshots (the memory of its processes too) need process checkpointing, which this runtime does not have"
)


class SnapshotBook:
    """The API's snapshots (see the module doc)."""

    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        new_id: Callable[[str], str],
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._spawn = spawn
        self._new_id = new_id
        self._table: SnapshotTable | None = None
        #: Per snapshot id, how many launches are using its files now.
        self._leases: dict[str, int] = {}
        #: Snapshots deleted while leased or being captured: freed once the last user is done.
        self._doomed: set[str] = set()
        self._capturing: set[str] = set()

    @property
    def table(self) -> SnapshotTable:
        """The store's snapshot records (once opened)."""
        if self._table is None:
            raise RuntimeError("the snapshots are not open")
        return self._table

    async def open(self, table: SnapshotTable) -> None:
        """Take over the records; fail what a stopped server left pending; let the runtime free the rest."""
        self._table = table
        for record in table.list(status="pending"):
            record.status = "failed"
            record.failure_reason = "the server stopped while it was being captured; take a new snapshot"
            table.update(record)
        await self._runtime.prune_snapshots({record.id for record in table.list(status="ready")})

    # Taking and reading snapshots

    def create(self, sandbox: SandboxRecord, mode: str) -> SnapshotRecord:
        """Start capturing the running ``sandbox``; answer its ``pending`` record."""
        modes = self._runtime.capabilities.snapshot_modes
        if mode not in modes:
            raise errors.BadRequest(self._unsupported(mode, modes))
        if sandbox.phase != "running":
            if sandbox.terminal:
                raise errors.Conflict(
                    f"sandbox {sandbox.id} is {sandbox.phase}; a snapshot needs a running sandbox, "
                    "so snapshot one before it ends"
                )
            raise errors.Conflict(f"sandbox {sandbox.id} is {sandbox.phase}, not running yet; retry once it runs")
        record = SnapshotRecord(
            id=self._new_id("snap"),
            sandbox_id=sandbox.id,
            mode=mode,
            status="pending",
            image=sandbox.image,
            created_at=self._clock.time(),
        )
        self.table.insert(record)
        self._capturing.add(record.id)
        self._spawn(self._capture(record))
        return record

    def _unsupported(self, mode: str, modes: frozenset[str]) -> str:
        runtime = self._runtime.name
        if not modes:
            return f"the {runtime} runtime of this server takes no snapshots"
        have = " and ".join(sorted(modes))
        why = f": {_WHY_NOT_FULL}" if mode == "full" else ""
        return f"mode {mode!r}: the {runtime} runtime of this server takes {have} snapshots only{why}; use mode {sorted(modes)[0]}"

    async def _capture(self, record: SnapshotRecord) -> None:
        try:
            size = await self._runtime.snapshot(record.sandbox_id, record.id, record.mode)
        except SandboxGone:
            self._failed(record, "the sandbox ended before it could be captured")
        except (SnapshotFailed, RuntimeUnavailable) as error:
            self._failed(record, str(error) or type(error).__name__)
        except Exception as error:
            logger.exception("capturing snapshot %s failed", record.id)
            self._failed(record, f"the capture failed ({type(error).__name__}); see the server's log")
        else:
            record.status = "ready"
            record.size_bytes = size
            record.ready_at = self._clock.time()
            if record.id not in self._doomed:
                self.table.update(record)
        finally:
            self._capturing.discard(record.id)
        if record.id in self._doomed:
            await self._free(record.id)

    def _failed(self, record: SnapshotRecord, reason: str) -> None:
        record.status = "failed"
        record.failure_reason = reason
        if record.id not in self._doomed:
            self.table.update(record)

    def get(self, snapshot_id: str) -> SnapshotRecord:
        """The snapshot; ``NotFound`` when no snapshot has this id."""
        record = self.table.get(snapshot_id)
        if record is None:
            raise errors.NotFound(f"no snapshot has the id {snapshot_id!r}; list them with GET /v1/snapshot")
        return record

    def list(self, sandbox_id: str | None) -> list[SnapshotRecord]:
        """Every snapshot (of ``sandbox_id``, when given), newest first."""
        return self.table.list(sandbox_id=sandbox_id)

    async def delete(self, snapshot_id: str) -> None:
        """Forget the snapshot and free its data (once nothing uses it any more)."""
        self.get(snapshot_id)
        if self._leases.get(snapshot_id) or snapshot_id in self._capturing:
            self._doomed.add(snapshot_id)
            self.table.delete(snapshot_id)
            return
        try:
            await self._runtime.delete_snapshot(snapshot_id)
        except RuntimeUnavailable as error:
            raise errors.Unavailable(
                f"the snapshot's data cannot be freed now: {error}", headers={"Retry-After": "5"}
            ) from None
        self.table.delete(snapshot_id)

    async def _free(self, snapshot_id: str) -> None:
        self._doomed.discard(snapshot_id)
        try:
            await self._runtime.delete_snapshot(snapshot_id)
        except Exception:
            # Freed at the next start instead (prune_snapshots): the record is gone already.
            logger.exception("freeing deleted snapshot %s failed", snapshot_id)

    # Leases, for sandboxes started from a snapshot

    def lease(self, snapshot_id: str, image: str) -> SnapshotRecord:
        """Hold a ready snapshot for a launch; answer it. ``image`` is what the request named ("" for none)."""
        record = self.table.get(snapshot_id)
        if record is None:
            raise errors.BadRequest(
                f"snapshot_id: no snapshot has the id {snapshot_id!r}; list them with GET /v1/snapshot"
            )
        if record.status == "pending":
            raise errors.Conflict(
                f"snapshot {snapshot_id} is still being captured; start from it once GET /v1/snapshot/{snapshot_id} "
                "says ready"
            )
        if record.status != "ready":
            raise errors.BadRequest(
                f"snapshot {snapshot_id} {record.status} ({record.failure_reason}); take a new snapshot to start from"
            )
        if image and image != record.image:
            raise errors.BadRequest(
                f"image: leave it empty to start from snapshot {snapshot_id}, which runs {record.image!r} "
                f"(not {image!r})"
            )
        self._leases[snapshot_id] = self._leases.get(snapshot_id, 0) + 1
        return record

    def release(self, snapshot_id: str) -> None:
        """Return a lease; the last one frees a snapshot deleted meanwhile."""
        left = self._leases.get(snapshot_id, 0) - 1
        if left > 0:
            self._leases[snapshot_id] = left
            return
        self._leases.pop(snapshot_id, None)
        if snapshot_id in self._doomed:
            self._spawn(self._free(snapshot_id))

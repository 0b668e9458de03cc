"""Snapshots: the ``porter.snapshots`` namespace and the ``Snapshot`` handle, sync and async side by side.

A snapshot is what a running sandbox held (``filesystem``: its writable
files), captured so that new sandboxes can start from it
(``sandboxes.create(snapshot_id=...)``). It starts ``pending`` and becomes
``ready`` or ``failed``; ``wait()`` polls until it is ready.

``porter.snapshots`` has the published client's methods (``create(id, body)``,
``list(sandbox_id)``, ``get(id)``, ``delete(id)``); ``sandbox.snapshot()`` is
the short way to take one. The decisions are plain functions here, shared by
the sync and async classes.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar, cast, overload

from ._base_client import async_call, expect, expect_no_content, sync_call
from ._enums import SnapshotMode, SnapshotStatus, member
from ._exceptions import SandboxTimeoutError, SnapshotFailedError
from ._handle import Handle
from ._raw import BoundOperations
from ._specs import ModeName, SnapshotSpec, coerce
from ._times import poll_delays

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.models import Snapshot as GeneratedSnapshot
    from porter_sandbox_api.models import SnapshotSpec as GeneratedSpec
    from porter_sandbox_api.types import Unset

    from ._operations import AsyncSnapshotOperations, SnapshotOperations

    RawClient = AuthenticatedClient | Client

__all__ = [
    "AsyncSnapshot",
    "AsyncSnapshots",
    "Snapshot",
    "SnapshotListResponse",
    "Snapshots",
    "snapshot_body",
]

DEFAULT_SNAPSHOT_WAIT: Final = 300.0

H = TypeVar("H")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


# ---------------------------------------------------------------------------------------------
# Decisions shared by sync and async


@dataclass(frozen=True)
class SnapshotState:
    """What the client last heard about a snapshot."""

    id: str
    sandbox_id: str
    mode: SnapshotMode
    status: SnapshotStatus
    t_created_unix_ms: int | None = None
    t_ready_unix_ms: int | None = None
    failure_reason: str | None = None
    size_bytes: int | None = None


def state_from_snapshot(snapshot: GeneratedSnapshot) -> SnapshotState:
    """The handle's state from the server's ``Snapshot``."""
    from porter_sandbox_api.types import Unset

    def given(value: Any) -> Any:
        return None if isinstance(value, Unset) else value

    return SnapshotState(
        id=snapshot.id,
        sandbox_id=snapshot.sandbox_id,
        mode=member(SnapshotMode, snapshot.mode),
        status=member(SnapshotStatus, snapshot.status),
        t_created_unix_ms=given(snapshot.t_created_unix_ms),
        t_ready_unix_ms=given(snapshot.t_ready_unix_ms),
        failure_reason=given(snapshot.failure_reason),
        size_bytes=given(snapshot.size_bytes),
    )


def snapshot_body(
    body: SnapshotSpec | Mapping[str, Any] | None, mode: SnapshotMode | ModeName | None
) -> GeneratedSpec | Unset:
    """The body of a snapshot request: ``body`` (a ``SnapshotSpec``) or ``mode``, not both; none for the default."""
    from porter_sandbox_api.models import SnapshotMode as GeneratedMode
    from porter_sandbox_api.models import SnapshotSpec as GeneratedSpec
    from porter_sandbox_api.types import UNSET

    if body is not None and mode is not None:
        raise ValueError("pass the mode in body=SnapshotSpec(mode=...) or as mode=..., not both")
    spec = coerce(body, SnapshotSpec, "body") if body is not None else SnapshotSpec(mode=mode)
    if spec.mode is None:
        return UNSET
    return GeneratedSpec(mode=GeneratedMode(spec.mode.value))


def sandbox_id_of(sandbox: str | _HasId, what: str) -> str:
    """The id of ``sandbox``: a sandbox's id, or its handle."""
    found = sandbox if isinstance(sandbox, str) else getattr(sandbox, "id", None)
    if not isinstance(found, str) or not found:
        raise ValueError(f"{what} must be a sandbox's id (a non-empty string) or its handle, not {sandbox!r}")
    return found


def snapshot_id_of(snapshot: str | _HasId) -> str:
    """The id of ``snapshot``: a snapshot's id, or its handle."""
    found = snapshot if isinstance(snapshot, str) else getattr(snapshot, "id", None)
    if not isinstance(found, str) or not found:
        raise ValueError(f"expected a snapshot's id (a non-empty string) or a Snapshot, not {snapshot!r}")
    return found


def wait_done(state: SnapshotState) -> bool:
    """Whether ``wait()`` is done: the snapshot is ready; raise :class:`SnapshotFailedError` when it failed."""
    if state.status == SnapshotStatus.FAILED:
        reason = f": {state.failure_reason}" if state.failure_reason else ""
        raise SnapshotFailedError(
            f"snapshot {state.id} of sandbox {state.sandbox_id} failed{reason}",
            snapshot_id=state.id,
            failure_reason=state.failure_reason,
        )
    return state.status == SnapshotStatus.READY


def wait_timed_out(state: SnapshotState, timeout: float) -> SandboxTimeoutError:
    """The error when ``wait()`` runs out of time."""
    return SandboxTimeoutError(f"snapshot {state.id} was still {state.status.value!r} after {timeout:g}s of waiting")


@dataclass(frozen=True)
class SnapshotListResponse(Sequence[H], Generic[H]):
    """The answer of ``snapshots.list()``: a sequence of snapshot handles, newest first (also as ``snapshots``)."""

    snapshots: builtins.list[H]
    """The snapshots, newest first."""

    @overload
    def __getitem__(self, index: int) -> H: ...
    @overload
    def __getitem__(self, index: slice) -> builtins.list[H]: ...
    def __getitem__(self, index: int | slice) -> H | builtins.list[H]:
        """The snapshot at ``index``."""
        return self.snapshots[index]

    def __len__(self) -> int:
        """How many snapshots there are."""
        return len(self.snapshots)

    def __iter__(self) -> Iterator[H]:
        """The snapshots, newest first."""
        return iter(self.snapshots)


# ---------------------------------------------------------------------------------------------
# Handles


class _SnapshotFields(Handle[SnapshotState]):
    """The last-known fields of a snapshot, shared by ``Snapshot`` and ``AsyncSnapshot``."""

    _repr_fields = ("id", "sandbox_id", "status")

    @property
    def sandbox_id(self) -> str:
        """The sandbox it was captured from."""
        return self._state.sandbox_id

    @property
    def mode(self) -> SnapshotMode:
        """What it captures: ``filesystem`` or ``full``."""
        return self._state.mode

    @property
    def status(self) -> SnapshotStatus:
        """``pending``, ``ready`` or ``failed`` (last known)."""
        return self._state.status

    @property
    def t_created_unix_ms(self) -> int | None:
        """When the capture started, in milliseconds since the epoch."""
        return self._state.t_created_unix_ms

    @property
    def t_ready_unix_ms(self) -> int | None:
        """When the capture finished, in milliseconds since the epoch (last known)."""
        return self._state.t_ready_unix_ms

    @property
    def failure_reason(self) -> str | None:
        """Why the capture failed, when it did (last known)."""
        return self._state.failure_reason

    @property
    def size_bytes(self) -> int | None:
        """How many bytes it holds, once ready (last known)."""
        return self._state.size_bytes


class Snapshot(_SnapshotFields):
    """A snapshot of a sandbox, from ``sandbox.snapshot()``, ``porter.snapshots.get()`` or ``list()``.

    Its fields are what the client last heard; ``refresh()`` asks again and
    ``wait()`` until it is ready. Start a sandbox from it with
    ``porter.sandboxes.create(snapshot_id=snapshot.id)``.
    """

    def refresh(self) -> Snapshot:
        """Fetch the snapshot again (its status, size), update this handle with it, and answer the handle."""
        from porter_sandbox_api.api.snapshots import get_snapshot
        from porter_sandbox_api.models import Snapshot as GeneratedSnapshot

        answer = sync_call(get_snapshot.sync_detailed, self._state.id, client=self._client)
        self._state = state_from_snapshot(expect(answer, GeneratedSnapshot))
        return self

    def wait(self, timeout: float = DEFAULT_SNAPSHOT_WAIT) -> Snapshot:
        """Poll until the snapshot is ``ready`` and answer the handle.

        Raises :class:`SnapshotFailedError` when its capture failed, and
        :class:`SandboxTimeoutError` after ``timeout`` seconds.
        """
        for delay in poll_delays(timeout):
            if wait_done(self.refresh()._state):
                return self
            time.sleep(delay)
        if wait_done(self.refresh()._state):
            return self
        raise wait_timed_out(self._state, timeout)

    def delete(self) -> None:
        """Delete the snapshot and free what it holds; sandboxes started from it keep running."""
        from porter_sandbox_api.api.snapshots import delete_snapshot

        expect_no_content(sync_call(delete_snapshot.sync_detailed, self._state.id, client=self._client))


class AsyncSnapshot(_SnapshotFields):
    """The async twin of :class:`Snapshot`: the same fields, and awaitable methods."""

    async def refresh(self) -> AsyncSnapshot:
        """Fetch the snapshot again (its status, size), update this handle with it, and answer the handle."""
        from porter_sandbox_api.api.snapshots import get_snapshot
        from porter_sandbox_api.models import Snapshot as GeneratedSnapshot

        answer = await async_call(get_snapshot.asyncio_detailed, self._state.id, client=self._client)
        self._state = state_from_snapshot(expect(answer, GeneratedSnapshot))
        return self

    async def wait(self, timeout: float = DEFAULT_SNAPSHOT_WAIT) -> AsyncSnapshot:
        """Poll until the snapshot is ``ready`` and answer the handle (see :meth:`Snapshot.wait`)."""
        import asyncio

        for delay in poll_delays(timeout):
            if wait_done((await self.refresh())._state):
                return self
            await asyncio.sleep(delay)
        if wait_done((await self.refresh())._state):
            return self
        raise wait_timed_out(self._state, timeout)

    async def delete(self) -> None:
        """Delete the snapshot and free what it holds; sandboxes started from it keep running."""
        from porter_sandbox_api.api.snapshots import delete_snapshot

        expect_no_content(await async_call(delete_snapshot.asyncio_detailed, self._state.id, client=self._client))


# ---------------------------------------------------------------------------------------------
# Namespaces


class Snapshots:
    """``porter.snapshots``: take, find, list and delete snapshots of sandboxes."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw: SnapshotOperations | None = None

    @property
    def raw(self) -> SnapshotOperations:
        """The generated snapshot operations bound to this client (``raw.get_snapshot(id)`` answers a ``Response``)."""
        if self._raw is None:
            self._raw = cast("SnapshotOperations", BoundOperations(self._client, "snapshots", asynchronous=False))
        return self._raw

    def create(
        self,
        id: str | _HasId,
        body: SnapshotSpec | Mapping[str, Any] | None = None,
        *,
        mode: SnapshotMode | ModeName | None = None,
    ) -> Snapshot:
        """Take a snapshot of the running sandbox ``id`` (its id or handle); answer it, ``pending`` at first.

        ``mode`` (or ``body=SnapshotSpec(mode=...)``, as the published client
        takes it): ``filesystem``, the default, captures its writable files;
        ``full`` its memory too, where the server can (a 400 says otherwise).
        ``sandbox.snapshot()`` does the same.
        """
        from porter_sandbox_api.api.snapshots import create_snapshot
        from porter_sandbox_api.models import Snapshot as GeneratedSnapshot

        sandbox_id = sandbox_id_of(id, "id")
        request = snapshot_body(body, mode)
        answer = sync_call(create_snapshot.sync_detailed, sandbox_id, client=self._client, body=request)
        return Snapshot(self._client, state_from_snapshot(expect(answer, GeneratedSnapshot)))

    def list(self, sandbox_id: str | _HasId | None = None) -> SnapshotListResponse[Snapshot]:
        """Every snapshot, newest first, or those of one sandbox (its id or handle)."""
        from porter_sandbox_api.api.snapshots import list_snapshots
        from porter_sandbox_api.models import SnapshotListResponse as GeneratedList
        from porter_sandbox_api.types import UNSET

        chosen = UNSET if sandbox_id is None else sandbox_id_of(sandbox_id, "sandbox_id")
        answer = expect(sync_call(list_snapshots.sync_detailed, client=self._client, sandbox_id=chosen), GeneratedList)
        return SnapshotListResponse([Snapshot(self._client, state_from_snapshot(item)) for item in answer.snapshots])

    def get(self, id: str) -> Snapshot:
        """The snapshot with this id, freshly fetched; :class:`NotFoundError` if there is none."""
        from porter_sandbox_api.api.snapshots import get_snapshot
        from porter_sandbox_api.models import Snapshot as GeneratedSnapshot

        answer = sync_call(get_snapshot.sync_detailed, snapshot_id_of(id), client=self._client)
        return Snapshot(self._client, state_from_snapshot(expect(answer, GeneratedSnapshot)))

    def delete(self, id: str | _HasId) -> None:
        """Delete the snapshot with this id (or this ``Snapshot``) and free what it holds."""
        from porter_sandbox_api.api.snapshots import delete_snapshot

        expect_no_content(sync_call(delete_snapshot.sync_detailed, snapshot_id_of(id), client=self._client))

    def __repr__(self) -> str:
        return f"<Snapshots of {self._client._base_url!r}>"


class AsyncSnapshots:
    """``porter.snapshots`` on an ``AsyncPorter``: the async twin of :class:`Snapshots`."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw: AsyncSnapshotOperations | None = None

    @property
    def raw(self) -> AsyncSnapshotOperations:
        """The generated snapshot operations bound to this client (``await raw.get_snapshot(id)`` answers a ``Response``)."""
        if self._raw is None:
            self._raw = cast("AsyncSnapshotOperations", BoundOperations(self._client, "snapshots", asynchronous=True))
        return self._raw

    async def create(
        self,
        id: str | _HasId,
        body: SnapshotSpec | Mapping[str, Any] | None = None,
        *,
        mode: SnapshotMode | ModeName | None = None,
    ) -> AsyncSnapshot:
        """Take a snapshot of the running sandbox ``id``; answer it, ``pending`` at first (see :meth:`Snapshots.create`)."""
        from porter_sandbox_api.api.snapshots import create_snapshot
        from porter_sandbox_api.models import Snapshot as GeneratedSnapshot

        sandbox_id = sandbox_id_of(id, "id")
        request = snapshot_body(body, mode)
        answer = await async_call(create_snapshot.asyncio_detailed, sandbox_id, client=self._client, body=request)
        return AsyncSnapshot(self._client, state_from_snapshot(expect(answer, GeneratedSnapshot)))

    async def list(self, sandbox_id: str | _HasId | None = None) -> SnapshotListResponse[AsyncSnapshot]:
        """Every snapshot, newest first, or those of one sandbox (its id or handle)."""
        from porter_sandbox_api.api.snapshots import list_snapshots
        from porter_sandbox_api.models import SnapshotListResponse as GeneratedList
        from porter_sandbox_api.types import UNSET

        chosen = UNSET if sandbox_id is None else sandbox_id_of(sandbox_id, "sandbox_id")
        answer = await async_call(list_snapshots.asyncio_detailed, client=self._client, sandbox_id=chosen)
        found = expect(answer, GeneratedList)
        return SnapshotListResponse(
            [AsyncSnapshot(self._client, state_from_snapshot(item)) for item in found.snapshots]
        )

    async def get(self, id: str) -> AsyncSnapshot:
        """The snapshot with this id, freshly fetched; :class:`NotFoundError` if there is none."""
        from porter_sandbox_api.api.snapshots import get_snapshot
        from porter_sandbox_api.models import Snapshot as GeneratedSnapshot

        answer = await async_call(get_snapshot.asyncio_detailed, snapshot_id_of(id), client=self._client)
        return AsyncSnapshot(self._client, state_from_snapshot(expect(answer, GeneratedSnapshot)))

    async def delete(self, id: str | _HasId) -> None:
        """Delete the snapshot with this id (or this ``Snapshot``) and free what it holds."""
        from porter_sandbox_api.api.snapshots import delete_snapshot

        answer = await async_call(delete_snapshot.asyncio_detailed, snapshot_id_of(id), client=self._client)
        expect_no_content(answer)

    def __repr__(self) -> str:
        return f"<AsyncSnapshots of {self._client._base_url!r}>"

"""The types of ``.raw`` on each namespace: the generated operations of one tag, with ``client=`` filled in.

At run time ``porter.sandboxes.raw`` is a :class:`~porter_sandbox._raw.BoundOperations`,
which imports each generated module on first use; these protocols tell type
checkers what its attributes are: each generated ``sync_detailed`` (or, for an
async client, ``asyncio_detailed``) without its ``client`` argument. A test
checks them against the generated functions, so they cannot drift from
``openapi.yaml``. Nothing here runs: the generated names are imported for type
checkers only.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.models import (
        Capabilities,
        CommandRequest,
        CommandResult,
        CountsResponse,
        CreateResponse,
        CreateVolumeRequest,
        Error,
        ExecRequest,
        ExecResponse,
        HealthResponse,
        KillRequest,
        ListSandboxesResponse,
        ListVolumesResponse,
        LogsResponse,
        LookupResponse,
        MetricSummaryResponse,
        MoveFileRequest,
        ProcessInfo,
        ProcessList,
        ProcessOutput,
        ReadyResponse,
        SandboxMetric,
        SandboxMetricsResponse,
        SandboxPhase,
        SandboxSpec,
        Snapshot,
        SnapshotListResponse,
        SnapshotSpec,
        StatusResponse,
        TerminationSource,
        Volume,
        VolumeFilesResponse,
    )
    from porter_sandbox_api.types import File, Response, Unset

__all__ = [
    "AsyncExtensionOperations",
    "AsyncHealthzOperations",
    "AsyncReadyzOperations",
    "AsyncSandboxOperations",
    "AsyncSnapshotOperations",
    "AsyncVolumeOperations",
    "ExtensionOperations",
    "HealthzOperations",
    "ReadyzOperations",
    "SandboxOperations",
    "SnapshotOperations",
    "VolumeOperations",
]


class _Bound(Protocol):
    @property
    def client(self) -> AuthenticatedClient | Client:
        """The generated client these operations are bound to (the same as ``porter.raw``)."""
        ...

    def operations(self) -> list[str]:
        """The names of the operations of this tag."""
        ...


# -- sync ----------------------------------------------------------------------------------------


class HealthzOperations(_Bound, Protocol):
    """``porter.healthz.raw``."""

    def health_check(self) -> Response[Error | HealthResponse]: ...


class ReadyzOperations(_Bound, Protocol):
    """``porter.readyz.raw``."""

    def readiness_check(self) -> Response[Error | ReadyResponse]: ...


class SandboxOperations(_Bound, Protocol):
    """``porter.sandboxes.raw``."""

    def create_sandbox(self, *, body: SandboxSpec) -> Response[CreateResponse | Error]: ...

    def delete_sandbox(self, id: str, *, source: TerminationSource | Unset = ...) -> Response[Any | Error]: ...

    def exec_sandbox(self, id: str, *, body: ExecRequest) -> Response[Error | ExecResponse]: ...

    def get_sandbox(self, id: str) -> Response[Error | StatusResponse]: ...

    def get_sandbox_logs(
        self, id: str, *, limit: int | Unset = ..., since: str | Unset = ...
    ) -> Response[Error | LogsResponse]: ...

    def get_sandbox_metrics(
        self,
        id: str,
        *,
        metric: SandboxMetric,
        start_time_utc: datetime.datetime,
        end_time_utc: datetime.datetime,
    ) -> Response[Error | SandboxMetricsResponse]: ...

    def get_sandbox_metrics_summary(
        self, id: str, *, since: str | Unset = ...
    ) -> Response[Error | MetricSummaryResponse]: ...

    def list_sandboxes(
        self,
        *,
        search: str | Unset = ...,
        tag: list[str] | Unset = ...,
        phase: list[SandboxPhase] | Unset = ...,
        image: str | Unset = ...,
        start_time: datetime.datetime | Unset = ...,
        end_time: datetime.datetime | Unset = ...,
        include_filter_values: bool | Unset = ...,
        page: int | Unset = ...,
    ) -> Response[Error | ListSandboxesResponse]: ...

    def lookup_sandbox(self, *, name: str) -> Response[Error | LookupResponse]: ...

    def sandbox_counts(
        self,
        *,
        search: str | Unset = ...,
        tag: list[str] | Unset = ...,
        phase: list[SandboxPhase] | Unset = ...,
        image: str | Unset = ...,
        start_time: datetime.datetime | Unset = ...,
        end_time: datetime.datetime | Unset = ...,
    ) -> Response[CountsResponse | Error]: ...


class SnapshotOperations(_Bound, Protocol):
    """``porter.snapshots.raw``."""

    def create_snapshot(self, id: str, *, body: SnapshotSpec | Unset = ...) -> Response[Error | Snapshot]: ...

    def delete_snapshot(self, id: str) -> Response[Any | Error]: ...

    def get_snapshot(self, id: str) -> Response[Error | Snapshot]: ...

    def list_snapshots(self, *, sandbox_id: str | Unset = ...) -> Response[Error | SnapshotListResponse]: ...


class VolumeOperations(_Bound, Protocol):
    """``porter.volumes.raw``."""

    def create_volume(self, *, body: CreateVolumeRequest) -> Response[Error | Volume]: ...

    def delete_volume(self, id: str) -> Response[Any | Error]: ...

    def get_volume(self, id: str) -> Response[Error | Volume]: ...

    def list_volume_files(
        self, id: str, *, path: str | Unset = ..., search: str | Unset = ...
    ) -> Response[Error | VolumeFilesResponse]: ...

    def list_volumes(self) -> Response[Error | ListVolumesResponse]: ...

    def lookup_volume(self, *, name: str) -> Response[Error | LookupResponse]: ...

    def move_volume_file(self, id: str, *, body: MoveFileRequest) -> Response[Any | Error]: ...

    def read_volume_file(self, id: str, *, path: str, range_: str | Unset = ...) -> Response[Error | File]: ...

    def write_volume_file(self, id: str, *, body: File, path: str) -> Response[Any | Error]: ...


class ExtensionOperations(_Bound, Protocol):
    """The ``extensions`` tag (this server's own, under ``/x/``): ``BoundOperations(porter.raw, "extensions")``.

    The streamed ones (``exec_stream``, ``follow_sandbox_logs``) answer their whole
    stream at once here; the SDK's ``exec_stream()`` and ``logs(follow=True)`` read
    them as they come.
    """

    def delete_process(self, id: str, process_id: str) -> Response[Any | Error]: ...

    def exec_stream(self, id: str, *, body: CommandRequest) -> Response[Error | File]: ...

    def exec_with_options(self, id: str, *, body: CommandRequest) -> Response[CommandResult | Error]: ...

    def follow_sandbox_logs(
        self, id: str, *, since: str | Unset = ..., limit: int | Unset = ...
    ) -> Response[Error | File]: ...

    def get_capabilities(self) -> Response[Capabilities | Error]: ...

    def get_process(self, id: str, process_id: str) -> Response[Error | ProcessInfo]: ...

    def kill_process(
        self, id: str, process_id: str, *, body: KillRequest | Unset = ...
    ) -> Response[Error | ProcessInfo]: ...

    def list_processes(self, id: str) -> Response[Error | ProcessList]: ...

    def open_terminal(
        self,
        id: str,
        *,
        command: list[str] | Unset = ...,
        cwd: str | Unset = ...,
        env: list[str] | Unset = ...,
        rows: int | Unset = ...,
        cols: int | Unset = ...,
    ) -> Response[Any | Error]: ...

    def read_process_output(
        self,
        id: str,
        process_id: str,
        *,
        stdout_offset: int | Unset = ...,
        stderr_offset: int | Unset = ...,
        max_bytes: int | Unset = ...,
        wait_seconds: float | Unset = ...,
    ) -> Response[Error | ProcessOutput]: ...

    def start_process(self, id: str, *, body: CommandRequest) -> Response[Error | ProcessInfo]: ...

    def wait_process(
        self, id: str, process_id: str, *, timeout_seconds: float | Unset = ...
    ) -> Response[Error | ProcessInfo]: ...

    def write_process_stdin(
        self, id: str, process_id: str, *, body: File | Unset = ..., close: bool | Unset = ...
    ) -> Response[Any | Error]: ...


# -- async ---------------------------------------------------------------------------------------


class AsyncHealthzOperations(_Bound, Protocol):
    """``porter.healthz.raw`` on an ``AsyncPorter``."""

    async def health_check(self) -> Response[Error | HealthResponse]: ...


class AsyncReadyzOperations(_Bound, Protocol):
    """``porter.readyz.raw`` on an ``AsyncPorter``."""

    async def readiness_check(self) -> Response[Error | ReadyResponse]: ...


class AsyncSandboxOperations(_Bound, Protocol):
    """``porter.sandboxes.raw`` on an ``AsyncPorter``."""

    async def create_sandbox(self, *, body: SandboxSpec) -> Response[CreateResponse | Error]: ...

    async def delete_sandbox(self, id: str, *, source: TerminationSource | Unset = ...) -> Response[Any | Error]: ...

    async def exec_sandbox(self, id: str, *, body: ExecRequest) -> Response[Error | ExecResponse]: ...

    async def get_sandbox(self, id: str) -> Response[Error | StatusResponse]: ...

    async def get_sandbox_logs(
        self, id: str, *, limit: int | Unset = ..., since: str | Unset = ...
    ) -> Response[Error | LogsResponse]: ...

    async def get_sandbox_metrics(
        self,
        id: str,
        *,
        metric: SandboxMetric,
        start_time_utc: datetime.datetime,
        end_time_utc: datetime.datetime,
    ) -> Response[Error | SandboxMetricsResponse]: ...

    async def get_sandbox_metrics_summary(
        self, id: str, *, since: str | Unset = ...
    ) -> Response[Error | MetricSummaryResponse]: ...

    async def list_sandboxes(
        self,
        *,
        search: str | Unset = ...,
        tag: list[str] | Unset = ...,
        phase: list[SandboxPhase] | Unset = ...,
        image: str | Unset = ...,
        start_time: datetime.datetime | Unset = ...,
        end_time: datetime.datetime | Unset = ...,
        include_filter_values: bool | Unset = ...,
        page: int | Unset = ...,
    ) -> Response[Error | ListSandboxesResponse]: ...

    async def lookup_sandbox(self, *, name: str) -> Response[Error | LookupResponse]: ...

    async def sandbox_counts(
        self,
        *,
        search: str | Unset = ...,
        tag: list[str] | Unset = ...,
        phase: list[SandboxPhase] | Unset = ...,
        image: str | Unset = ...,
        start_time: datetime.datetime | Unset = ...,
        end_time: datetime.datetime | Unset = ...,
    ) -> Response[CountsResponse | Error]: ...


class AsyncSnapshotOperations(_Bound, Protocol):
    """``porter.snapshots.raw`` on an ``AsyncPorter``."""

    async def create_snapshot(self, id: str, *, body: SnapshotSpec | Unset = ...) -> Response[Error | Snapshot]: ...

    async def delete_snapshot(self, id: str) -> Response[Any | Error]: ...

    async def get_snapshot(self, id: str) -> Response[Error | Snapshot]: ...

    async def list_snapshots(self, *, sandbox_id: str | Unset = ...) -> Response[Error | SnapshotListResponse]: ...


class AsyncVolumeOperations(_Bound, Protocol):
    """``porter.volumes.raw`` on an ``AsyncPorter``."""

    async def create_volume(self, *, body: CreateVolumeRequest) -> Response[Error | Volume]: ...

    async def delete_volume(self, id: str) -> Response[Any | Error]: ...

    async def get_volume(self, id: str) -> Response[Error | Volume]: ...

    async def list_volume_files(
        self, id: str, *, path: str | Unset = ..., search: str | Unset = ...
    ) -> Response[Error | VolumeFilesResponse]: ...

    async def list_volumes(self) -> Response[Error | ListVolumesResponse]: ...

    async def lookup_volume(self, *, name: str) -> Response[Error | LookupResponse]: ...

    async def move_volume_file(self, id: str, *, body: MoveFileRequest) -> Response[Any | Error]: ...

    async def read_volume_file(self, id: str, *, path: str, range_: str | Unset = ...) -> Response[Error | File]: ...

    async def write_volume_file(self, id: str, *, body: File, path: str) -> Response[Any | Error]: ...


class AsyncExtensionOperations(_Bound, Protocol):
    """The ``extensions`` tag on an ``AsyncPorter``: ``BoundOperations(porter.raw, "extensions", asynchronous=True)``."""

    async def delete_process(self, id: str, process_id: str) -> Response[Any | Error]: ...

    async def exec_stream(self, id: str, *, body: CommandRequest) -> Response[Error | File]: ...

    async def exec_with_options(self, id: str, *, body: CommandRequest) -> Response[CommandResult | Error]: ...

    async def follow_sandbox_logs(
        self, id: str, *, since: str | Unset = ..., limit: int | Unset = ...
    ) -> Response[Error | File]: ...

    async def get_capabilities(self) -> Response[Capabilities | Error]: ...

    async def get_process(self, id: str, process_id: str) -> Response[Error | ProcessInfo]: ...

    async def kill_process(
        self, id: str, process_id: str, *, body: KillRequest | Unset = ...
    ) -> Response[Error | ProcessInfo]: ...

    async def list_processes(self, id: str) -> Response[Error | ProcessList]: ...

    async def open_terminal(
        self,
        id: str,
        *,
        command: list[str] | Unset = ...,
        cwd: str | Unset = ...,
        env: list[str] | Unset = ...,
        rows: int | Unset = ...,
        cols: int | Unset = ...,
    ) -> Response[Any | Error]: ...

    async def read_process_output(
        self,
        id: str,
        process_id: str,
        *,
        stdout_offset: int | Unset = ...,
        stderr_offset: int | Unset = ...,
        max_bytes: int | Unset = ...,
        wait_seconds: float | Unset = ...,
    ) -> Response[Error | ProcessOutput]: ...

    async def start_process(self, id: str, *, body: CommandRequest) -> Response[Error | ProcessInfo]: ...

    async def wait_process(
        self, id: str, process_id: str, *, timeout_seconds: float | Unset = ...
    ) -> Response[Error | ProcessInfo]: ...

    async def write_process_stdin(
        self, id: str, process_id: str, *, body: File | Unset = ..., close: bool | Unset = ...
    ) -> Response[Any | Error]: ...

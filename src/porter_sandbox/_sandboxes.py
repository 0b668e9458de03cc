"""Sandboxes: the ``porter.sandboxes`` namespace and the ``Sandbox`` handle, sync and async side by side.

Every decision (argument checks, request bodies, query building, parsing,
pagination, what ``wait()`` counts as done) is a plain
function at the top of this module; the sync and async classes below only do
the I/O around them.

``get(name)`` takes a name or an id, as ``_references`` resolves them. The
arguments are those of Porter's published client (its names, keyword-only
where it has them), and more.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeVar, cast, get_args, overload

import httpx

from ._base_client import async_call, expect, expect_no_content, sync_call
from ._config import resolve_timeout
from ._enums import (
    FilterValuesResponsePhases,
    LogLineLevel,
    SandboxesPhase,
    SandboxMetric,
    SnapshotMode,
    StatusResponsePhase,
    StatusResponseTerminationReason,
    member,
)
from ._exceptions import (
    NotFoundError,
    RouteNotFoundError,
    SandboxEndedError,
    SandboxError,
    SandboxTimeoutError,
    UnsupportedByServerError,
)
from ._exec_stream import AsyncExecStream, ExecGathering, ExecStream
from ._extensions import StdinData, command_body, extension_error
from ._handle import NamedHandle
from ._log_stream import AsyncLogStream, LogStream
from ._metrics import (
    MetricName,
    MetricSummaryResponse,
    SandboxMetricsResponse,
    metrics_from,
    metrics_query,
    summary_from,
    summary_query,
)
from ._models import CountPoint, ExecResult, ExecTarget, FilterValuesResponse, LogLine, SandboxCounts, SandboxPage
from ._names import check_mount_path, check_name
from ._processes import AsyncProcess, Process, spawn_body, state_of
from ._raw import BoundOperations
from ._references import async_resolve_id, check_reference, not_found, resolve_id
from ._retry import CallOptions
from ._snapshots import AsyncSnapshot, AsyncSnapshots, Snapshot, Snapshots
from ._specs import ModeName, SandboxEgressSpec, SandboxNetworkingSpec, SandboxResourcesSpec, coerce, wire
from ._times import aware, moment, poll_delays, since_value
from ._volumes import AsyncVolumes, Volumes

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.models import (
        CountsResponse,
        ExecRequest,
        ExecResponse,
        FilterValues,
        ListSandboxesResponse,
        LogsResponse,
        SandboxSpec,
        StatusResponse,
    )
    from porter_sandbox_api.types import Response

    from ._operations import AsyncSandboxOperations, SandboxOperations

    RawClient = AuthenticatedClient | Client

__all__ = ["TERMINAL_PHASES", "AsyncSandbox", "AsyncSandboxes", "Sandbox", "SandboxPhase", "Sandboxes", "WaitPhase"]

logger = logging.getLogger("porter_sandbox")
H = TypeVar("H")

SandboxPhase = Literal["queued", "creating", "running", "succeeded", "failed", "terminated"]
"""A sandbox's phase as a string: ``queued`` -> ``creating`` -> ``running`` -> ``succeeded``, ``failed`` or
``terminated`` (``sandbox.phase`` is a :class:`StatusResponsePhase`, which equals these strings)."""
WaitPhase = Literal["queued", "creating", "running", "succeeded", "failed", "terminated", "terminal"]
"""What ``wait()`` waits for: a phase, or ``terminal`` for any phase a sandbox never leaves."""
PHASES: Final[tuple[SandboxPhase, ...]] = get_args(SandboxPhase)
TERMINAL_PHASES: Final[frozenset[SandboxPhase]] = frozenset({"succeeded", "failed", "terminated"})
"""The phases a sandbox never leaves."""
DEFAULT_WAIT_TIMEOUT: Final = 60.0
ERROR_TAIL_LINES: Final = 5
"""How many of a failed sandbox's last error lines its ``SandboxEndedError`` quotes."""
_ERROR_TAIL_SCAN: Final = 200  # the newest log lines searched for them
_MAX_PAGES: Final = 1_000_000  # the spec's bound on ``page``


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


# ---------------------------------------------------------------------------------------------
# Decisions shared by sync and async


@dataclass(frozen=True)
class SandboxState:
    """What the client last heard about a sandbox."""

    id: str
    name: str
    image: str
    phase: StatusResponsePhase | None
    created_at: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    termination_reason: StatusResponseTerminationReason | None = None
    host: str = ""
    internal_address: str | None = None
    volume_mounts: Mapping[str, str] = field(default_factory=dict)
    exec_target: ExecTarget | None = None


def state_from_status(status: StatusResponse) -> SandboxState:
    """The handle's state from a ``StatusResponse``."""
    from porter_sandbox_api.types import Unset

    return SandboxState(
        id=status.id,
        name=status.name,
        image=status.image,
        phase=member(StatusResponsePhase, status.phase),
        created_at=status.created_at,
        tags={} if isinstance(status.tags, Unset) else dict(status.tags.additional_properties),
        exit_code=None if isinstance(status.exit_code, Unset) else status.exit_code,
        started_at=None if isinstance(status.started_at, Unset) else status.started_at,
        finished_at=None if isinstance(status.finished_at, Unset) else status.finished_at,
        termination_reason=None
        if isinstance(status.termination_reason, Unset)
        else member(StatusResponseTerminationReason, status.termination_reason),
        host=status.host,
        internal_address=None if isinstance(status.internal_address, Unset) else status.internal_address,
        volume_mounts={}
        if isinstance(status.volume_mounts, Unset)
        else dict(status.volume_mounts.additional_properties),
        exec_target=None
        if isinstance(status.exec_target, Unset)
        else ExecTarget(
            namespace=status.exec_target.namespace,
            pod_name=status.exec_target.pod_name,
            container_name=status.exec_target.container_name,
        ),
    )


def state_after_create(sandbox_id: str, name: str, spec: SandboxSpec, status_code: int) -> SandboxState:
    """The handle's state right after create, with what was asked for.

    A ``201`` created the sandbox and queued it, as the contract says: phase
    ``queued``. A ``202`` (Porter's API) only accepted the request: the phase
    is ``None`` until ``refresh()`` learns it, as in Porter's published client.
    """
    from porter_sandbox_api.types import Unset

    return SandboxState(
        id=sandbox_id,
        name=name,
        image=spec.image,
        phase=StatusResponsePhase.QUEUED if status_code == 201 else None,
        created_at=None,
        tags={} if isinstance(spec.tags, Unset) else dict(spec.tags.additional_properties),
        volume_mounts={} if isinstance(spec.volume_mounts, Unset) else dict(spec.volume_mounts.additional_properties),
    )


def build_spec(
    *,
    image: str,
    snapshot_id: str | _HasId | None = None,
    name: str | None = None,
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    env_groups: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    volume_mounts: Mapping[str, str | _HasId] | None = None,
    networking: Sequence[SandboxNetworkingSpec | Mapping[str, Any]] | None = None,
    egress: SandboxEgressSpec | Mapping[str, Any] | None = None,
    resources: SandboxResourcesSpec | Mapping[str, str | int | float] | None = None,
    ttl_seconds: int | None = None,
) -> SandboxSpec:
    """The ``SandboxSpec`` for ``create()``, every argument checked before anything is sent."""
    from porter_sandbox_api.models import Resources, SandboxSpec, StringMap
    from porter_sandbox_api.types import UNSET

    if not isinstance(image, str):
        raise TypeError(f"image must be a string, such as 'python:3.12-slim', not {image!r}")
    if snapshot_id is None and not image.strip():
        raise ValueError("image must name an image, such as 'python:3.12-slim', unless snapshot_id= is given")
    spec = SandboxSpec(image=image.strip())
    if snapshot_id is not None:
        spec.snapshot_id = _snapshot_id(snapshot_id)
    if name is not None:
        spec.name = check_name(name, "sandbox")
    if command is not None:
        spec.command = _string_list(command, "command")
    if args is not None:
        spec.args = _string_list(args, "args")
    if env is not None:
        spec.env = StringMap.from_dict(check_env(env))
    if env_groups is not None:
        spec.env_groups = _string_list(env_groups, "env_groups")
        if not all(group.strip() for group in spec.env_groups):
            raise ValueError(f"env_groups must name groups configured on the server, not {env_groups!r}")
    if tags is not None:
        spec.tags = StringMap.from_dict(_string_map(tags, "tags"))
    if volume_mounts is not None:
        if not isinstance(volume_mounts, Mapping):
            raise TypeError(
                "volume_mounts must map absolute mount paths to volumes (a name, an id or a Volume), "
                "such as {'/data': 'my-volume'}"
            )
        spec.volume_mounts = StringMap.from_dict(
            {check_mount_path(path): _volume_id(volume) for path, volume in volume_mounts.items()}
        )
    if networking is not None:
        if isinstance(networking, (str, Mapping)) or not isinstance(networking, Sequence):
            raise TypeError(
                f"networking must be a list of SandboxNetworkingSpec, such as [{{'port': 8000}}], not {networking!r}"
            )
        # Not in openapi.yaml yet (the server's side is issue 13's); sent as Porter's API names it.
        spec.additional_properties["networking"] = [
            wire(coerce(port, SandboxNetworkingSpec, "each of networking")) for port in networking
        ]
    if egress is not None:
        spec.additional_properties["egress"] = wire(coerce(egress, SandboxEgressSpec, "egress"))
    if resources is not None:
        limits = coerce(resources, SandboxResourcesSpec, "resources")
        spec.resources = Resources(
            cpu=UNSET if limits.cpu is None else limits.cpu,
            memory=UNSET if limits.memory is None else limits.memory,
        )
    if ttl_seconds is not None:
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be a whole number of seconds, 1 or more, not {ttl_seconds!r}")
        spec.ttl_seconds = ttl_seconds
    return spec


def check_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` as a dict, when every key can name an environment variable and no value holds a NUL."""
    variables = _string_map(env, "env")
    for key, value in variables.items():
        if not key:
            raise ValueError("env has an empty variable name; each key must name a variable, such as 'MODE'")
        if "=" in key:
            raise ValueError(
                f"env variable name {key!r} holds '=', which ends a name in the environment; "
                f"pass the name and the value apart, such as {{'MODE': 'batch'}}"
            )
        if "\0" in key or "\0" in value:
            raise ValueError(f"env variable {key!r} holds a NUL character, which no environment can carry")
    return variables


def mount_references(volume_mounts: Mapping[str, str | _HasId] | None) -> dict[str, str]:
    """The mounts given as a string (a volume's name or id), by path: each is resolved to an id before create."""
    if volume_mounts is None:
        return {}
    return {path: volume for path, volume in volume_mounts.items() if isinstance(volume, str)}


def with_mounts(spec: SandboxSpec, volume_ids: Mapping[str, str]) -> SandboxSpec:
    """``spec`` with the volumes of ``volume_ids`` (ids by mount path) in place of the names it was given."""
    from porter_sandbox_api.models import StringMap

    if volume_ids:
        assert isinstance(spec.volume_mounts, StringMap)
        for path, volume_id in volume_ids.items():
            spec.volume_mounts[path] = volume_id
    return spec


def mount_not_found(reference: str, cause: NotFoundError) -> NotFoundError:
    """The error for a mount whose volume matched neither a name nor an id: it says what to pass."""
    if isinstance(cause, RouteNotFoundError):
        return cause
    return NotFoundError(
        f"volume_mounts: no volume is named or has the id {reference!r}. Pass a volume's name, its id or the "
        f"Volume itself, such as {{'/data': 'my-volume'}}, for a volume made with porter.volumes.create(name=...)",
        status_code=cause.status_code,
        body=cause.body,
    )


def exec_request(command: Sequence[str]) -> ExecRequest:
    """The ``ExecRequest`` for ``exec()``: a non-empty list of strings."""
    from porter_sandbox_api.models import ExecRequest

    argv = _string_list(command, "command")
    if not argv:
        raise ValueError("command must not be empty: pass the program and its arguments, such as ['ls', '-l']")
    return ExecRequest(command=argv)


def exec_result(answer: ExecResponse, command: Sequence[str]) -> ExecResult:
    """An :class:`ExecResult` from the server's answer."""
    from porter_sandbox_api.types import Unset

    return ExecResult(
        stdout=answer.stdout,
        stderr=answer.stderr,
        exit_code=answer.exit_code,
        exec_id=None if isinstance(answer.exec_id, Unset) else answer.exec_id,
        command=tuple(command),
    )


def exec_options(timeout: float | httpx.Timeout | None, client_timeout: httpx.Timeout) -> CallOptions:
    """Per-call options for ``exec()``: ``timeout`` bounds the wait for the answer; without one, the answer is
    awaited as long as the command runs (the client's timeout still bounds connecting and sending)."""
    if timeout is not None:
        return CallOptions(timeout=resolve_timeout(timeout))
    return CallOptions(
        timeout=httpx.Timeout(
            connect=client_timeout.connect, read=None, write=client_timeout.write, pool=client_timeout.pool
        )
    )


def exec_with_options(
    timeout: float | httpx.Timeout | None,
    stdin: StdinData | None,
    cwd: str | None,
    env: Mapping[str, str] | None,
    on_stdout: Callable[[str], object] | None,
    on_stderr: Callable[[str], object] | None,
) -> tuple[bool, bool]:
    """Whether ``exec()`` goes through the extensions, and whether a plain exec may stand in for it.

    A plain exec (Porter's API) is all it takes without options. A number of
    seconds as ``timeout`` asks the server to kill the command then; where the
    server cannot, the plain exec's client-side timeout stands in, as before.
    Any other option needs the extensions.
    """
    seconds = timeout is not None and not isinstance(timeout, httpx.Timeout)
    others = stdin is not None or cwd is not None or env is not None or on_stdout is not None or on_stderr is not None
    return (seconds or others), not others


def server_timeout(timeout: float | httpx.Timeout | None) -> float | None:
    """The ``timeout_seconds`` of an exec with options: a number of seconds (an ``httpx.Timeout`` bounds only the wait)."""
    return None if timeout is None or isinstance(timeout, httpx.Timeout) else float(timeout)


def logs_query(since: str | datetime | timedelta | None, limit: int | None) -> dict[str, Any]:
    """The query of ``logs()``: ``since`` as RFC 3339 or a duration, ``limit`` as a positive count."""
    query: dict[str, Any] = {}
    if since is not None:
        query["since"] = since_value(since)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number 1 or more, not {limit!r}")
        query["limit"] = limit
    return query


def log_lines(answer: LogsResponse) -> builtins.list[LogLine]:
    """The log lines of the server's answer, oldest first."""
    return [
        LogLine(
            timestamp=entry.timestamp, line=entry.line, level=member(LogLineLevel, entry.level), exec_id=entry.exec_id
        )
        for entry in answer.logs
    ]


PhaseFilter = SandboxPhase | SandboxesPhase | Sequence[SandboxPhase | SandboxesPhase]
"""What the ``phase`` filter takes: one phase or several, as strings or enum members."""


def filter_query(
    *,
    tags: Mapping[str, str] | None,
    phase: PhaseFilter | None,
    search: str | None,
    image: str | None,
    start_time: str | datetime | None,
    end_time: str | datetime | None,
) -> dict[str, Any]:
    """The filters shared by ``list()``, ``iter()`` and ``counts()``, as keyword arguments of the generated calls."""
    from porter_sandbox_api.models import SandboxPhase as GeneratedPhase

    query: dict[str, Any] = {}
    if tags is not None:
        pairs = _string_map(tags, "tags")
        for key in pairs:
            if "=" in key:
                raise ValueError(f"a tag key cannot hold '=' (filters are sent as key=value): {key!r}")
        query["tag"] = [f"{key}={value}" for key, value in sorted(pairs.items())]
    if phase is not None:
        phases = [phase] if isinstance(phase, str) else builtins.list(phase)
        unknown = [p for p in phases if p not in PHASES]
        if unknown:
            raise ValueError(f"unknown phase {unknown[0]!r}; phases are {', '.join(PHASES)}")
        query["phase"] = [GeneratedPhase(str.__str__(p)) for p in phases]
    if search is not None:
        query["search"] = search
    if image is not None:
        query["image"] = image
    if start_time is not None:
        query["start_time"] = aware(moment(start_time, "start_time"))
    if end_time is not None:
        query["end_time"] = aware(moment(end_time, "end_time"))
    return query


def check_page(page: int | None) -> int:
    """``page`` when it is a page number the API accepts; ``None`` is the first."""
    if page is None:
        return 1
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= _MAX_PAGES:
        raise ValueError(f"page must be a whole number from 1, not {page!r}")
    return page


def filter_values_from(values: FilterValues) -> FilterValuesResponse:
    """The filter values of a listing's answer."""
    return FilterValuesResponse(
        tags=builtins.list(values.tags),
        images=builtins.list(values.images),
        phases=[member(FilterValuesResponsePhases, phase) for phase in values.phases],
    )


def page_from(answer: ListSandboxesResponse, sandboxes: builtins.list[H]) -> SandboxPage[H]:
    """A :class:`SandboxPage` of ``sandboxes`` (the answer's, as handles), with the answer's pagination."""
    from porter_sandbox_api.types import Unset

    return SandboxPage(
        sandboxes=sandboxes,
        page=answer.pagination.current_page,
        total_pages=answer.pagination.total_pages,
        has_next_page=answer.pagination.has_next_page,
        filter_values=None if isinstance(answer.filter_values, Unset) else filter_values_from(answer.filter_values),
    )


def next_page(answer: ListSandboxesResponse, page: int) -> int | None:
    """The page to fetch after ``page`` when walking every page; ``None`` when this was the last."""
    if not answer.pagination.has_next_page or not answer.sandboxes or page >= _MAX_PAGES:
        return None
    return page + 1


def counts_from(answer: CountsResponse) -> SandboxCounts:
    """A :class:`SandboxCounts` from the server's answer."""
    return SandboxCounts(
        points=[CountPoint(timestamp=point.timestamp, count=point.count) for point in answer.points],
        granularity_ms=answer.granularity_ms,
    )


def wait_target(phase: WaitPhase) -> WaitPhase:
    """The phase ``wait()`` waits for: ``running``, a terminal phase, or ``terminal`` (any of them)."""
    if phase != "terminal" and phase not in PHASES:
        raise ValueError(f"cannot wait for phase {phase!r}; wait for 'running', 'terminal' or one of {PHASES}")
    return phase


def wait_reached(state: SandboxState, target: str) -> bool:
    """Whether ``wait(target)`` is done."""
    return state.phase == target or (target == "terminal" and state.phase in TERMINAL_PHASES)


def wait_ended(state: SandboxState, target: str) -> bool:
    """Whether ``wait(target)`` can never be done: the sandbox ended in another phase."""
    return state.phase in TERMINAL_PHASES and not wait_reached(state, target)


def error_tail(lines: Sequence[LogLine]) -> tuple[str, ...]:
    """The last lines the main process wrote to stderr: where a failed sandbox most likely says why."""
    return tuple(line.line for line in lines if line.level == "error" and not line.exec_id)[-ERROR_TAIL_LINES:]


def ended_error(state: SandboxState, target: str, tail: Sequence[str]) -> SandboxEndedError:
    """The error when ``wait(target)`` saw the sandbox end otherwise: its phase, reason, exit code, last errors.

    The message is one line (the command line prints it as is); ``tail`` is
    what :func:`error_tail` found in its logs.
    """
    reason = f" ({state.termination_reason})" if state.termination_reason else ""
    code = f", exit code {state.exit_code}" if state.exit_code is not None else ""
    said = f"; its last error output: {' | '.join(tail)}" if tail else ""
    return SandboxEndedError(
        f"sandbox {state.name!r} ended {state.phase}{reason}{code} while waiting for {target!r}{said}",
        phase=str(state.phase),
        termination_reason=state.termination_reason,
        exit_code=state.exit_code,
        log_tail=tail,
    )


def wait_timed_out(state: SandboxState, target: str, timeout: float) -> SandboxTimeoutError:
    """The error when ``wait()`` runs out of time."""
    return SandboxTimeoutError(
        f"sandbox {state.name!r} was still {state.phase!r} after {timeout:g}s of waiting for {target!r}"
    )


def _string_list(values: Sequence[str], what: str) -> builtins.list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{what} must be a list of strings, such as ['python', '-c', 'print(1)'], not {values!r}")
    for value in values:
        if not isinstance(value, str):
            raise TypeError(f"every item of {what} must be a string, not {value!r}")
    return builtins.list(values)


def _string_map(values: Mapping[str, str], what: str) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{what} must be a mapping of strings to strings, not {values!r}")
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{what} must map strings to strings, but has {key!r}: {value!r}")
    return dict(values)


def _volume_id(volume: str | _HasId) -> str:
    volume_id = volume if isinstance(volume, str) else getattr(volume, "id", None)
    if not isinstance(volume_id, str) or not volume_id:
        raise TypeError(f"volume_mounts values must be volume names, ids or Volume handles, not {volume!r}")
    return volume_id


def _snapshot_id(snapshot: str | _HasId) -> str:
    snapshot_id = snapshot if isinstance(snapshot, str) else getattr(snapshot, "id", None)
    if not isinstance(snapshot_id, str) or not snapshot_id.strip():
        raise TypeError(f"snapshot_id must be a snapshot's id or a Snapshot, not {snapshot!r}")
    return snapshot_id


# ---------------------------------------------------------------------------------------------
# Handles


class _SandboxFields(NamedHandle[SandboxState]):
    """The last-known fields of a sandbox, shared by ``Sandbox`` and ``AsyncSandbox``."""

    @property
    def image(self) -> str:
        """The image it runs."""
        return self._state.image

    @property
    def phase(self) -> StatusResponsePhase | None:
        """Its last-known phase: ``queued``, ``creating``, ``running``, ``succeeded``, ``failed`` or ``terminated``.

        A ``str`` enum: it equals the phase's name (``sandbox.phase == "running"``)
        and ``.value`` is that name. ``None`` on a handle from a create that the
        server only accepted (``202``), until ``refresh()``.
        """
        return self._state.phase

    @property
    def tags(self) -> dict[str, str]:
        """Its tags, as created."""
        return dict(self._state.tags)

    @property
    def exit_code(self) -> int | None:
        """The main process's exit code, once it ended (last known)."""
        return self._state.exit_code

    @property
    def created_at(self) -> datetime | None:
        """When it was created; ``None`` on a fresh ``create()`` handle until its first ``refresh()``."""
        return self._state.created_at

    @property
    def started_at(self) -> datetime | None:
        """When its workload started running (last known)."""
        return self._state.started_at

    @property
    def finished_at(self) -> datetime | None:
        """When it reached a terminal phase (last known)."""
        return self._state.finished_at

    @property
    def termination_reason(self) -> StatusResponseTerminationReason | None:
        """Why it ended, such as ``sdk`` or ``ttl_expired``; ``None`` while it is live (last known)."""
        return self._state.termination_reason

    @property
    def host(self) -> str:
        """Its public hostname; ``""`` when nothing is exposed."""
        return self._state.host

    @property
    def internal_address(self) -> str | None:
        """Its address inside the cluster, when it has one."""
        return self._state.internal_address

    @property
    def volume_mounts(self) -> dict[str, str]:
        """The volume ids it mounts, by mount path."""
        return dict(self._state.volume_mounts)

    @property
    def exec_target(self) -> ExecTarget | None:
        """Where an interactive exec into it would go, when the server says (a pod on a Porter cluster)."""
        return self._state.exec_target

    @property
    def is_terminal(self) -> bool:
        """Whether its last-known phase is one it never leaves (``succeeded``, ``failed``, ``terminated``)."""
        return self._state.phase in TERMINAL_PHASES


class Sandbox(_SandboxFields):
    """A sandbox: its last-known fields, and what you can do with it.

    Get one from ``porter.sandboxes.create()``, ``get()``, ``list()`` or
    ``iter()``. Fields (``id``, ``name``, ``phase``, ``tags``, ...) are what
    the client last heard; ``refresh()`` asks again. Used as a context manager
    it terminates the sandbox on exit, also when the block raises::

        with porter.sandboxes.create(image="python:3.12-slim") as sandbox:
            print(sandbox.exec(["python", "-c", "print('hi')"]).stdout)
    """

    def refresh(self) -> Sandbox:
        """Fetch the sandbox's current status, update this handle with it, and answer the handle."""
        from porter_sandbox_api.api.sandboxes import get_sandbox
        from porter_sandbox_api.models import StatusResponse

        answer = sync_call(get_sandbox.sync_detailed, self._state.id, client=self._client)
        self._state = state_from_status(expect(answer, StatusResponse))
        return self

    def exec(
        self,
        command: Sequence[str],
        timeout: float | httpx.Timeout | None = None,
        check: bool = False,
        *,
        stdin: StdinData | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        on_stdout: Callable[[str], object] | None = None,
        on_stderr: Callable[[str], object] | None = None,
    ) -> ExecResult:
        """Run ``command`` (a list: the program and its arguments) in the sandbox and answer its output.

        A non-zero exit code is a normal result; with ``check=True`` it raises
        :class:`CommandError` instead (as ``result.check()`` does). Without
        ``timeout`` the answer is awaited as long as the command runs.

        ``timeout`` in seconds: the server kills the command (its whole process
        group) once it ran that long, and :class:`CommandTimeoutError` carries
        what it printed. On a server without the extensions (a Porter cluster)
        it bounds the wait for the answer instead, as an ``httpx.Timeout``
        always does (:class:`SandboxTimeoutError`; the command may run on).

        ``stdin`` (bytes, text, a binary file or an iterable of byte chunks),
        ``cwd``, ``env`` (on top of the sandbox's), and ``on_stdout`` /
        ``on_stderr`` (called with text as the command writes it) need a
        server with the extensions; elsewhere :class:`UnsupportedByServerError`.
        With any of them the result also has the exact bytes
        (``stdout_bytes``). The retry policy resends an exec only when the
        connection failed before it was sent, never once the command may have run.
        """
        extended, plain_will_do = exec_with_options(timeout, stdin, cwd, env, on_stdout, on_stderr)
        if extended:
            body, later = command_body(command, stdin=stdin, cwd=cwd, env=env, timeout=server_timeout(timeout))
            try:
                stream = ExecStream(self._client, self._state.id, body, later)
            except UnsupportedByServerError:
                if not plain_will_do:
                    raise
            else:
                gathering = ExecGathering(on_stdout, on_stderr)
                with stream:
                    for event in stream:
                        gathering.take(event)
                return gathering.result(stream.exec_id, body["command"], check)
        from porter_sandbox_api.api.sandboxes import exec_sandbox
        from porter_sandbox_api.models import ExecResponse

        request = exec_request(command)
        options = exec_options(timeout, self._client.get_httpx_client().timeout)
        answer = sync_call(
            exec_sandbox.sync_detailed, self._state.id, client=self._client, body=request, options=options
        )
        result = exec_result(expect(answer, ExecResponse), request.command)
        return result.check() if check else result

    def exec_stream(
        self,
        command: Sequence[str],
        *,
        stdin: StdinData | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ExecStream:
        """Start ``command`` and answer its output as it is written: iterate the :class:`ExecStream`.

        Each event is a piece of ``stdout`` or ``stderr`` (``data`` bytes and
        ``text``), and the last is ``exit``. ``stdin``, ``cwd``, ``env`` and
        ``timeout`` as for :meth:`exec`. Closing the stream before its end (its
        ``with`` block) kills the command. Needs a server with the extensions:
        elsewhere :class:`UnsupportedByServerError`.
        """
        body, later = command_body(command, stdin=stdin, cwd=cwd, env=env, timeout=timeout)
        return ExecStream(self._client, self._state.id, body, later)

    def spawn(
        self,
        command: Sequence[str],
        *,
        stdin: StdinData | None = None,
        stdin_open: bool = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Process:
        """Start ``command`` in the background and answer its :class:`Process` at once.

        It runs on across calls until it exits, is killed (``process.kill()``,
        its ``timeout``, or leaving its ``with`` block) or the sandbox ends. The
        server keeps its newest output (``process.output()``). ``stdin`` is
        written then closed, unless ``stdin_open=True`` keeps it open for
        ``process.write_stdin()``. Needs a server with the extensions:
        elsewhere :class:`UnsupportedByServerError`.
        """
        from porter_sandbox_api.api.extensions import start_process
        from porter_sandbox_api.models import ProcessInfo

        body, later = command_body(command, stdin=stdin, stdin_open=stdin_open, cwd=cwd, env=env, timeout=timeout)
        try:
            answer = sync_call(start_process.sync_detailed, self._state.id, client=self._client, body=spawn_body(body))
            process = Process(self._client, self._state.id, state_of(expect(answer, ProcessInfo)))
        except SandboxError as error:
            raise extension_error("background processes (spawn)", error) from None
        if later is not None:
            for chunk in later.chunks():
                process.write_stdin(chunk)
            if not stdin_open:
                process.close_stdin()
        return process

    @overload
    def logs(
        self,
        *,
        since: str | datetime | timedelta | None = None,
        limit: int | None = 100,
        follow: Literal[False] = False,
    ) -> builtins.list[LogLine]: ...
    @overload
    def logs(
        self, *, since: str | datetime | timedelta | None = None, limit: int | None = 100, follow: Literal[True]
    ) -> LogStream: ...
    def logs(
        self, *, since: str | datetime | timedelta | None = None, limit: int | None = 100, follow: bool = False
    ) -> builtins.list[LogLine] | LogStream:
        """The sandbox's log lines, oldest first: the newest ``limit`` of them, written after ``since``.

        ``since`` is an RFC 3339 time or a duration back from now (``"30s"``,
        ``"5m"``, ``"2h"``), a ``datetime`` or a ``timedelta``. Logs outlive
        the sandbox. ``limit=None`` answers as many as the server gives. With
        ``follow=True``, a :class:`LogStream` instead: those lines, then each
        new one as it is written, ending when the sandbox ends (needs a server
        with the extensions: elsewhere :class:`UnsupportedByServerError`).
        """
        query = logs_query(since, limit)
        if follow:
            return LogStream(self._client, self._state.id, query)
        from porter_sandbox_api.api.sandboxes import get_sandbox_logs
        from porter_sandbox_api.models import LogsResponse

        answer = sync_call(get_sandbox_logs.sync_detailed, self._state.id, client=self._client, **query)
        return log_lines(expect(answer, LogsResponse))

    def snapshot(self, mode: SnapshotMode | ModeName | None = None) -> Snapshot:
        """Take a snapshot of the running sandbox; answer it, ``pending`` at first (``.wait()`` until ready).

        ``mode``: ``filesystem`` (the default) captures its writable files;
        ``full`` its memory too, where the server can (a 400 says otherwise).
        Start a sandbox from it with ``sandboxes.create(snapshot_id=snapshot.id)``.
        """
        return Snapshots(self._client).create(self._state.id, mode=mode)

    def metrics_summary(self, since: str | datetime | timedelta | None = None) -> MetricSummaryResponse:
        """The 50th and 90th percentiles of its CPU and memory use since ``since`` (the last hour when ``None``).

        ``since`` is a duration back from now (``"30m"``, a ``timedelta``) or
        a time. ``has_data`` is false until the sandbox has been sampled.
        """
        from porter_sandbox_api.api.sandboxes import get_sandbox_metrics_summary
        from porter_sandbox_api.models import MetricSummaryResponse as GeneratedSummary

        query = summary_query(since)
        answer = sync_call(get_sandbox_metrics_summary.sync_detailed, self._state.id, client=self._client, **query)
        return summary_from(expect(answer, GeneratedSummary))

    def metrics(
        self,
        metric: SandboxMetric | MetricName,
        *,
        start_time: str | datetime | timedelta | None = None,
        end_time: str | datetime | None = None,
    ) -> SandboxMetricsResponse:
        """The samples of one metric (``cpu_usage``, ``memory_usage``, ...) between two times, oldest first.

        ``end_time`` defaults to now; ``start_time`` is a time or a duration
        before the end (an hour when ``None``). ``.points`` are the samples.
        """
        from porter_sandbox_api.api.sandboxes import get_sandbox_metrics
        from porter_sandbox_api.models import SandboxMetricsResponse as GeneratedMetrics

        query = metrics_query(metric, start_time, end_time)
        answer = sync_call(get_sandbox_metrics.sync_detailed, self._state.id, client=self._client, **query)
        return metrics_from(expect(answer, GeneratedMetrics))

    def terminate(self) -> None:
        """Terminate the sandbox (a no-op when it already ended), then refresh this handle.

        Its record and logs stay; its name is never reused.
        """
        from porter_sandbox_api.api.sandboxes import delete_sandbox

        expect_no_content(sync_call(delete_sandbox.sync_detailed, self._state.id, client=self._client))
        self.refresh()

    def wait(self, phase: WaitPhase = "running", timeout: float = DEFAULT_WAIT_TIMEOUT) -> Sandbox:
        """Poll until the sandbox reaches ``phase``, and answer the refreshed handle.

        ``phase`` is ``"running"``, a terminal phase (``"succeeded"``,
        ``"failed"``, ``"terminated"``) or ``"terminal"`` for any of those.
        Raises :class:`SandboxEndedError` when the sandbox ends in another
        phase, and :class:`SandboxTimeoutError` after ``timeout`` seconds.
        """
        target = wait_target(phase)
        for delay in poll_delays(timeout):
            if self._reached(target):
                return self
            time.sleep(delay)
        if self._reached(target):
            return self
        raise wait_timed_out(self._state, target, timeout)

    def _reached(self, target: str) -> bool:
        state = self.refresh()._state
        if wait_ended(state, target):
            raise ended_error(state, target, self._error_tail())
        return wait_reached(state, target)

    def _error_tail(self) -> tuple[str, ...]:
        try:
            return error_tail(self.logs(limit=_ERROR_TAIL_SCAN))
        except SandboxError:
            return ()  # the reason and exit code still say what happened

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.terminate()
        except NotFoundError:
            pass
        except SandboxError:
            if exc is None:
                raise
            # Never hide the error that ended the block behind one from cleaning up.
            logger.warning("could not terminate sandbox %s on leaving its block", self._state.id, exc_info=True)


class AsyncSandbox(_SandboxFields):
    """The async twin of :class:`Sandbox`: the same fields, and awaitable methods.

    Used as an async context manager it terminates the sandbox on exit, also
    when the block raises::

        async with await porter.sandboxes.create(image="python:3.12-slim") as sandbox:
            print((await sandbox.exec(["python", "-c", "print('hi')"])).stdout)
    """

    async def refresh(self) -> AsyncSandbox:
        """Fetch the sandbox's current status, update this handle with it, and answer the handle."""
        from porter_sandbox_api.api.sandboxes import get_sandbox
        from porter_sandbox_api.models import StatusResponse

        answer = await async_call(get_sandbox.asyncio_detailed, self._state.id, client=self._client)
        self._state = state_from_status(expect(answer, StatusResponse))
        return self

    async def exec(
        self,
        command: Sequence[str],
        timeout: float | httpx.Timeout | None = None,
        check: bool = False,
        *,
        stdin: StdinData | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        on_stdout: Callable[[str], object] | None = None,
        on_stderr: Callable[[str], object] | None = None,
    ) -> ExecResult:
        """Run ``command`` (a list: the program and its arguments) in the sandbox and answer its output.

        As :meth:`Sandbox.exec`: ``check=True`` raises :class:`CommandError` on a
        non-zero exit; ``timeout`` in seconds kills the command on the server
        (:class:`CommandTimeoutError`), or where the server cannot, bounds the
        wait (none without it); ``stdin``, ``cwd``, ``env``, ``on_stdout`` and
        ``on_stderr`` need the extensions; never replayed.
        """
        extended, plain_will_do = exec_with_options(timeout, stdin, cwd, env, on_stdout, on_stderr)
        if extended:
            body, later = command_body(command, stdin=stdin, cwd=cwd, env=env, timeout=server_timeout(timeout))
            try:
                stream = await AsyncExecStream(self._client, self._state.id)._open(body, later)
            except UnsupportedByServerError:
                if not plain_will_do:
                    raise
            else:
                gathering = ExecGathering(on_stdout, on_stderr)
                async with stream:
                    async for event in stream:
                        gathering.take(event)
                return gathering.result(stream.exec_id, body["command"], check)
        from porter_sandbox_api.api.sandboxes import exec_sandbox
        from porter_sandbox_api.models import ExecResponse

        request = exec_request(command)
        options = exec_options(timeout, self._client.get_async_httpx_client().timeout)
        answer = await async_call(
            exec_sandbox.asyncio_detailed, self._state.id, client=self._client, body=request, options=options
        )
        result = exec_result(expect(answer, ExecResponse), request.command)
        return result.check() if check else result

    async def exec_stream(
        self,
        command: Sequence[str],
        *,
        stdin: StdinData | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> AsyncExecStream:
        """Start ``command`` and answer its output as it is written: ``async for event in await ...``.

        As :meth:`Sandbox.exec_stream`.
        """
        body, later = command_body(command, stdin=stdin, cwd=cwd, env=env, timeout=timeout)
        return await AsyncExecStream(self._client, self._state.id)._open(body, later)

    async def spawn(
        self,
        command: Sequence[str],
        *,
        stdin: StdinData | None = None,
        stdin_open: bool = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> AsyncProcess:
        """Start ``command`` in the background and answer its :class:`AsyncProcess` at once (see :meth:`Sandbox.spawn`)."""
        from porter_sandbox_api.api.extensions import start_process
        from porter_sandbox_api.models import ProcessInfo

        body, later = command_body(command, stdin=stdin, stdin_open=stdin_open, cwd=cwd, env=env, timeout=timeout)
        try:
            answer = await async_call(
                start_process.asyncio_detailed, self._state.id, client=self._client, body=spawn_body(body)
            )
            process = AsyncProcess(self._client, self._state.id, state_of(expect(answer, ProcessInfo)))
        except SandboxError as error:
            raise extension_error("background processes (spawn)", error) from None
        if later is not None:
            async for chunk in later.achunks():
                await process.write_stdin(chunk)
            if not stdin_open:
                await process.close_stdin()
        return process

    @overload
    async def logs(
        self,
        *,
        since: str | datetime | timedelta | None = None,
        limit: int | None = 100,
        follow: Literal[False] = False,
    ) -> builtins.list[LogLine]: ...
    @overload
    async def logs(
        self, *, since: str | datetime | timedelta | None = None, limit: int | None = 100, follow: Literal[True]
    ) -> AsyncLogStream: ...
    async def logs(
        self, *, since: str | datetime | timedelta | None = None, limit: int | None = 100, follow: bool = False
    ) -> builtins.list[LogLine] | AsyncLogStream:
        """The sandbox's log lines, oldest first: the newest ``limit`` of them, written after ``since``.

        ``since`` is an RFC 3339 time or a duration back from now (``"30s"``,
        ``"5m"``, ``"2h"``), a ``datetime`` or a ``timedelta``. With
        ``follow=True``, an :class:`AsyncLogStream` (``async for line in await
        sandbox.logs(follow=True)``), ending when the sandbox ends.
        """
        query = logs_query(since, limit)
        if follow:
            return await AsyncLogStream(self._client, self._state.id)._open(query)
        from porter_sandbox_api.api.sandboxes import get_sandbox_logs
        from porter_sandbox_api.models import LogsResponse

        answer = await async_call(get_sandbox_logs.asyncio_detailed, self._state.id, client=self._client, **query)
        return log_lines(expect(answer, LogsResponse))

    async def snapshot(self, mode: SnapshotMode | ModeName | None = None) -> AsyncSnapshot:
        """Take a snapshot of the running sandbox; answer it, ``pending`` at first (see :meth:`Sandbox.snapshot`)."""
        return await AsyncSnapshots(self._client).create(self._state.id, mode=mode)

    async def metrics_summary(self, since: str | datetime | timedelta | None = None) -> MetricSummaryResponse:
        """The 50th and 90th percentiles of its CPU and memory use since ``since`` (see :meth:`Sandbox.metrics_summary`)."""
        from porter_sandbox_api.api.sandboxes import get_sandbox_metrics_summary
        from porter_sandbox_api.models import MetricSummaryResponse as GeneratedSummary

        query = summary_query(since)
        answer = await async_call(
            get_sandbox_metrics_summary.asyncio_detailed, self._state.id, client=self._client, **query
        )
        return summary_from(expect(answer, GeneratedSummary))

    async def metrics(
        self,
        metric: SandboxMetric | MetricName,
        *,
        start_time: str | datetime | timedelta | None = None,
        end_time: str | datetime | None = None,
    ) -> SandboxMetricsResponse:
        """The samples of one metric between two times, oldest first (see :meth:`Sandbox.metrics`)."""
        from porter_sandbox_api.api.sandboxes import get_sandbox_metrics
        from porter_sandbox_api.models import SandboxMetricsResponse as GeneratedMetrics

        query = metrics_query(metric, start_time, end_time)
        answer = await async_call(get_sandbox_metrics.asyncio_detailed, self._state.id, client=self._client, **query)
        return metrics_from(expect(answer, GeneratedMetrics))

    async def terminate(self) -> None:
        """Terminate the sandbox (a no-op when it already ended), then refresh this handle."""
        from porter_sandbox_api.api.sandboxes import delete_sandbox

        expect_no_content(await async_call(delete_sandbox.asyncio_detailed, self._state.id, client=self._client))
        await self.refresh()

    async def wait(self, phase: WaitPhase = "running", timeout: float = DEFAULT_WAIT_TIMEOUT) -> AsyncSandbox:
        """Poll until the sandbox reaches ``phase``, and answer the refreshed handle.

        As :meth:`Sandbox.wait`: ``"running"``, a terminal phase or
        ``"terminal"``; :class:`SandboxEndedError` when it ends otherwise,
        :class:`SandboxTimeoutError` after ``timeout`` seconds.
        """
        import asyncio

        target = wait_target(phase)
        for delay in poll_delays(timeout):
            if await self._reached(target):
                return self
            await asyncio.sleep(delay)
        if await self._reached(target):
            return self
        raise wait_timed_out(self._state, target, timeout)

    async def _reached(self, target: str) -> bool:
        state = (await self.refresh())._state
        if wait_ended(state, target):
            raise ended_error(state, target, await self._error_tail())
        return wait_reached(state, target)

    async def _error_tail(self) -> tuple[str, ...]:
        try:
            return error_tail(await self.logs(limit=_ERROR_TAIL_SCAN))
        except SandboxError:
            return ()  # the reason and exit code still say what happened

    async def __aenter__(self) -> AsyncSandbox:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.terminate()
        except NotFoundError:
            pass
        except SandboxError:
            if exc is None:
                raise
            logger.warning("could not terminate sandbox %s on leaving its block", self._state.id, exc_info=True)


# ---------------------------------------------------------------------------------------------
# Namespaces


class Sandboxes:
    """``porter.sandboxes``: create, find, list and count sandboxes."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw: SandboxOperations | None = None

    @property
    def raw(self) -> SandboxOperations:
        """The generated sandbox operations bound to this client (``raw.get_sandbox(id)`` answers a ``Response``)."""
        if self._raw is None:
            self._raw = cast("SandboxOperations", BoundOperations(self._client, "sandboxes", asynchronous=False))
        return self._raw

    def create(
        self,
        image: str = "",
        *,
        snapshot_id: str | _HasId | None = None,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        env_groups: Sequence[str] | None = None,
        volume_mounts: Mapping[str, str | _HasId] | None = None,
        networking: Sequence[SandboxNetworkingSpec | Mapping[str, Any]] | None = None,
        egress: SandboxEgressSpec | Mapping[str, Any] | None = None,
        resources: SandboxResourcesSpec | Mapping[str, str | int | float] | None = None,
        ttl_seconds: int | None = None,
    ) -> Sandbox:
        """Create a sandbox from ``image`` (or from a snapshot) and queue it to start; answer its handle.

        ``snapshot_id`` (an id or a ``Snapshot``) starts it from that
        snapshot's files and image instead; leave ``image`` out then.
        ``name`` is a DNS label, unique forever on the server (checked here
        before sending: :class:`InvalidNameError`; taken: :class:`ConflictError`).
        ``command``/``args`` override the image's entrypoint (without them the
        sandbox idles, ready for ``exec``). ``env_groups`` names environment
        groups configured on the server, merged in order under ``env``.
        ``volume_mounts`` maps absolute paths to volumes: a name, an id or a
        ``Volume`` (a name is looked up first). ``resources`` is a
        ``SandboxResourcesSpec`` (or a mapping) of ``cpu`` and ``memory`` as
        Kubernetes quantities (``"500m"``, ``"512Mi"``). ``networking`` and
        ``egress`` (``SandboxNetworkingSpec``, ``SandboxEgressSpec``) are sent
        as Porter's API takes them; what a server enforces is the server's.
        ``ttl_seconds`` terminates it that long after it starts running.

        The handle's phase is ``queued``, or ``None`` when the server only
        accepted the request (``202``) until ``refresh()``. A create is retried
        only when the connection failed before it was sent.
        """
        from porter_sandbox_api.api.sandboxes import create_sandbox
        from porter_sandbox_api.models import CreateResponse

        spec = build_spec(
            image=image,
            snapshot_id=snapshot_id,
            name=name,
            command=command,
            args=args,
            env=env,
            env_groups=env_groups,
            tags=tags,
            volume_mounts=volume_mounts,
            networking=networking,
            egress=egress,
            resources=resources,
            ttl_seconds=ttl_seconds,
        )
        volumes, resolved = Volumes(self._client), {}
        for path, reference in mount_references(volume_mounts).items():
            try:
                resolved[path] = volumes.get(reference).id
            except NotFoundError as exc:
                raise mount_not_found(reference, exc) from None
        spec = with_mounts(spec, resolved)
        answer = sync_call(create_sandbox.sync_detailed, client=self._client, body=spec)
        created = expect(answer, CreateResponse)
        return Sandbox(self._client, state_after_create(created.id, created.name, spec, int(answer.status_code)))

    def get(self, name: str) -> Sandbox:
        """The sandbox with this name (or, failing that, this id), freshly fetched; :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.sandboxes import get_sandbox
        from porter_sandbox_api.models import StatusResponse

        reference = check_reference(name, "sandbox")
        sandbox_id = resolve_id(self._client, "sandbox", reference)
        try:
            status = expect(sync_call(get_sandbox.sync_detailed, sandbox_id, client=self._client), StatusResponse)
        except NotFoundError as exc:
            raise not_found("sandbox", reference, exc) from None
        return Sandbox(self._client, state_from_status(status))

    def list(
        self,
        *,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        search: str | None = None,
        tags: Mapping[str, str] | None = None,
        phase: PhaseFilter | None = None,
        image: str | None = None,
        include_filter_values: bool | None = None,
        page: int | None = None,
    ) -> SandboxPage[Sandbox]:
        """One page of sandboxes, newest first, matching every filter given.

        ``tags``: all must match; ``phase``: one or several, any may match;
        ``search``: a name prefix; ``image``; ``start_time``/``end_time``: the
        creation window, as ``datetime`` or RFC 3339 strings. ``page`` is from
        1 (the first when ``None``). The page knows ``page``, ``total_pages``
        and ``has_next_page``, and with ``include_filter_values=True`` the
        values each filter can take (``filter_values``); ``iter()`` walks
        every page.
        """
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return self._page(query, check_page(page), include_filter_values=bool(include_filter_values))

    def iter(
        self,
        *,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        search: str | None = None,
        tags: Mapping[str, str] | None = None,
        phase: PhaseFilter | None = None,
        image: str | None = None,
    ) -> Iterator[Sandbox]:
        """Every sandbox matching the filters, newest first, fetching page after page as you go.

        Takes the filters of :meth:`list`. A sandbox that moves to a later
        page while you walk (because newer ones were created) is not repeated.
        """
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return self._walk(query)

    def counts(
        self,
        *,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        search: str | None = None,
        tags: Mapping[str, str] | None = None,
        phase: PhaseFilter | None = None,
        image: str | None = None,
    ) -> SandboxCounts:
        """How many sandboxes matching the filters of :meth:`list` were created per time bucket, with no gaps."""
        from porter_sandbox_api.api.sandboxes import sandbox_counts
        from porter_sandbox_api.models import CountsResponse

        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        answer = sync_call(sandbox_counts.sync_detailed, client=self._client, **query)
        return counts_from(expect(answer, CountsResponse))

    def _fetch(self, query: dict[str, Any], page: int, include_filter_values: bool = False) -> ListSandboxesResponse:
        from porter_sandbox_api.api.sandboxes import list_sandboxes
        from porter_sandbox_api.models import ListSandboxesResponse

        if include_filter_values:
            query = {**query, "include_filter_values": True}
        answer: Response[Any] = sync_call(list_sandboxes.sync_detailed, client=self._client, page=page, **query)
        return expect(answer, ListSandboxesResponse)

    def _page(self, query: dict[str, Any], page: int, *, include_filter_values: bool) -> SandboxPage[Sandbox]:
        answer = self._fetch(query, page, include_filter_values)
        return page_from(answer, [Sandbox(self._client, state_from_status(status)) for status in answer.sandboxes])

    def _walk(self, query: dict[str, Any]) -> Iterator[Sandbox]:
        seen: set[str] = set()
        page: int | None = 1
        while page is not None:
            answer = self._fetch(query, page)
            for status in answer.sandboxes:
                if status.id not in seen:
                    seen.add(status.id)
                    yield Sandbox(self._client, state_from_status(status))
            page = next_page(answer, page)

    def __repr__(self) -> str:
        return f"<Sandboxes of {self._client._base_url!r}>"


class AsyncSandboxes:
    """``porter.sandboxes`` on an ``AsyncPorter``: the async twin of :class:`Sandboxes`."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw: AsyncSandboxOperations | None = None

    @property
    def raw(self) -> AsyncSandboxOperations:
        """The generated sandbox operations bound to this client (``await raw.get_sandbox(id)`` answers a ``Response``)."""
        if self._raw is None:
            self._raw = cast("AsyncSandboxOperations", BoundOperations(self._client, "sandboxes", asynchronous=True))
        return self._raw

    async def create(
        self,
        image: str = "",
        *,
        snapshot_id: str | _HasId | None = None,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        env_groups: Sequence[str] | None = None,
        volume_mounts: Mapping[str, str | _HasId] | None = None,
        networking: Sequence[SandboxNetworkingSpec | Mapping[str, Any]] | None = None,
        egress: SandboxEgressSpec | Mapping[str, Any] | None = None,
        resources: SandboxResourcesSpec | Mapping[str, str | int | float] | None = None,
        ttl_seconds: int | None = None,
    ) -> AsyncSandbox:
        """Create a sandbox from ``image`` (or from a snapshot) and queue it to start; answer its handle.

        The arguments are those of :meth:`Sandboxes.create`.
        """
        from porter_sandbox_api.api.sandboxes import create_sandbox
        from porter_sandbox_api.models import CreateResponse

        spec = build_spec(
            image=image,
            snapshot_id=snapshot_id,
            name=name,
            command=command,
            args=args,
            env=env,
            env_groups=env_groups,
            tags=tags,
            volume_mounts=volume_mounts,
            networking=networking,
            egress=egress,
            resources=resources,
            ttl_seconds=ttl_seconds,
        )
        volumes, resolved = AsyncVolumes(self._client), {}
        for path, reference in mount_references(volume_mounts).items():
            try:
                resolved[path] = (await volumes.get(reference)).id
            except NotFoundError as exc:
                raise mount_not_found(reference, exc) from None
        spec = with_mounts(spec, resolved)
        answer = await async_call(create_sandbox.asyncio_detailed, client=self._client, body=spec)
        created = expect(answer, CreateResponse)
        return AsyncSandbox(self._client, state_after_create(created.id, created.name, spec, int(answer.status_code)))

    async def get(self, name: str) -> AsyncSandbox:
        """The sandbox with this name (or, failing that, this id), freshly fetched; :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.sandboxes import get_sandbox
        from porter_sandbox_api.models import StatusResponse

        reference = check_reference(name, "sandbox")
        sandbox_id = await async_resolve_id(self._client, "sandbox", reference)
        try:
            answer = await async_call(get_sandbox.asyncio_detailed, sandbox_id, client=self._client)
            status = expect(answer, StatusResponse)
        except NotFoundError as exc:
            raise not_found("sandbox", reference, exc) from None
        return AsyncSandbox(self._client, state_from_status(status))

    async def list(
        self,
        *,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        search: str | None = None,
        tags: Mapping[str, str] | None = None,
        phase: PhaseFilter | None = None,
        image: str | None = None,
        include_filter_values: bool | None = None,
        page: int | None = None,
    ) -> SandboxPage[AsyncSandbox]:
        """One page of sandboxes, newest first, matching every filter given (see :meth:`Sandboxes.list`)."""
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return await self._page(query, check_page(page), include_filter_values=bool(include_filter_values))

    def iter(
        self,
        *,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        search: str | None = None,
        tags: Mapping[str, str] | None = None,
        phase: PhaseFilter | None = None,
        image: str | None = None,
    ) -> AsyncIterator[AsyncSandbox]:
        """Every sandbox matching the filters, newest first, fetching pages as you go: ``async for s in ...iter()``."""
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return self._walk(query)

    async def counts(
        self,
        *,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        search: str | None = None,
        tags: Mapping[str, str] | None = None,
        phase: PhaseFilter | None = None,
        image: str | None = None,
    ) -> SandboxCounts:
        """How many sandboxes matching the filters of :meth:`list` were created per time bucket, with no gaps."""
        from porter_sandbox_api.api.sandboxes import sandbox_counts
        from porter_sandbox_api.models import CountsResponse

        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        answer = await async_call(sandbox_counts.asyncio_detailed, client=self._client, **query)
        return counts_from(expect(answer, CountsResponse))

    async def _fetch(
        self, query: dict[str, Any], page: int, include_filter_values: bool = False
    ) -> ListSandboxesResponse:
        from porter_sandbox_api.api.sandboxes import list_sandboxes
        from porter_sandbox_api.models import ListSandboxesResponse

        if include_filter_values:
            query = {**query, "include_filter_values": True}
        answer = await async_call(list_sandboxes.asyncio_detailed, client=self._client, page=page, **query)
        return expect(answer, ListSandboxesResponse)

    async def _page(
        self, query: dict[str, Any], page: int, *, include_filter_values: bool
    ) -> SandboxPage[AsyncSandbox]:
        answer = await self._fetch(query, page, include_filter_values)
        return page_from(answer, [AsyncSandbox(self._client, state_from_status(status)) for status in answer.sandboxes])

    async def _walk(self, query: dict[str, Any]) -> AsyncIterator[AsyncSandbox]:
        seen: set[str] = set()
        page: int | None = 1
        while page is not None:
            answer = await self._fetch(query, page)
            for status in answer.sandboxes:
                if status.id not in seen:
                    seen.add(status.id)
                    yield AsyncSandbox(self._client, state_from_status(status))
            page = next_page(answer, page)

    def __repr__(self) -> str:
        return f"<AsyncSandboxes of {self._client._base_url!r}>"

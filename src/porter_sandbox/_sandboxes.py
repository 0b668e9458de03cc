"""Sandboxes: the ``porter.sandboxes`` namespace and the ``Sandbox`` handle, sync and async side by side.

Every decision (argument checks, request bodies, query building, parsing,
pagination, what ``wait()`` counts as done) is a plain
function at the top of this module; the sync and async classes below only do
the I/O around them.

``get(name_or_id)`` takes a name or an id, as ``_references`` resolves them.
"""

from __future__ import annotations

import builtins
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, cast, get_args

import httpx

from ._base_client import async_call, expect, expect_no_content, sync_call
from ._config import resolve_timeout
from ._exceptions import NotFoundError, RouteNotFoundError, SandboxEndedError, SandboxError, SandboxTimeoutError
from ._handle import Handle
from ._models import CountPoint, ExecResult, LogLine, SandboxCounts, SandboxPage
from ._names import check_mount_path, check_name
from ._raw import BoundOperations
from ._references import async_resolve_id, check_reference, not_found, resolve_id
from ._retry import CallOptions
from ._volumes import AsyncVolumes, Volumes

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.models import (
        CountsResponse,
        ExecRequest,
        ExecResponse,
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

SandboxPhase = Literal["queued", "creating", "running", "succeeded", "failed", "terminated"]
"""A sandbox's phase: ``queued`` -> ``creating`` -> ``running`` -> ``succeeded``, ``failed`` or ``terminated``."""
WaitPhase = Literal["queued", "creating", "running", "succeeded", "failed", "terminated", "terminal"]
"""What ``wait()`` waits for: a phase, or ``terminal`` for any phase a sandbox never leaves."""
PHASES: Final[tuple[SandboxPhase, ...]] = get_args(SandboxPhase)
TERMINAL_PHASES: Final[frozenset[SandboxPhase]] = frozenset({"succeeded", "failed", "terminated"})
"""The phases a sandbox never leaves."""
DEFAULT_WAIT_TIMEOUT: Final = 60.0
ERROR_TAIL_LINES: Final = 5
"""How many of a failed sandbox's last error lines its ``SandboxEndedError`` quotes."""
_ERROR_TAIL_SCAN: Final = 200  # the newest log lines searched for them
_FIRST_POLL: Final = 0.02
_MAX_POLL: Final = 0.5
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
    phase: SandboxPhase
    created_at: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    termination_reason: str | None = None
    host: str = ""
    internal_address: str | None = None
    volume_mounts: Mapping[str, str] = field(default_factory=dict)


def state_from_status(status: StatusResponse) -> SandboxState:
    """The handle's state from a ``StatusResponse``."""
    from porter_sandbox_api.types import Unset

    return SandboxState(
        id=status.id,
        name=status.name,
        image=status.image,
        phase=cast("SandboxPhase", str(status.phase)),
        created_at=status.created_at,
        tags={} if isinstance(status.tags, Unset) else dict(status.tags.additional_properties),
        exit_code=None if isinstance(status.exit_code, Unset) else status.exit_code,
        started_at=None if isinstance(status.started_at, Unset) else status.started_at,
        finished_at=None if isinstance(status.finished_at, Unset) else status.finished_at,
        termination_reason=None if isinstance(status.termination_reason, Unset) else str(status.termination_reason),
        host=status.host,
        internal_address=None if isinstance(status.internal_address, Unset) else status.internal_address,
        volume_mounts={}
        if isinstance(status.volume_mounts, Unset)
        else dict(status.volume_mounts.additional_properties),
    )


def state_after_create(sandbox_id: str, name: str, spec: SandboxSpec) -> SandboxState:
    """The handle's state right after create: ``queued``, as the contract says, with what was asked for."""
    from porter_sandbox_api.types import Unset

    return SandboxState(
        id=sandbox_id,
        name=name,
        image=spec.image,
        phase="queued",
        created_at=None,
        tags={} if isinstance(spec.tags, Unset) else dict(spec.tags.additional_properties),
        volume_mounts={} if isinstance(spec.volume_mounts, Unset) else dict(spec.volume_mounts.additional_properties),
    )


def build_spec(
    *,
    image: str,
    name: str | None,
    command: Sequence[str] | None,
    args: Sequence[str] | None,
    env: Mapping[str, str] | None,
    tags: Mapping[str, str] | None,
    volume_mounts: Mapping[str, str | _HasId] | None,
    resources: Mapping[str, str | int | float] | None,
    ttl_seconds: int | None,
) -> SandboxSpec:
    """The ``SandboxSpec`` for ``create()``, every argument checked before anything is sent."""
    from porter_sandbox_api.models import Resources, SandboxSpec, StringMap
    from porter_sandbox_api.types import UNSET

    if not isinstance(image, str) or not image.strip():
        raise ValueError(f"image must be a non-empty string, such as 'python:3.12-slim', not {image!r}")
    spec = SandboxSpec(image=image)
    if name is not None:
        spec.name = check_name(name, "sandbox")
    if command is not None:
        spec.command = _string_list(command, "command")
    if args is not None:
        spec.args = _string_list(args, "args")
    if env is not None:
        spec.env = StringMap.from_dict(check_env(env))
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
    if resources is not None:
        unknown = set(resources) - {"cpu", "memory"}
        if unknown:
            raise ValueError(f"resources takes 'cpu' and 'memory', not {sorted(unknown)}")
        cpu, memory = resources.get("cpu"), resources.get("memory")
        spec.resources = Resources(
            cpu=UNSET if cpu is None else _quantity(cpu, "cpu"),
            memory=UNSET if memory is None else _quantity(memory, "memory"),
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


def exec_options(timeout: float | httpx.Timeout | None) -> CallOptions | None:
    """Per-call options for ``exec(timeout=...)``: ``None`` keeps the client's timeout."""
    return None if timeout is None else CallOptions(timeout=resolve_timeout(timeout))


def logs_query(since: str | datetime | timedelta | None, limit: int | None) -> dict[str, Any]:
    """The query of ``logs()``: ``since`` as RFC 3339 or a duration, ``limit`` as a positive count."""
    query: dict[str, Any] = {}
    if since is not None:
        if isinstance(since, timedelta):
            if since < timedelta(0):
                raise ValueError(f"since must not be negative, not {since!r}")
            query["since"] = f"{math.ceil(since.total_seconds())}s"
        elif isinstance(since, datetime):
            query["since"] = _aware(since).isoformat()
        elif isinstance(since, str) and since.strip():
            query["since"] = since.strip()
        else:
            raise TypeError(
                f"since must be an RFC 3339 time or a duration such as '5m', a datetime or a timedelta, not {since!r}"
            )
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number 1 or more, not {limit!r}")
        query["limit"] = limit
    return query


def log_lines(answer: LogsResponse) -> builtins.list[LogLine]:
    """The log lines of the server's answer, oldest first."""
    return [
        LogLine(timestamp=entry.timestamp, line=entry.line, level=str(entry.level), exec_id=entry.exec_id)
        for entry in answer.logs
    ]


def filter_query(
    *,
    tags: Mapping[str, str] | None,
    phase: SandboxPhase | Sequence[SandboxPhase] | None,
    search: str | None,
    image: str | None,
    start_time: datetime | None,
    end_time: datetime | None,
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
        query["phase"] = [GeneratedPhase(p) for p in phases]
    if search is not None:
        query["search"] = search
    if image is not None:
        query["image"] = image
    if start_time is not None:
        query["start_time"] = _aware(start_time)
    if end_time is not None:
        query["end_time"] = _aware(end_time)
    return query


def check_page(page: int) -> int:
    """``page`` when it is a page number the API accepts."""
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= _MAX_PAGES:
        raise ValueError(f"page must be a whole number from 1, not {page!r}")
    return page


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
        phase=state.phase,
        termination_reason=state.termination_reason,
        exit_code=state.exit_code,
        log_tail=tail,
    )


def poll_delays(timeout: float) -> Iterator[float]:
    """The waits between status polls: short first, growing, ending when ``timeout`` seconds have passed."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"timeout must be a number of seconds, 0 or more, not {timeout!r}")
    deadline = time.monotonic() + timeout
    delay = _FIRST_POLL
    while (remaining := deadline - time.monotonic()) > 0:
        yield min(delay, remaining)
        delay = min(delay * 1.5, _MAX_POLL)


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


def _quantity(value: str | int | float, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"resources[{what!r}] must be a Kubernetes quantity such as '500m' or '512Mi', not {value!r}")
    return str(value)


def _aware(moment: datetime) -> datetime:
    # A naive datetime is local time, as everywhere in Python; the API wants an explicit offset.
    return moment if moment.tzinfo is not None else moment.astimezone()


# ---------------------------------------------------------------------------------------------
# Handles


class _SandboxFields(Handle[SandboxState]):
    """The last-known fields of a sandbox, shared by ``Sandbox`` and ``AsyncSandbox``."""

    @property
    def image(self) -> str:
        """The image it runs."""
        return self._state.image

    @property
    def phase(self) -> SandboxPhase:
        """Its last-known phase: ``queued``, ``creating``, ``running``, ``succeeded``, ``failed`` or ``terminated``."""
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
    def termination_reason(self) -> str | None:
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
        self, command: Sequence[str], timeout: float | httpx.Timeout | None = None, check: bool = False
    ) -> ExecResult:
        """Run ``command`` (a list: the program and its arguments) in the sandbox and answer its output.

        A non-zero exit code is a normal result; with ``check=True`` it raises
        :class:`CommandError` instead (as ``result.check()`` does). ``timeout``
        bounds how long to wait for the answer, in seconds (the client's
        timeout when ``None``); when it passes, :class:`SandboxTimeoutError` is
        raised and the command is not sent again. The retry policy resends an
        exec only when the connection failed before it was sent, never once
        the command may have run.
        """
        from porter_sandbox_api.api.sandboxes import exec_sandbox
        from porter_sandbox_api.models import ExecResponse

        body = exec_request(command)
        answer = sync_call(
            exec_sandbox.sync_detailed, self._state.id, client=self._client, body=body, options=exec_options(timeout)
        )
        result = exec_result(expect(answer, ExecResponse), body.command)
        return result.check() if check else result

    def logs(self, since: str | datetime | timedelta | None = None, limit: int | None = 100) -> builtins.list[LogLine]:
        """The sandbox's log lines, oldest first: the newest ``limit`` of them, written after ``since``.

        ``since`` is an RFC 3339 time or a duration back from now (``"30s"``,
        ``"5m"``, ``"2h"``), a ``datetime`` or a ``timedelta``. Logs outlive
        the sandbox.
        """
        from porter_sandbox_api.api.sandboxes import get_sandbox_logs
        from porter_sandbox_api.models import LogsResponse

        query = logs_query(since, limit)
        answer = sync_call(get_sandbox_logs.sync_detailed, self._state.id, client=self._client, **query)
        return log_lines(expect(answer, LogsResponse))

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
        self, command: Sequence[str], timeout: float | httpx.Timeout | None = None, check: bool = False
    ) -> ExecResult:
        """Run ``command`` (a list: the program and its arguments) in the sandbox and answer its output.

        As :meth:`Sandbox.exec`: ``check=True`` raises :class:`CommandError` on
        a non-zero exit; ``timeout`` bounds the wait for the answer; never replayed.
        """
        from porter_sandbox_api.api.sandboxes import exec_sandbox
        from porter_sandbox_api.models import ExecResponse

        body = exec_request(command)
        answer = await async_call(
            exec_sandbox.asyncio_detailed,
            self._state.id,
            client=self._client,
            body=body,
            options=exec_options(timeout),
        )
        result = exec_result(expect(answer, ExecResponse), body.command)
        return result.check() if check else result

    async def logs(
        self, since: str | datetime | timedelta | None = None, limit: int | None = 100
    ) -> builtins.list[LogLine]:
        """The sandbox's log lines, oldest first: the newest ``limit`` of them, written after ``since``.

        ``since`` is an RFC 3339 time or a duration back from now (``"30s"``,
        ``"5m"``, ``"2h"``), a ``datetime`` or a ``timedelta``.
        """
        from porter_sandbox_api.api.sandboxes import get_sandbox_logs
        from porter_sandbox_api.models import LogsResponse

        query = logs_query(since, limit)
        answer = await async_call(get_sandbox_logs.asyncio_detailed, self._state.id, client=self._client, **query)
        return log_lines(expect(answer, LogsResponse))

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
        image: str,
        name: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        volume_mounts: Mapping[str, str | _HasId] | None = None,
        resources: Mapping[str, str | int | float] | None = None,
        ttl_seconds: int | None = None,
    ) -> Sandbox:
        """Create a sandbox from ``image`` and queue it to start; answer its handle (phase ``queued``).

        ``name`` is a DNS label, unique forever on the server (checked here
        before sending: :class:`InvalidNameError`; taken: :class:`ConflictError`).
        ``command``/``args`` override the image's entrypoint (without them the
        sandbox idles, ready for ``exec``). ``volume_mounts`` maps absolute paths
        to volumes: a name, an id or a ``Volume`` (a name is looked up first). ``resources`` takes ``cpu`` and
        ``memory`` as Kubernetes quantities (``"500m"``, ``"512Mi"``).
        ``ttl_seconds`` terminates it that long after it starts running.
        A create is retried only when the connection failed before it was sent.
        """
        from porter_sandbox_api.api.sandboxes import create_sandbox
        from porter_sandbox_api.models import CreateResponse

        spec = build_spec(
            image=image,
            name=name,
            command=command,
            args=args,
            env=env,
            tags=tags,
            volume_mounts=volume_mounts,
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
        created = expect(sync_call(create_sandbox.sync_detailed, client=self._client, body=spec), CreateResponse)
        return Sandbox(self._client, state_after_create(created.id, created.name, spec))

    def get(self, name_or_id: str) -> Sandbox:
        """The sandbox with this name (or, failing that, this id), freshly fetched; :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.sandboxes import get_sandbox
        from porter_sandbox_api.models import StatusResponse

        reference = check_reference(name_or_id, "sandbox")
        sandbox_id = resolve_id(self._client, "sandbox", reference)
        try:
            status = expect(sync_call(get_sandbox.sync_detailed, sandbox_id, client=self._client), StatusResponse)
        except NotFoundError as exc:
            raise not_found("sandbox", reference, exc) from None
        return Sandbox(self._client, state_from_status(status))

    def list(
        self,
        tags: Mapping[str, str] | None = None,
        phase: SandboxPhase | Sequence[SandboxPhase] | None = None,
        search: str | None = None,
        image: str | None = None,
        page: int = 1,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> SandboxPage[Sandbox]:
        """One page of sandboxes, newest first, matching every filter given.

        ``tags``: all must match; ``phase``: one or several, any may match;
        ``search``: a name prefix; ``image``; ``start_time``/``end_time``: the
        creation window. The page knows ``page``, ``total_pages`` and
        ``has_next_page``; ``iter()`` walks them all.
        """
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return self._page(query, check_page(page))

    def iter(
        self,
        tags: Mapping[str, str] | None = None,
        phase: SandboxPhase | Sequence[SandboxPhase] | None = None,
        search: str | None = None,
        image: str | None = None,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
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
        tags: Mapping[str, str] | None = None,
        phase: SandboxPhase | Sequence[SandboxPhase] | None = None,
        search: str | None = None,
        image: str | None = None,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> SandboxCounts:
        """How many sandboxes matching the filters of :meth:`list` were created per time bucket, with no gaps."""
        from porter_sandbox_api.api.sandboxes import sandbox_counts
        from porter_sandbox_api.models import CountsResponse

        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        answer = sync_call(sandbox_counts.sync_detailed, client=self._client, **query)
        return counts_from(expect(answer, CountsResponse))

    def _fetch(self, query: dict[str, Any], page: int) -> ListSandboxesResponse:
        from porter_sandbox_api.api.sandboxes import list_sandboxes
        from porter_sandbox_api.models import ListSandboxesResponse

        answer: Response[Any] = sync_call(list_sandboxes.sync_detailed, client=self._client, page=page, **query)
        return expect(answer, ListSandboxesResponse)

    def _page(self, query: dict[str, Any], page: int) -> SandboxPage[Sandbox]:
        answer = self._fetch(query, page)
        return SandboxPage(
            sandboxes=[Sandbox(self._client, state_from_status(status)) for status in answer.sandboxes],
            page=answer.pagination.current_page,
            total_pages=answer.pagination.total_pages,
            has_next_page=answer.pagination.has_next_page,
        )

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
        image: str,
        name: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        volume_mounts: Mapping[str, str | _HasId] | None = None,
        resources: Mapping[str, str | int | float] | None = None,
        ttl_seconds: int | None = None,
    ) -> AsyncSandbox:
        """Create a sandbox from ``image`` and queue it to start; answer its handle (phase ``queued``).

        The arguments are those of :meth:`Sandboxes.create`.
        """
        from porter_sandbox_api.api.sandboxes import create_sandbox
        from porter_sandbox_api.models import CreateResponse

        spec = build_spec(
            image=image,
            name=name,
            command=command,
            args=args,
            env=env,
            tags=tags,
            volume_mounts=volume_mounts,
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
        return AsyncSandbox(self._client, state_after_create(created.id, created.name, spec))

    async def get(self, name_or_id: str) -> AsyncSandbox:
        """The sandbox with this name (or, failing that, this id), freshly fetched; :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.sandboxes import get_sandbox
        from porter_sandbox_api.models import StatusResponse

        reference = check_reference(name_or_id, "sandbox")
        sandbox_id = await async_resolve_id(self._client, "sandbox", reference)
        try:
            answer = await async_call(get_sandbox.asyncio_detailed, sandbox_id, client=self._client)
            status = expect(answer, StatusResponse)
        except NotFoundError as exc:
            raise not_found("sandbox", reference, exc) from None
        return AsyncSandbox(self._client, state_from_status(status))

    async def list(
        self,
        tags: Mapping[str, str] | None = None,
        phase: SandboxPhase | Sequence[SandboxPhase] | None = None,
        search: str | None = None,
        image: str | None = None,
        page: int = 1,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> SandboxPage[AsyncSandbox]:
        """One page of sandboxes, newest first, matching every filter given (see :meth:`Sandboxes.list`)."""
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return await self._page(query, check_page(page))

    def iter(
        self,
        tags: Mapping[str, str] | None = None,
        phase: SandboxPhase | Sequence[SandboxPhase] | None = None,
        search: str | None = None,
        image: str | None = None,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> AsyncIterator[AsyncSandbox]:
        """Every sandbox matching the filters, newest first, fetching pages as you go: ``async for s in ...iter()``."""
        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        return self._walk(query)

    async def counts(
        self,
        tags: Mapping[str, str] | None = None,
        phase: SandboxPhase | Sequence[SandboxPhase] | None = None,
        search: str | None = None,
        image: str | None = None,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> SandboxCounts:
        """How many sandboxes matching the filters of :meth:`list` were created per time bucket, with no gaps."""
        from porter_sandbox_api.api.sandboxes import sandbox_counts
        from porter_sandbox_api.models import CountsResponse

        query = filter_query(
            tags=tags, phase=phase, search=search, image=image, start_time=start_time, end_time=end_time
        )
        answer = await async_call(sandbox_counts.asyncio_detailed, client=self._client, **query)
        return counts_from(expect(answer, CountsResponse))

    async def _fetch(self, query: dict[str, Any], page: int) -> ListSandboxesResponse:
        from porter_sandbox_api.api.sandboxes import list_sandboxes
        from porter_sandbox_api.models import ListSandboxesResponse

        answer = await async_call(list_sandboxes.asyncio_detailed, client=self._client, page=page, **query)
        return expect(answer, ListSandboxesResponse)

    async def _page(self, query: dict[str, Any], page: int) -> SandboxPage[AsyncSandbox]:
        answer = await self._fetch(query, page)
        return SandboxPage(
            sandboxes=[AsyncSandbox(self._client, state_from_status(status)) for status in answer.sandboxes],
            page=answer.pagination.current_page,
            total_pages=answer.pagination.total_pages,
            has_next_page=answer.pagination.has_next_page,
        )

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

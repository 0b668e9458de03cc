"""Background processes: ``sandbox.spawn()`` answers a :class:`Process` (or an :class:`AsyncProcess`).

A background process runs on after the call that started it, until it
exits, is killed, or its sandbox ends. The server keeps the newest output of
each stream (``output()`` reads it from an offset, and says what was
dropped), takes writes to its stdin when it was started with
``stdin_open=True``, and signals its whole process group (``kill()``).

Every decision (arguments, the state a status answer gives, signal names,
how long each wait asks the server for) is a function here; the two classes
only do the I/O, through the generated operations of the ``extensions`` tag.
"""

from __future__ import annotations

import base64
import io
import signal as signals
import time
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from ._base_client import async_call, expect, expect_no_content, sync_call
from ._exceptions import SandboxError, SandboxTimeoutError
from ._extensions import extension_error
from ._models import ProcessOutput
from ._retry import CallOptions

if TYPE_CHECKING:
    import httpx
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.models import ProcessInfo
    from porter_sandbox_api.models import ProcessOutput as ProcessOutputAnswer

    RawClient = AuthenticatedClient | Client

__all__ = ["AsyncProcess", "Process"]

WHAT: Final = "background processes"
#: The most one wait asks the server to wait (it takes up to 300 s): long waits are several.
_WAIT_STEP: Final = 60.0
#: The most the server answers of each stream in one read of output.
_OUTPUT_STEP: Final = 1024 * 1024
SIGNALS: Final = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGCONT", "SIGSTOP")


@dataclass(frozen=True)
class ProcessState:
    """What the client last heard about a process."""

    id: str
    command: tuple[str, ...]
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    timed_out: bool = False
    signal: str | None = None
    sandbox_ended: bool = False
    stdin_open: bool = False
    cwd: str | None = field(default=None, compare=False)


def state_of(info: ProcessInfo) -> ProcessState:
    """The handle's state from a ``ProcessInfo``."""
    from porter_sandbox_api.types import Unset

    return ProcessState(
        id=info.id,
        command=tuple(info.command),
        status=str(info.status),
        started_at=info.started_at,
        finished_at=None if isinstance(info.finished_at, Unset) else info.finished_at,
        exit_code=None if isinstance(info.exit_code, Unset) else info.exit_code,
        timed_out=info.timed_out,
        signal=None if isinstance(info.signal, Unset) else info.signal,
        sandbox_ended=info.sandbox_ended,
        stdin_open=info.stdin_open,
        cwd=None if isinstance(info.cwd, Unset) else info.cwd,
    )


def signal_name(signal: str | int) -> str:
    """A signal as the server names it (``SIGTERM``), from ``"SIGTERM"``, ``"TERM"``, ``15`` or ``signal.SIGTERM``."""
    if isinstance(signal, bool):
        raise TypeError(f"signal must be a name such as 'SIGTERM' or a number, not {signal!r}")
    if isinstance(signal, int):
        try:
            name = signals.Signals(signal).name
        except ValueError:
            raise ValueError(f"no signal has the number {signal}") from None
    elif isinstance(signal, str):
        name = signal.strip().upper()
        name = name if name.startswith("SIG") else "SIG" + name
    else:
        raise TypeError(f"signal must be a name such as 'SIGTERM' or a number, not {signal!r}")
    if name not in SIGNALS:
        raise ValueError(f"the server sends only {', '.join(SIGNALS)}, not {signal!r}")
    return name


def wait_step(deadline: float | None) -> float:
    """How long the next wait asks the server for: what is left, at most ``_WAIT_STEP``."""
    if deadline is None:
        return _WAIT_STEP
    return max(min(deadline - time.monotonic(), _WAIT_STEP), 0.0)


def wait_options(step: float, timeout: httpx.Timeout) -> CallOptions:
    """The call options of one wait: a read timeout longer than the wait it asks for."""
    import httpx

    read = None if timeout.read is None else timeout.read + step
    return CallOptions(
        timeout=httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)
    )


def exit_code_of(state: ProcessState) -> int:
    """The exit code of a process that ended; an error when its sandbox ended first (it has none)."""
    if state.exit_code is None:
        raise SandboxError(f"process {state.id} has no exit code: its sandbox ended while it ran")
    return state.exit_code


def waited_too_long(state: ProcessState, timeout: float) -> SandboxTimeoutError:
    """The error when ``wait(timeout)`` ran out; the process runs on."""
    return SandboxTimeoutError(f"process {state.id} was still running after {timeout:g}s (it runs on; kill() ends it)")


def stdin_bytes(data: bytes | bytearray | str) -> bytes:
    """What ``write_stdin`` sends."""
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise TypeError(f"write_stdin takes bytes or text, not {type(data).__name__}")


def check_offset(value: int, what: str) -> int:
    """``value`` when it is an offset in a stream."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number 0 or more, not {value!r}")
    return value


class OutputGathering:
    """Gathers ``output()`` over as many reads as the server takes to answer all it kept."""

    def __init__(self, stdout_offset: int, stderr_offset: int) -> None:
        self.offsets = [check_offset(stdout_offset, "stdout_offset"), check_offset(stderr_offset, "stderr_offset")]
        self._first: list[tuple[int, int]] | None = None
        self._data = [bytearray(), bytearray()]

    def take(self, answer: ProcessOutputAnswer) -> bool:
        """Take one read's answer; whether another read is needed (either stream answered a full read)."""
        more = False
        parts = []
        for index, part in enumerate((answer.stdout, answer.stderr)):
            data = base64.b64decode(part.data)
            parts.append((part.offset, part.dropped))
            self._data[index] += data
            self.offsets[index] = part.next_offset
            more = more or len(data) >= _OUTPUT_STEP
        if self._first is None:
            self._first = parts
        return more

    def output(self) -> ProcessOutput:
        """Everything gathered."""
        first = self._first or [(self.offsets[0], 0), (self.offsets[1], 0)]
        return ProcessOutput(
            stdout_bytes=bytes(self._data[0]),
            stderr_bytes=bytes(self._data[1]),
            stdout_offset=first[0][0],
            stderr_offset=first[1][0],
            stdout_dropped=first[0][1],
            stderr_dropped=first[1][1],
        )


class _ProcessFields:
    """What :class:`Process` and :class:`AsyncProcess` know about their process, as last heard."""

    def __init__(self, client: RawClient, sandbox_id: str, state: ProcessState) -> None:
        self._client = client
        self._sandbox_id = sandbox_id
        self._state = state

    @property
    def id(self) -> str:
        """Its id (also its exec id, which its log lines carry)."""
        return self._state.id

    @property
    def sandbox_id(self) -> str:
        """The id of the sandbox it runs in."""
        return self._sandbox_id

    @property
    def command(self) -> tuple[str, ...]:
        """The program and its arguments."""
        return self._state.command

    @property
    def running(self) -> bool:
        """Whether it was running when last heard of (``refresh()`` asks again)."""
        return self._state.status == "running"

    @property
    def exit_code(self) -> int | None:
        """Its exit code once it ended (last known); ``None`` while it runs, or when its sandbox ended first."""
        return self._state.exit_code

    @property
    def timed_out(self) -> bool:
        """Whether its ``timeout=`` ran out and the server killed its whole process group (last known)."""
        return self._state.timed_out

    @property
    def started_at(self) -> datetime | None:
        """When it started."""
        return self._state.started_at

    @property
    def finished_at(self) -> datetime | None:
        """When it ended (last known)."""
        return self._state.finished_at

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id!r} command={list(self.command)!r} status={self._state.status!r}>"


class Process(_ProcessFields):
    """A command running in the background in a sandbox, from ``sandbox.spawn()``.

    ::

        with sandbox.spawn(["python", "-m", "http.server", "8000"]) as server:
            ...                      # it runs across calls
            print(server.output().stderr)
        # leaving the block kills it (its whole process group) if it still runs
    """

    def refresh(self) -> Process:
        """Ask the server how it is; answer this handle."""
        from porter_sandbox_api.api.extensions import get_process
        from porter_sandbox_api.models import ProcessInfo

        self._state = state_of(self._expect(get_process.sync_detailed, ProcessInfo))
        return self

    def wait(self, timeout: float | None = None) -> int:
        """Wait until it ends and answer its exit code; :class:`SandboxTimeoutError` after ``timeout`` seconds."""
        from porter_sandbox_api.api.extensions import wait_process
        from porter_sandbox_api.models import ProcessInfo

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = wait_step(deadline)
            options = wait_options(step, self._client.get_httpx_client().timeout)
            self._state = state_of(
                self._expect(wait_process.sync_detailed, ProcessInfo, timeout_seconds=step, options=options)
            )
            if self._state.status != "running":
                return exit_code_of(self._state)
            if deadline is not None and time.monotonic() >= deadline:
                raise waited_too_long(self._state, timeout or 0.0)

    def kill(self, signal: str | int = "SIGKILL") -> None:
        """Send ``signal`` (``SIGKILL`` by default) to its whole process group; nothing once it ended."""
        from porter_sandbox_api.api.extensions import kill_process
        from porter_sandbox_api.models import KillRequest, KillRequestSignal, ProcessInfo

        body = KillRequest(signal=KillRequestSignal(signal_name(signal)))
        self._state = state_of(self._expect(kill_process.sync_detailed, ProcessInfo, body=body))

    def write_stdin(self, data: bytes | str) -> None:
        """Write to its stdin (started with ``stdin_open=True``); returns once its pipe took the bytes."""
        from porter_sandbox_api.api.extensions import write_process_stdin
        from porter_sandbox_api.types import File

        payload = stdin_bytes(data)
        for start in range(0, max(len(payload), 1), _OUTPUT_STEP):
            body = File(payload=io.BytesIO(payload[start : start + _OUTPUT_STEP]))
            self._expect_done(write_process_stdin.sync_detailed, body=body)

    def close_stdin(self) -> None:
        """Close its stdin: it reads end of file."""
        from porter_sandbox_api.api.extensions import write_process_stdin
        from porter_sandbox_api.types import File

        self._expect_done(write_process_stdin.sync_detailed, body=File(payload=io.BytesIO(b"")), close=True)

    def output(self, stdout_offset: int = 0, stderr_offset: int = 0) -> ProcessOutput:
        """What it wrote to each stream from the offsets, as far as the server kept it (its newest output)."""
        from porter_sandbox_api.api.extensions import read_process_output
        from porter_sandbox_api.models import ProcessOutput as Answer

        gathering = OutputGathering(stdout_offset, stderr_offset)
        more = True
        while more:
            stdout, stderr = gathering.offsets
            answer = self._expect(read_process_output.sync_detailed, Answer, stdout_offset=stdout, stderr_offset=stderr)
            more = gathering.take(answer)
        return gathering.output()

    def _expect(self, operation: Any, kind: type[Any], **kwargs: Any) -> Any:
        options = kwargs.pop("options", None)
        try:
            answer = sync_call(operation, self._sandbox_id, self.id, client=self._client, options=options, **kwargs)
            return expect(answer, kind)
        except SandboxError as error:
            raise extension_error(WHAT, error) from None

    def _expect_done(self, operation: Any, **kwargs: Any) -> None:
        options = kwargs.pop("options", None)
        try:
            answer = sync_call(operation, self._sandbox_id, self.id, client=self._client, options=options, **kwargs)
            expect_no_content(answer)
        except SandboxError as error:
            raise extension_error(WHAT, error) from None

    def __enter__(self) -> Process:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.kill()
        except SandboxError:
            if exc is None:
                raise


class AsyncProcess(_ProcessFields):
    """The async twin of :class:`Process`, from ``await sandbox.spawn()``."""

    async def refresh(self) -> AsyncProcess:
        """Ask the server how it is; answer this handle."""
        from porter_sandbox_api.api.extensions import get_process
        from porter_sandbox_api.models import ProcessInfo

        self._state = state_of(await self._expect(get_process.asyncio_detailed, ProcessInfo))
        return self

    async def wait(self, timeout: float | None = None) -> int:
        """Wait until it ends and answer its exit code; :class:`SandboxTimeoutError` after ``timeout`` seconds."""
        from porter_sandbox_api.api.extensions import wait_process
        from porter_sandbox_api.models import ProcessInfo

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = wait_step(deadline)
            options = wait_options(step, self._client.get_async_httpx_client().timeout)
            answer = await self._expect(
                wait_process.asyncio_detailed, ProcessInfo, timeout_seconds=step, options=options
            )
            self._state = state_of(answer)
            if self._state.status != "running":
                return exit_code_of(self._state)
            if deadline is not None and time.monotonic() >= deadline:
                raise waited_too_long(self._state, timeout or 0.0)

    async def kill(self, signal: str | int = "SIGKILL") -> None:
        """Send ``signal`` (``SIGKILL`` by default) to its whole process group; nothing once it ended."""
        from porter_sandbox_api.api.extensions import kill_process
        from porter_sandbox_api.models import KillRequest, KillRequestSignal, ProcessInfo

        body = KillRequest(signal=KillRequestSignal(signal_name(signal)))
        self._state = state_of(await self._expect(kill_process.asyncio_detailed, ProcessInfo, body=body))

    async def write_stdin(self, data: bytes | str) -> None:
        """Write to its stdin (started with ``stdin_open=True``); returns once its pipe took the bytes."""
        from porter_sandbox_api.api.extensions import write_process_stdin
        from porter_sandbox_api.types import File

        payload = stdin_bytes(data)
        for start in range(0, max(len(payload), 1), _OUTPUT_STEP):
            body = File(payload=io.BytesIO(payload[start : start + _OUTPUT_STEP]))
            await self._expect_done(write_process_stdin.asyncio_detailed, body=body)

    async def close_stdin(self) -> None:
        """Close its stdin: it reads end of file."""
        from porter_sandbox_api.api.extensions import write_process_stdin
        from porter_sandbox_api.types import File

        await self._expect_done(write_process_stdin.asyncio_detailed, body=File(payload=io.BytesIO(b"")), close=True)

    async def output(self, stdout_offset: int = 0, stderr_offset: int = 0) -> ProcessOutput:
        """What it wrote to each stream from the offsets, as far as the server kept it (its newest output)."""
        from porter_sandbox_api.api.extensions import read_process_output
        from porter_sandbox_api.models import ProcessOutput as Answer

        gathering = OutputGathering(stdout_offset, stderr_offset)
        more = True
        while more:
            stdout, stderr = gathering.offsets
            answer = await self._expect(
                read_process_output.asyncio_detailed, Answer, stdout_offset=stdout, stderr_offset=stderr
            )
            more = gathering.take(answer)
        return gathering.output()

    async def _expect(self, operation: Any, kind: type[Any], **kwargs: Any) -> Any:
        options = kwargs.pop("options", None)
        try:
            answer = await async_call(
                operation, self._sandbox_id, self.id, client=self._client, options=options, **kwargs
            )
            return expect(answer, kind)
        except SandboxError as error:
            raise extension_error(WHAT, error) from None

    async def _expect_done(self, operation: Any, **kwargs: Any) -> None:
        options = kwargs.pop("options", None)
        try:
            answer = await async_call(
                operation, self._sandbox_id, self.id, client=self._client, options=options, **kwargs
            )
            expect_no_content(answer)
        except SandboxError as error:
            raise extension_error(WHAT, error) from None

    async def __aenter__(self) -> AsyncProcess:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.kill()
        except SandboxError:
            if exc is None:
                raise


def spawn_body(body: dict[str, Any]) -> Any:
    """The generated ``CommandRequest`` of a spawn's body (built by ``_extensions.command_body``)."""
    from porter_sandbox_api.models import CommandRequest

    return CommandRequest.from_dict(body)

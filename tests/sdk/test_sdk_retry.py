"""The retry policy, through scripted faults a real server cannot be made to produce on demand.

What is retried, what is not, how many times and how long it waits; the same
for sync and async, and for ``.raw`` calls.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from sdk_mock import BASE_URL, STATUS, Script, answer, async_porter_with, porter_with

from porter_sandbox import (
    APIConnectionError,
    AsyncPorter,
    Porter,
    RateLimitError,
    SandboxTimeoutError,
    ServerError,
)
from porter_sandbox._retry import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    backoff_seconds,
    retry_after_seconds,
    retry_delay,
)
from porter_sandbox._sandboxes import Sandbox, SandboxState

UNAVAILABLE = answer(503, {"error": "the runtime is unavailable; retry later"})
EXEC_OK = answer(200, {"stdout": "hi\n", "stderr": "", "exit_code": 0, "exec_id": "ex-1"})
CREATED = answer(201, {"id": "sb-1", "name": "one"})


def handle(porter: Porter) -> Sandbox:
    """A handle on sandbox ``sb-1`` without asking the server."""
    state = SandboxState(id="sb-1", name="one", image="python:3.12-slim", phase="running", created_at=None)
    return Sandbox(porter.raw, state)


# --- the decision, on its own --------------------------------------------------------------------


def test_backoff_doubles_from_half_a_second_with_jitter_and_is_capped() -> None:
    for attempt in range(8):
        base = min(0.5 * 2**attempt, MAX_BACKOFF)
        for _ in range(20):
            assert 0.75 * base <= backoff_seconds(attempt) <= base
    assert MAX_BACKOFF == 8.0


def test_retry_after_in_seconds_milliseconds_or_a_date_is_honoured_and_capped() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after-ms": "100", "retry-after": "9"}) == 0.1
    assert retry_after_seconds({"retry-after": format_datetime(now + timedelta(seconds=7), usegmt=True)}, now=now) == 7
    assert retry_after_seconds({"retry-after": format_datetime(now - timedelta(seconds=7), usegmt=True)}, now=now) == 0
    assert retry_after_seconds({"retry-after": "86400"}) == MAX_RETRY_AFTER
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("GET", 429, True),
        ("GET", 502, True),
        ("GET", 503, True),
        ("GET", 504, True),
        ("DELETE", 503, True),
        ("PUT", 503, True),
        ("GET", 500, False),
        ("GET", 520, False),
        ("GET", 404, False),
        ("POST", 429, False),
        ("POST", 503, False),
    ],
)
def test_which_answers_are_retried(method: str, status: int, retried: bool) -> None:
    delay = retry_delay(method=method, attempt=0, max_retries=2, status_code=status, headers={})
    assert (delay is not None) is retried


@pytest.mark.parametrize(
    ("method", "error", "retried"),
    [
        ("POST", httpx.ConnectError("refused"), True),
        ("GET", httpx.ConnectError("refused"), True),
        ("GET", httpx.RemoteProtocolError("server disconnected"), True),
        ("DELETE", httpx.ReadError("reset"), True),
        ("POST", httpx.RemoteProtocolError("server disconnected"), False),
        ("POST", httpx.ReadError("reset"), False),
        ("GET", httpx.ReadTimeout("slow"), False),
        ("GET", httpx.ConnectTimeout("slow"), False),
        ("POST", httpx.ReadTimeout("slow"), False),
    ],
)
def test_which_connection_failures_are_retried(method: str, error: Exception, retried: bool) -> None:
    assert (retry_delay(method=method, attempt=0, max_retries=2, error=error) is not None) is retried


def test_nothing_is_retried_once_the_budget_is_spent_or_the_body_cannot_be_replayed() -> None:
    assert retry_delay(method="GET", attempt=2, max_retries=2, status_code=503) is None
    assert retry_delay(method="PUT", attempt=0, max_retries=2, status_code=503, replayable_body=False) is None


# --- through the client --------------------------------------------------------------------------


def test_a_503_then_200_get_is_retried_once_after_a_backoff(sleeps: list[float]) -> None:
    script = Script(UNAVAILABLE, answer(200, {"id": "sb-1"}), answer(200, STATUS))
    with porter_with(script) as porter:
        sandbox = porter.sandboxes.get("one")
    assert sandbox.phase == "running"
    assert [r.url.path for r in script.requests] == ["/v1/sandbox/lookup", "/v1/sandbox/lookup", "/v1/sandbox/sb-1"]
    assert len(sleeps) == 1 and 0.375 <= sleeps[0] <= 0.5


def test_a_503_storm_is_retried_max_retries_times_then_raised(sleeps: list[float]) -> None:
    script = Script(UNAVAILABLE)
    with porter_with(script) as porter, pytest.raises(ServerError) as caught:
        handle(porter).refresh()
    assert script.calls == 3
    assert caught.value.status_code == 503
    assert caught.value.message == "the runtime is unavailable; retry later"
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0]


@pytest.mark.parametrize("max_retries", [0, 1, 5])
def test_max_retries_on_the_constructor_bounds_the_attempts(sleeps: list[float], max_retries: int) -> None:
    script = Script(UNAVAILABLE)
    with porter_with(script, max_retries=max_retries) as porter, pytest.raises(ServerError):
        handle(porter).refresh()
    assert script.calls == max_retries + 1
    assert len(sleeps) == max_retries


def test_a_429_waits_as_long_as_retry_after_says(sleeps: list[float]) -> None:
    script = Script(answer(429, {"error": "slow down"}, {"Retry-After": "2"}), answer(200, STATUS))
    with porter_with(script) as porter:
        handle(porter).refresh()
    assert script.calls == 2
    assert sleeps == [2.0]


def test_a_429_storm_raises_rate_limit_error(sleeps: list[float]) -> None:
    script = Script(answer(429, {"error": "slow down"}, {"Retry-After": "1"}))
    with porter_with(script) as porter, pytest.raises(RateLimitError) as caught:
        handle(porter).logs()
    assert script.calls == 3 and sleeps == [1.0, 1.0]
    assert caught.value.status_code == 429


@pytest.mark.parametrize("fault", [UNAVAILABLE, answer(429, {"error": "slow down"}, {"Retry-After": "1"})])
def test_an_exec_is_never_replayed_after_an_answer(sleeps: list[float], fault: httpx.Response) -> None:
    script = Script(fault, EXEC_OK)
    with porter_with(script) as porter, pytest.raises((ServerError, RateLimitError)):
        handle(porter).exec(["echo", "hi"])
    assert script.calls == 1 and sleeps == []


def test_an_exec_is_never_replayed_after_a_dropped_connection(sleeps: list[float]) -> None:
    script = Script(httpx.RemoteProtocolError("Server disconnected without sending a response."), EXEC_OK)
    with porter_with(script) as porter, pytest.raises(APIConnectionError):
        handle(porter).exec(["echo", "hi"])
    assert script.calls == 1 and sleeps == []


def test_an_exec_whose_connection_never_opened_is_sent_again(sleeps: list[float]) -> None:
    script = Script(httpx.ConnectError("Connection refused"), EXEC_OK)
    with porter_with(script) as porter:
        assert handle(porter).exec(["echo", "hi"]).stdout == "hi\n"
    assert script.calls == 2 and len(sleeps) == 1


def test_a_timeout_during_exec_raises_sandbox_timeout_error_and_is_not_retried(sleeps: list[float]) -> None:
    script = Script(httpx.ReadTimeout("timed out"), EXEC_OK)
    with porter_with(script) as porter, pytest.raises(SandboxTimeoutError) as caught:
        handle(porter).exec(["sleep", "100"], timeout=5)
    assert script.calls == 1 and sleeps == []
    assert isinstance(caught.value, TimeoutError)
    assert "/v1/sandbox/sb-1/exec" in str(caught.value)


def test_a_timeout_on_a_get_is_not_retried_either(sleeps: list[float]) -> None:
    script = Script(httpx.ReadTimeout("timed out"), answer(200, STATUS))
    with porter_with(script) as porter, pytest.raises(SandboxTimeoutError):
        handle(porter).refresh()
    assert script.calls == 1 and sleeps == []


def test_exec_timeout_applies_to_that_call_only() -> None:
    seen: list[tuple[str, dict[str, float | None]]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.extensions["timeout"]))
        if request.url.path.startswith("/x/"):
            return httpx.Response(404, text="404 page not found")  # a server without the extensions, as Porter's
        return EXEC_OK if request.url.path.endswith("/exec") else answer(200, STATUS)

    with porter_with(record, timeout=30) as porter:
        sandbox = handle(porter)
        # Where the server cannot kill it, the timeout bounds the wait for the plain exec's answer, as before.
        sandbox.exec(["sleep", "60"], timeout=90)
        sandbox.refresh()
        sandbox.exec(["sleep", "60"], timeout=httpx.Timeout(45))  # an httpx.Timeout only ever bounds the wait
    paths = [path for path, _ in seen]
    assert paths == [
        "/x/v1/sandbox/sb-1/exec/stream",
        "/v1/sandbox/sb-1/exec",
        "/v1/sandbox/sb-1",
        "/v1/sandbox/sb-1/exec",
    ]
    assert [timeout["read"] for _, timeout in seen[1:]] == [90, 30, 45]


def test_a_create_whose_connection_never_opened_is_sent_again(sleeps: list[float]) -> None:
    script = Script(httpx.ConnectError("Connection refused"), CREATED)
    with porter_with(script) as porter:
        sandbox = porter.sandboxes.create(image="python:3.12-slim", name="one")
    assert sandbox.id == "sb-1" and script.calls == 2


@pytest.mark.parametrize(
    "fault", [UNAVAILABLE, httpx.RemoteProtocolError("Server disconnected without sending a response.")]
)
def test_a_create_the_server_may_have_acted_on_is_not_sent_again(
    sleeps: list[float], fault: httpx.Response | Exception
) -> None:
    script = Script(fault, CREATED)
    with porter_with(script) as porter, pytest.raises((ServerError, APIConnectionError)):
        porter.sandboxes.create(image="python:3.12-slim", name="one")
    assert script.calls == 1 and sleeps == []


def test_a_dropped_connection_on_a_get_is_retried(sleeps: list[float]) -> None:
    script = Script(httpx.ReadError("Connection reset by peer"), answer(200, STATUS))
    with porter_with(script) as porter:
        assert handle(porter).refresh().phase == "running"
    assert script.calls == 2


def test_a_terminate_is_retried_because_deleting_twice_is_safe(sleeps: list[float]) -> None:
    script = Script(UNAVAILABLE, answer(204), answer(200, {**STATUS, "phase": "terminated"}))
    with porter_with(script) as porter:
        sandbox = handle(porter)
        sandbox.terminate()
    assert [r.method for r in script.requests] == ["DELETE", "DELETE", "GET"]
    assert sandbox.phase == "terminated"


def test_connection_refused_for_good_raises_api_connection_error(sleeps: list[float]) -> None:
    script = Script(httpx.ConnectError("Connection refused"))
    with porter_with(script) as porter, pytest.raises(APIConnectionError, match="Connection refused"):
        porter.health()
    assert script.calls == 3


def test_raw_calls_share_the_retry_policy(sleeps: list[float]) -> None:
    script = Script(UNAVAILABLE, answer(200, STATUS))
    with porter_with(script) as porter:
        response = porter.sandboxes.raw.get_sandbox("sb-1")
    assert response.status_code == 200 and response.parsed.phase == "running"
    assert script.calls == 2 and len(sleeps) == 1


def test_a_503_from_readyz_is_an_answer_not_a_fault_to_retry(sleeps: list[float]) -> None:
    script = Script(answer(503, {"status": "runtime unavailable", "active_sandboxes": 0}))
    with porter_with(script) as porter:
        readiness = porter.readiness()
    assert not readiness.ready and readiness.status == "runtime unavailable"
    assert script.calls == 1


# --- async: the same decisions -------------------------------------------------------------------


async def test_async_a_503_then_200_is_retried_and_an_exec_is_not(sleeps: list[float]) -> None:
    script = Script(UNAVAILABLE, answer(200, STATUS))
    async with async_porter_with(script) as porter:
        await porter.sandboxes.raw.get_sandbox("sb-1")
    assert script.calls == 2 and len(sleeps) == 1

    script = Script(UNAVAILABLE, EXEC_OK)
    async with async_porter_with(script) as porter:
        sandbox = await _async_handle(porter)
        with pytest.raises(ServerError):
            await sandbox.exec(["echo", "hi"])
    assert script.calls == 1


async def test_async_429_honours_retry_after_and_a_timeout_is_not_retried(sleeps: list[float]) -> None:
    script = Script(answer(429, {"error": "slow down"}, {"Retry-After-Ms": "250"}), answer(200, STATUS))
    async with async_porter_with(script) as porter:
        assert (await porter.sandboxes.get("sb-1")).id == "sb-1"
    assert sleeps == [0.25]

    script = Script(httpx.ReadTimeout("timed out"), EXEC_OK)
    async with async_porter_with(script) as porter:
        sandbox = await _async_handle(porter)
        with pytest.raises(SandboxTimeoutError):
            await sandbox.exec(["sleep", "100"], timeout=1)
    assert script.calls == 1


async def test_async_dropped_connections_follow_the_method(sleeps: list[float]) -> None:
    dropped = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    script = Script(dropped, answer(200, STATUS))
    async with async_porter_with(script) as porter:
        sandbox = await _async_handle(porter)
        await sandbox.refresh()
    assert script.calls == 2

    script = Script(dropped, CREATED)
    async with async_porter_with(script) as porter:
        with pytest.raises(APIConnectionError):
            await porter.sandboxes.create(image="python:3.12-slim")
    assert script.calls == 1


async def _async_handle(porter: AsyncPorter) -> object:
    from porter_sandbox._sandboxes import AsyncSandbox

    state = SandboxState(id="sb-1", name="one", image="python:3.12-slim", phase="running", created_at=None)
    return AsyncSandbox(porter.raw, state)


# --- uploads start over --------------------------------------------------------------------------


class DropFirstUpload(httpx.BaseTransport):
    """Reads the body as a real connection would (no caching); the first attempt drops after one chunk."""

    def __init__(self, status_after: int = 204) -> None:
        self.bodies: list[bytes] = []
        self.status_after = status_after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        if not self.bodies:
            chunks: Iterator[bytes] = iter(request.stream)
            self.bodies.append(next(chunks))
            raise httpx.WriteError("Connection reset by peer")
        self.bodies.append(b"".join(request.stream))
        return httpx.Response(self.status_after)


class AsyncDropFirstUpload(httpx.AsyncBaseTransport):
    """The async twin of :class:`DropFirstUpload`."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        if not self.bodies:
            chunks: AsyncIterator[bytes] = aiter(request.stream)
            self.bodies.append(await anext(chunks))
            raise httpx.WriteError("Connection reset by peer")
        self.bodies.append(b"".join([part async for part in request.stream]))
        return httpx.Response(204)


def _volume(porter: Porter | AsyncPorter) -> object:
    from porter_sandbox._volumes import AsyncVolume, Volume, VolumeState

    state = VolumeState(
        id="vol-1",
        name="data",
        type="disk",
        path="vol-1",
        phase="ready",
        attached_to=(),
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    return AsyncVolume(porter.raw, state) if isinstance(porter, AsyncPorter) else Volume(porter.raw, state)


def test_a_retried_upload_of_a_seekable_file_starts_over_from_where_it_began(sleeps: list[float]) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB: several chunks
    file = io.BytesIO(b"HEADER" + data)
    file.seek(6)  # the upload is what follows the current position
    transport = DropFirstUpload()
    with Porter(base_url=BASE_URL, transport=transport) as porter:
        _volume(porter).write_file("/big.bin", file)  # type: ignore[attr-defined]
    assert len(transport.bodies) == 2
    assert transport.bodies[1] == data
    assert len(transport.bodies[0]) < len(data)


def test_an_upload_from_a_pipe_is_sent_once_and_never_replayed(sleeps: list[float]) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    transport = DropFirstUpload()
    with Porter(base_url=BASE_URL, transport=transport) as porter, pytest.raises(APIConnectionError):
        _volume(porter).write_file("/big.bin", Pipe(b"x" * 1_000_000))  # type: ignore[attr-defined]
    assert len(transport.bodies) == 1 and sleeps == []


async def test_async_a_retried_upload_starts_over(sleeps: list[float]) -> None:
    data = b"0123456789" * 100_000
    transport = AsyncDropFirstUpload()
    async with AsyncPorter(base_url=BASE_URL, transport=transport) as porter:
        await _volume(porter).write_file("/big.bin", io.BytesIO(data))  # type: ignore[attr-defined]
    assert transport.bodies[1] == data

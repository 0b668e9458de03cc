"""The extensions against servers without them: one clear error each, plain exec untouched.

A Porter cluster cannot be run here, so it is scripted: it answers 404 with
Go's plain-text body for every path it does not have (as Porter's router
does), and our own server's runtimes that cannot answer 501. Each extension
call then raises :class:`UnsupportedByServerError` before anything runs,
sync and async alike, while a plain exec keeps working.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sdk_mock import STATUS, answer, async_porter_with, porter_with

from porter_sandbox import (
    APIStatusError,
    AsyncSandbox,
    NotFoundError,
    Sandbox,
    SandboxError,
    UnsupportedByServerError,
)

EXEC_OK = {"stdout": "plain\n", "stderr": "", "exit_code": 0, "exec_id": "ex-1"}


def porter_cluster(request: httpx.Request) -> httpx.Response:
    """A server with Porter's API only."""
    if request.url.path.startswith("/x/"):
        return httpx.Response(404, text="404 page not found\n")
    if request.url.path.endswith("/exec"):
        return answer(200, EXEC_OK)
    return answer(200, STATUS)


def runtime_without(request: httpx.Request) -> httpx.Response:
    """Our server on a runtime that cannot stream (a 501 for the extensions)."""
    if request.url.path.startswith("/x/"):
        return answer(501, {"error": "streamed execs ... are not supported by the kubernetes runtime of this server"})
    if request.url.path.endswith("/exec"):
        return answer(200, EXEC_OK)
    return answer(200, STATUS)


CALLS: dict[str, Callable[[Sandbox], Any]] = {
    "exec stdin": lambda sandbox: sandbox.exec(["cat"], stdin=b"x"),
    "exec cwd": lambda sandbox: sandbox.exec(["pwd"], cwd="/tmp"),
    "exec env": lambda sandbox: sandbox.exec(["env"], env={"A": "1"}),
    "exec callback": lambda sandbox: sandbox.exec(["true"], on_stdout=print),
    "exec_stream": lambda sandbox: sandbox.exec_stream(["true"]),
    "spawn": lambda sandbox: sandbox.spawn(["sleep", "1"]),
    "logs follow": lambda sandbox: sandbox.logs(follow=True),
}


@pytest.mark.parametrize("server", [porter_cluster, runtime_without], ids=["porter", "runtime-501"])
@pytest.mark.parametrize("call", list(CALLS), ids=list(CALLS))
def test_each_extension_raises_one_clear_error(server: Callable[[httpx.Request], httpx.Response], call: str) -> None:
    with porter_with(server) as porter:
        sandbox = porter.sandboxes.get("sb-1")
        with pytest.raises(UnsupportedByServerError) as caught:
            CALLS[call](sandbox)
    error = caught.value
    assert isinstance(error, APIStatusError) and isinstance(error, SandboxError)
    assert "does not support" in error.message and "Plain exec works everywhere" in error.message
    assert error.status_code in (404, 501)


@pytest.mark.parametrize("server", [porter_cluster, runtime_without], ids=["porter", "runtime-501"])
def test_plain_exec_works_and_a_timeout_falls_back_to_bounding_the_wait(
    server: Callable[[httpx.Request], httpx.Response],
) -> None:
    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return server(request)

    with porter_with(recording) as porter:
        sandbox = porter.sandboxes.get("sb-1")
        assert sandbox.exec(["echo", "plain"]).stdout == "plain\n"
        result = sandbox.exec(["sleep", "1"], timeout=5)
    assert result.stdout == "plain\n" and result.stdout_bytes is None and not result.timed_out
    # The extension was asked once, then the plain exec answered; nothing ran twice.
    assert seen.count("/v1/sandbox/sb-1/exec") == 2 and seen.count("/x/v1/sandbox/sb-1/exec/stream") == 1


async def test_the_async_extensions_raise_the_same_error() -> None:
    async with async_porter_with(porter_cluster) as porter:
        sandbox = await porter.sandboxes.get("sb-1")
        assert isinstance(sandbox, AsyncSandbox)
        for attempt in (
            lambda: sandbox.exec(["cat"], stdin=b"x"),
            lambda: sandbox.exec_stream(["true"]),
            lambda: sandbox.spawn(["true"]),
            lambda: sandbox.logs(follow=True),
        ):
            with pytest.raises(UnsupportedByServerError):
                await attempt()
        assert (await sandbox.exec(["echo"], timeout=3)).stdout == "plain\n"


def test_a_missing_sandbox_is_still_not_found() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/x/"):
            return answer(404, {"error": "no sandbox has the id 'sb-1'"})
        return answer(200, STATUS)

    with porter_with(server) as porter:
        sandbox = porter.sandboxes.get("sb-1")
        with pytest.raises(NotFoundError) as caught:
            sandbox.exec_stream(["true"])
    assert not isinstance(caught.value, UnsupportedByServerError)


def test_stdin_larger_than_a_request_is_written_after_the_start_in_order() -> None:
    written: list[bytes] = []
    closed: list[bool] = []
    started = [json.dumps({"type": "start", "exec_id": "ex-9"}), json.dumps({"type": "exit", "exit_code": 0})]

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/exec/stream"):
            body = json.loads(request.content)
            assert body["stdin_open"] is True and "stdin_base64" not in body
            return httpx.Response(200, content="\n".join(started).encode() + b"\n")
        if request.url.path.endswith("/stdin"):
            written.append(request.content)
            closed.append(request.url.params.get("close") == "true")
            return httpx.Response(204)
        return answer(200, STATUS)

    data = bytes(range(256)) * 10_000  # 2.5 MB: more than goes in one request
    with porter_with(server) as porter:
        stream = porter.sandboxes.get("sb-1").exec_stream(["cat"], stdin=data)
        assert [event.kind for event in stream] == ["exit"]
        stream._feeder.join(10)  # type: ignore[union-attr]
    assert b"".join(written) == data and closed[-1] and not any(closed[:-1])
    assert max(len(chunk) for chunk in written) <= 1024 * 1024


def test_stream_reads_outlast_the_servers_keepalives() -> None:
    seen: list[dict[str, float | None]] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, content=b'{"type":"start","exec_id":"ex-1"}\n\n{"type":"exit","exit_code":0}\n')

    with porter_with(server, timeout=5) as porter:
        sandbox = Sandbox(porter.raw, _state())
        assert [event.kind for event in sandbox.exec_stream(["true"])] == ["exit"]
    assert seen[-1]["read"] == 30.0 and seen[-1]["connect"] == 5.0


def _state() -> Any:
    from porter_sandbox._sandboxes import SandboxState

    return SandboxState(id="sb-1", name="one", image="x", phase="running", created_at=None)

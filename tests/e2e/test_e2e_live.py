"""Live commands through the SDK against a real server, on each runtime, sync and async: streamed output, stdin,
timeouts that kill, background processes, logs that follow, bytes kept exact."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from typing import Any

import httpx
import pytest

from porter_sandbox import (
    AsyncPorter,
    CommandTimeoutError,
    ExecEvent,
    Porter,
    SandboxTimeoutError,
    UnsupportedByServerError,
)

COUNTING = ["sh", "-c", "for i in 1 2 3; do echo line-$i; sleep 1; done"]


@pytest.fixture(autouse=True)
def _served(request: pytest.FixtureRequest, server: Any) -> None:
    """Each test here needs the extension it uses; a runtime without it is tested for its clear refusal instead."""
    wanted = "logs_follow" if "logs" in request.node.name else "exec_stream"
    extensions = httpx.get(f"{server.url}/x/v1/capabilities", timeout=30).json()["extensions"]
    refusal = request.node.name.startswith("test_a_runtime_without")
    if refusal and wanted in extensions:
        pytest.skip(f"the {server.runtime} runtime serves {wanted}")
    if not refusal and wanted not in extensions:
        pytest.skip(f"the {server.runtime} runtime does not serve {wanted} (it answers 501)")


def free_port() -> int:
    """A port nothing listens on now, on this host's loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_first_line_of_a_stream_arrives_before_the_command_ends(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    started = time.monotonic()
    arrivals: list[tuple[float, ExecEvent]] = []
    with sandbox.exec_stream(COUNTING) as stream:
        for event in stream:
            arrivals.append((time.monotonic() - started, event))
    ended_at = time.monotonic() - started
    assert [event.text for _, event in arrivals if event.kind == "stdout"] == ["line-1\n", "line-2\n", "line-3\n"]
    assert arrivals[0][0] < ended_at - 1.5, (arrivals[0][0], ended_at)
    assert arrivals[-1][1].kind == "exit" and stream.exit_code == 0 and stream.exec_id.startswith("ex-")


async def test_the_async_stream_arrives_as_written_too(async_porter: AsyncPorter, server: Any) -> None:
    sandbox = await async_porter.sandboxes.create(image=server.image)
    started = time.monotonic()
    firsts: list[float] = []
    async with await sandbox.exec_stream(COUNTING) as stream:
        async for event in stream:
            if event.kind == "stdout":
                firsts.append(time.monotonic() - started)
    assert len(firsts) == 3 and firsts[0] < time.monotonic() - started - 1.5
    assert stream.exit_code == 0


def test_exec_with_callbacks_hands_over_text_as_it_comes(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    sandbox.wait("running")  # the clock is the command's, not the launch's
    seen: list[tuple[str, float]] = []
    started = time.monotonic()
    result = sandbox.exec(
        ["sh", "-c", "echo out; sleep 1; echo err >&2; sleep 1"],
        on_stdout=lambda text: seen.append((text, time.monotonic() - started)),
        on_stderr=lambda text: seen.append(("!" + text, time.monotonic() - started)),
    )
    assert [text for text, _ in seen] == ["out\n", "!err\n"]
    assert seen[0][1] < 1.5
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 0)


def test_stdin_round_trips_ten_megabytes(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    data = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    result = sandbox.exec(["cat"], stdin=data, timeout=120)
    assert result.stdout_bytes == data and result.exit_code == 0
    # From a file, too, and through the stream.
    with sandbox.exec_stream(["wc", "-c"], stdin=io.BytesIO(data)) as stream:
        counted = b"".join(event.data for event in stream if event.kind == "stdout")
    assert counted.split() == [str(len(data)).encode()]


async def test_stdin_round_trips_ten_megabytes_async(async_porter: AsyncPorter, server: Any) -> None:
    sandbox = await async_porter.sandboxes.create(image=server.image)
    data = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    result = await sandbox.exec(["cat"], stdin=data, timeout=120)
    assert result.stdout_bytes == data


def test_binary_output_round_trips_byte_for_byte(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    result = sandbox.exec(["printf", r"\377\376\000abc"], env={"UNUSED": "1"})
    assert result.stdout_bytes == b"\xff\xfe\x00abc"
    assert result.stdout == "\ufffd\ufffd\x00abc"
    with sandbox.exec_stream(["printf", r"\377\376\000abc"]) as stream:
        assert b"".join(event.data for event in stream) == b"\xff\xfe\x00abc"


def test_cwd_and_env(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image, env={"BASE": "sandbox"})
    result = sandbox.exec(["sh", "-c", 'pwd; echo "$BASE $EXTRA"'], cwd="/tmp", env={"EXTRA": "exec"})
    assert result.stdout == "/tmp\nsandbox exec\n"


def test_a_timeout_kills_on_the_server(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    script = "echo started; (sleep 2; touch /tmp/after-the-deadline) & sleep 30"
    with pytest.raises(CommandTimeoutError) as caught:
        sandbox.exec(["sh", "-c", script], timeout=1)
    assert isinstance(caught.value, SandboxTimeoutError)
    assert caught.value.result.timed_out and caught.value.result.stdout == "started\n"
    time.sleep(2.5)
    assert sandbox.exec(["sh", "-c", "ls /tmp"]).stdout.split().count("after-the-deadline") == 0


async def test_a_timeout_kills_on_the_server_async(async_porter: AsyncPorter, server: Any) -> None:
    sandbox = await async_porter.sandboxes.create(image=server.image)
    with pytest.raises(CommandTimeoutError):
        await sandbox.exec(["sh", "-c", "sleep 2; touch /tmp/async-marker"], timeout=0.5)
    async with await sandbox.exec_stream(["sleep", "30"], timeout=0.5) as stream:
        events = [event async for event in stream]
    assert events[-1].timed_out and stream.timed_out
    await asyncio.sleep(2)
    assert "async-marker" not in (await sandbox.exec(["ls", "/tmp"])).stdout


def test_leaving_a_stream_early_kills_the_command(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    script = "echo started; sleep 2; touch /tmp/after-leaving; sleep 30"
    with sandbox.exec_stream(["sh", "-c", script]) as stream:
        for event in stream:
            if event.kind == "stdout":
                break
    time.sleep(3)
    assert "after-leaving" not in sandbox.exec(["ls", "/tmp"]).stdout


def test_a_background_http_server_runs_across_calls_and_is_killed(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    port = free_port()  # process sandboxes share this host's network
    fetch = ["python3", "-c", f"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}/').status)"]
    if server.runtime == "docker":  # busybox has no python: its httpd serves, and wget fetches
        command = ["sh", "-c", f"echo hi > /tmp/index.html; exec httpd -f -p {port} -h /tmp"]
        fetch = ["sh", "-c", f"wget -q -O /dev/null http://127.0.0.1:{port}/ && echo 200"]
    else:
        command = ["python3", "-m", "http.server", str(port), "--directory", "/tmp"]
    with sandbox.spawn(command) as http_server:
        assert http_server.running
        answered = ""
        for _ in range(100):
            answered = sandbox.exec(fetch).stdout.strip()
            if answered == "200":
                break
            time.sleep(0.1)
        assert answered == "200"
        assert http_server.refresh().running, "it runs on between calls"
        http_server.kill()
        assert http_server.wait(timeout=10) == 137
    after = sandbox.exec(fetch)
    assert after.stdout.strip() != "200"


async def test_a_background_process_async(async_porter: AsyncPorter, server: Any) -> None:
    sandbox = await async_porter.sandboxes.create(image=server.image)
    async with await sandbox.spawn(["sh", "-c", "echo hello; sleep 30"]) as process:
        output = None
        for _ in range(100):
            output = await process.output()
            if output.stdout:
                break
            await asyncio.sleep(0.05)
        assert output is not None and output.stdout == "hello\n"
        await process.kill("SIGTERM")
        assert await process.wait(timeout=10) == 143
    with pytest.raises(SandboxTimeoutError):
        await (await sandbox.spawn(["sleep", "30"], timeout=20)).wait(timeout=0.2)


def test_a_background_process_takes_stdin_and_keeps_output(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    process = sandbox.spawn(["cat"], stdin_open=True)
    process.write_stdin("first\n")
    process.write_stdin(b"second\n")
    process.close_stdin()
    assert process.wait(timeout=10) == 0
    output = process.output()
    assert (output.stdout, output.stdout_dropped, output.next_stdout_offset) == ("first\nsecond\n", 0, 13)
    later = process.output(stdout_offset=6)
    assert (later.stdout, later.stdout_offset) == ("second\n", 6)
    fed = sandbox.spawn(["wc", "-c"], stdin=b"x" * 3_000_000)
    assert fed.wait(timeout=30) == 0 and fed.output().stdout.split() == ["3000000"]


def test_following_logs_sees_new_lines_and_ends_with_the_sandbox(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image, command=["sh", "-c", "echo early; sleep 5; echo late"])
    sandbox.wait("running")
    started = time.monotonic()
    seen: list[tuple[str, float]] = []
    with sandbox.logs(follow=True) as lines:
        for line in lines:
            seen.append((line.line, time.monotonic() - started))
    assert [text for text, _ in seen] == ["early", "late"]
    # (A cluster may report the pod running a few seconds after its command started: hence the sleep's length.)
    assert seen[1][1] > 1.0, "late was written after following started"
    assert (lines.phase, lines.exit_code) == ("succeeded", 0)


async def test_following_logs_async_ends_when_the_sandbox_is_terminated(async_porter: AsyncPorter, server: Any) -> None:
    sandbox = await async_porter.sandboxes.create(image=server.image)
    await sandbox.wait("running")
    stream = await sandbox.logs(follow=True)

    async def later() -> None:
        await asyncio.sleep(0.5)
        await sandbox.exec(["sh", "-c", "echo from-an-exec"])
        await asyncio.sleep(0.5)
        await sandbox.terminate()

    ending = asyncio.ensure_future(later())
    lines = [line async for line in stream]
    await ending
    assert [line.line for line in lines] == ["from-an-exec"] and lines[0].exec_id.startswith("ex-")
    assert stream.phase == "terminated"


def test_a_runtime_without_streams_refuses_them_and_plain_exec_works(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    with pytest.raises(UnsupportedByServerError) as caught:
        sandbox.exec_stream(["true"])
    assert caught.value.status_code == 501 and server.runtime in caught.value.message
    with pytest.raises(UnsupportedByServerError):
        sandbox.spawn(["true"])
    # A timeout alone falls back to bounding the wait; the plain exec runs.
    assert sandbox.exec(["echo", "plain"], timeout=60).stdout == "plain\n"

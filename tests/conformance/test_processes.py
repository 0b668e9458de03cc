"""What every runtime's ``start_process`` does: output as it is written, stdin, signals to the whole group,
terminals from the sandbox's own devpts, bytes kept exact, and a reader that does not read holds the process.

Run against each real runtime this machine has (see ``conftest.py``). Commands are
plain ``sh`` so they run in the process runtime's host system and in the busybox
test image alike.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from runtime_kit import Kit

from porter_sandbox_server.runtimes.base import (
    Process,
    ProcessSpec,
    SandboxGone,
    StdinClosed,
    TerminalSize,
    Unsupported,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _declared(request: pytest.FixtureRequest) -> None:
    """Each test here needs a runtime that declares processes (and terminals), except the one about those that do not."""
    if request.node.name.startswith("test_a_runtime_without_processes"):
        return
    kit: Kit = request.getfixturevalue("kit")
    if not kit.runtime.capabilities.streaming_exec:
        pytest.skip(f"the {kit.kind} runtime declares no streamed processes (the API answers 501 for them)")


async def read_all(process: Process) -> tuple[bytes, bytes]:
    """Everything it writes, per stream, until its output ends."""
    out, err = bytearray(), bytearray()
    while (chunk := await process.read()) is not None:
        (out if chunk[0] == "stdout" else err).extend(chunk[1])
    return bytes(out), bytes(err)


async def test_the_runtimes_declare_processes_and_terminals(kit: Kit) -> None:
    assert kit.runtime.capabilities.streaming_exec
    assert kit.runtime.capabilities.terminal


async def test_a_runtime_without_processes_says_so(kit: Kit) -> None:
    if kit.runtime.capabilities.streaming_exec:
        pytest.skip(f"the {kit.kind} runtime declares processes")
    sandbox_id = await kit.launch()
    with pytest.raises(Unsupported, match=kit.runtime.name):
        await kit.runtime.start_process(sandbox_id, ProcessSpec(["true"]), "ex-unsupported")


async def test_the_first_line_arrives_before_the_command_ends(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    started = time.monotonic()
    script = "for i in 1 2 3; do echo line-$i; sleep 1; done"
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", script]), "ex-stream")
    first = await asyncio.wait_for(process.read(), 10)
    first_at = time.monotonic() - started
    assert first == ("stdout", b"line-1\n")
    rest, _ = await read_all(process)
    ended_at = time.monotonic() - started
    assert rest == b"line-2\nline-3\n"
    assert await process.wait() == 0
    # The first line came as it was written: well before the command's two more seconds of sleep.
    assert first_at < ended_at - 1.5, (first_at, ended_at)


async def test_stdout_and_stderr_arrive_apart_and_bytes_stay_bytes(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    script = r"printf '\377\376\000abc'; printf 'to err\n' >&2"
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", script]), "ex-bytes")
    out, err = await read_all(process)
    assert (out, err) == (b"\xff\xfe\x00abc", b"to err\n")
    assert await process.wait() == 0


async def test_ten_megabytes_of_stdin_round_trip(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["cat"], stdin=True), "ex-stdin")
    data = bytes(range(256)) * (10 * 1024 * 1024 // 256)

    async def feed() -> None:
        # In pieces, as clients send it: the pipe takes them as the process reads.
        for start in range(0, len(data), 1024 * 1024):
            await process.write(data[start : start + 1024 * 1024])
        await process.close_stdin()

    feeding = asyncio.ensure_future(feed())
    out, err = await asyncio.wait_for(read_all(process), 120)
    await feeding
    assert len(out) == len(data) and out == data and err == b""
    assert await process.wait() == 0
    with pytest.raises(StdinClosed):
        await process.write(b"more")


async def test_without_stdin_a_process_reads_nothing_and_cannot_be_written(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["cat"]), "ex-no-stdin")
    assert await read_all(process) == (b"", b"")
    assert await process.wait() == 0
    with pytest.raises(StdinClosed):
        await process.write(b"x")


async def test_a_signal_reaches_the_whole_process_group(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    # A child that would write a marker after the kill, and a foreground sleep: both must die.
    script = "(sleep 2; touch /tmp/marker-after-kill) & sleep 60"
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", script]), "ex-group")
    await asyncio.sleep(0.5)
    await process.signal(signal.SIGKILL)
    await asyncio.wait_for(read_all(process), 20)
    assert await process.wait() == 137
    await asyncio.sleep(2.5)
    out, _, code = await kit.sh(sandbox_id, "test -e /tmp/marker-after-kill && echo there || echo absent")
    assert (out, code) == ("absent\n", 0)


async def test_a_signal_after_the_end_is_a_no_op(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", "exit 5"]), "ex-over")
    await read_all(process)
    assert await process.wait() == 5
    await process.signal(signal.SIGKILL)
    assert await process.wait() == 5


async def test_a_missing_program_or_working_directory_says_why_and_exits_127_or_126(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    missing = await kit.runtime.start_process(sandbox_id, ProcessSpec(["porter-no-such-program"]), "ex-missing")
    out, err = await read_all(missing)
    assert out == b"" and b"porter-no-such-program" in err
    assert await missing.wait() == 127
    nowhere = await kit.runtime.start_process(sandbox_id, ProcessSpec(["pwd"], cwd="/porter-no-such-dir"), "ex-cwd")
    out, err = await read_all(nowhere)
    assert out == b"" and b"porter-no-such-dir" in err
    assert await nowhere.wait() == 126


async def test_cwd_and_env_apply(kit: Kit) -> None:
    sandbox_id = await kit.launch(env={"FROM_SANDBOX": "s", "SHARED": "sandbox"})
    spec = ProcessSpec(
        ["sh", "-c", 'pwd; echo "$FROM_SANDBOX $SHARED $EXTRA"'],
        env={"FROM_SANDBOX": "s", "SHARED": "process", "EXTRA": "x"},
        cwd="/tmp",
    )
    process = await kit.runtime.start_process(sandbox_id, spec, "ex-env")
    assert await read_all(process) == (b"/tmp\ns process x\n", b"")


async def test_a_terminal_comes_from_the_sandboxs_devpts_and_resizes(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    spec = ProcessSpec(["sh"], terminal=TerminalSize(rows=30, cols=100))
    process = await kit.runtime.start_process(sandbox_id, spec, "ex-tty")
    await process.write(b"tty; stty size\n")
    seen = await _read_until(process, b"30 100")
    assert b"/dev/pts/" in seen
    await process.resize(TerminalSize(rows=40, cols=120))
    await process.write(b"stty size; exit 3\n")
    rest = await _read_until(process, b"40 120")
    tail, err = await asyncio.wait_for(read_all(process), 20)
    assert err == b"", "a terminal's output is all stdout"
    assert await process.wait() == 3
    # The terminal echoes what was typed, with its own line endings.
    assert b"\r\n" in seen + rest + tail
    # It is a terminal inside the sandbox: the sandbox itself lists it.
    check = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", "ls /dev/pts"]), "ex-pts")
    listed, _ = await read_all(check)
    assert listed.split() and all(name == b"ptmx" or name.isdigit() for name in listed.split())


async def _read_until(process: Process, wanted: bytes) -> bytes:
    seen = bytearray()
    while wanted not in seen:
        chunk = await asyncio.wait_for(process.read(), 20)
        assert chunk is not None, f"output ended before {wanted!r}: {bytes(seen)!r}"
        seen.extend(chunk[1])
    return bytes(seen)


async def test_a_reader_that_does_not_read_holds_the_process(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    # 50 MB at once: written in well under a second when nothing holds it back.
    script = "head -c 50000000 /dev/zero; echo done >&2"
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", script]), "ex-held")
    waiting = asyncio.ensure_future(process.wait())
    await asyncio.sleep(2)
    assert not waiting.done(), "the process ran on while nobody read its output"
    out, err = await asyncio.wait_for(read_all(process), 120)
    assert len(out) == 50_000_000 and err == b"done\n"
    assert await waiting == 0


async def test_a_process_ends_with_its_sandbox(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sleep", "60"]), "ex-orphan")
    await kit.runtime.stop(sandbox_id)
    assert await asyncio.wait_for(read_all(process), 30) == (b"", b"")
    with pytest.raises(SandboxGone):
        await asyncio.wait_for(process.wait(), 30)
    with pytest.raises(SandboxGone):
        await kit.runtime.start_process(sandbox_id, ProcessSpec(["true"]), "ex-late")


async def test_close_stops_reading_and_leaves_the_process_to_its_caller(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    process = await kit.runtime.start_process(sandbox_id, ProcessSpec(["sh", "-c", "sleep 60"]), "ex-closed")
    await process.close()
    assert await process.read() is None
    await process.signal(signal.SIGKILL)  # still reachable: the caller decides its end
    out, _, _ = await kit.sh(sandbox_id, "sleep 0.5; ps 2>/dev/null | grep -c '[s]leep 60' || true")
    assert out.strip() in ("0", ""), out

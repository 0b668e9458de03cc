"""Attacks through the live commands: a streamed exec, a background process or a terminal is confined as an exec is,
and one sandbox's processes cannot be reached through another's.

See ``redteam`` for the targets and what each test may and may not do to the host.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import websockets
from redteam import Target

from porter_sandbox import Porter

#: What says who a process is and what it may do: its ids, capabilities, no-new-privs and filter.
STATUS_FIELDS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
SHOW = "grep -E '^(" + "|".join(STATUS_FIELDS) + "):' /proc/self/status"


def _fields(text: str) -> dict[str, str]:
    found = {}
    for line in text.replace("\r", "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name in STATUS_FIELDS:
            found[name] = " ".join(value.split())
    return found


def _terminal_status(target: Target, sandbox: Any) -> str:
    url = target.server.url.replace("http://", "ws://") + f"/x/v1/sandbox/{sandbox.id}/terminal?command=sh"

    async def session() -> str:
        async with websockets.connect(url) as ws:
            await ws.recv()
            # Typed before the shell's first prompt, the line is echoed by the terminal at once, and the prompt
            # then comes right before the output: the empty line puts the first field on a line of its own.
            await ws.send(f"echo; {SHOW}; exit\n".encode())
            seen = b""
            async for message in ws:
                if isinstance(message, bytes):
                    seen += message
                elif json.loads(message).get("type") == "exit":
                    break
            return seen.decode("utf-8", "replace")

    return asyncio.run(session())


def test_a_stream_a_background_process_and_a_terminal_are_confined_as_an_exec_is(
    target: Target, porter: Porter
) -> None:
    sandbox = target.sandbox(porter)
    plain = _fields(sandbox.exec(["sh", "-c", SHOW]).stdout)
    assert set(plain) >= {"Uid", "CapEff", "NoNewPrivs"}, plain
    streamed = _fields(b"".join(event.data for event in sandbox.exec_stream(["sh", "-c", SHOW])).decode())
    background = sandbox.spawn(["sh", "-c", SHOW])
    background.wait(timeout=30)
    spawned = _fields(background.output().stdout)
    terminal = _fields(_terminal_status(target, sandbox))
    assert streamed == plain and spawned == plain and terminal == plain, (plain, streamed, spawned, terminal)
    if target.runtime == "process":
        assert plain["CapEff"] == "0000000000000000"  # (a Docker container keeps what a normal image needs)


def test_a_sandboxs_processes_cannot_be_reached_through_another_sandbox(target: Target, porter: Porter) -> None:
    victim = target.sandbox(porter)
    attacker = target.sandbox(porter)
    process = victim.spawn(["sleep", "60"], stdin_open=True)
    http = porter.raw.get_httpx_client()
    base = f"/x/v1/sandbox/{attacker.id}/processes/{process.id}"
    for method, path, body in [
        ("GET", base, None),
        ("POST", f"{base}/kill", {"signal": "SIGKILL"}),
        ("POST", f"{base}/stdin", None),
        ("GET", f"{base}/output", None),
        ("DELETE", base, None),
    ]:
        answer = http.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
    assert process.refresh().running, "nothing sent through another sandbox reached it"
    process.kill()
    assert process.wait(timeout=30) == 137


def test_a_command_that_ignores_the_signal_of_its_timeout_still_dies(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    # It ignores every catchable signal and leaves a child behind to act after the deadline: SIGKILL, to its
    # whole process group, reaches both.
    script = "trap '' HUP INT TERM QUIT USR1 USR2; (sleep 3; touch /tmp/survived) & sleep 60"
    started = time.monotonic()
    stream = sandbox.exec_stream(["sh", "-c", script], timeout=1)
    events = list(stream)
    assert events[-1].timed_out and time.monotonic() - started < 30
    time.sleep(3.5)
    assert "survived" not in sandbox.exec(["ls", "/tmp"]).stdout

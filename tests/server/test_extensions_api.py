"""The extensions over real HTTP (process runtime, unisolated): commands with options, streamed execs,
background processes, log follow, terminals; what a client sees on the wire, errors included."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from server_calls import create, wait_for

from porter_sandbox.testing import LocalServer


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The events of an NDJSON answer (keep-alive lines skipped)."""
    for line in response.iter_lines():
        if line.strip():
            yield json.loads(line)


def stream(api: httpx.Client, sandbox_id: str, **body: Any) -> list[dict[str, Any]]:
    """Every event of a streamed exec."""
    with api.stream("POST", f"/x/v1/sandbox/{sandbox_id}/exec/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return list(events(response))


def output(found: list[dict[str, Any]], kind: str) -> bytes:
    return b"".join(base64.b64decode(event["data"]) for event in found if event["type"] == kind)


def sh(api: httpx.Client, sandbox_id: str, script: str) -> str:
    answer = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script]})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["stdout"])


def test_capabilities_name_the_runtime_and_its_extensions(api: httpx.Client) -> None:
    answer = api.get("/x/v1/capabilities").json()
    assert answer == {
        "runtime": "process",
        "extensions": ["exec", "exec_stream", "logs_follow", "processes", "terminal"],
    }


def test_a_streamed_exec_answers_start_output_as_written_and_exit(api: httpx.Client) -> None:
    sandbox_id = create(api)
    started = time.monotonic()
    body = {"command": ["sh", "-c", "echo one; sleep 1; echo two >&2; sleep 1; exit 3"]}
    with api.stream("POST", f"/x/v1/sandbox/{sandbox_id}/exec/stream", json=body) as response:
        found = events(response)
        start = next(found)
        first = next(found)
        first_at = time.monotonic() - started
        rest = list(found)
    ended_at = time.monotonic() - started
    assert start["type"] == "start" and start["exec_id"].startswith("ex-")
    assert first == {"type": "stdout", "data": base64.b64encode(b"one\n").decode()}
    assert first_at < ended_at - 1.5, (first_at, ended_at)
    assert output(rest, "stderr") == b"two\n"
    assert rest[-1] == {"type": "exit", "exit_code": 3, "timed_out": False}
    # Its lines are in the logs under its exec id.
    logs = api.get(f"/v1/sandbox/{sandbox_id}/logs").json()["logs"]
    assert [(line["line"], line["level"]) for line in logs if line["exec_id"] == start["exec_id"]] == [
        ("one", "info"),
        ("two", "error"),
    ]


def test_binary_output_and_stdin_round_trip_byte_for_byte(api: httpx.Client) -> None:
    sandbox_id = create(api)
    data = bytes(range(256)) * 64
    found = stream(api, sandbox_id, command=["cat"], stdin_base64=base64.b64encode(data).decode())
    assert output(found, "stdout") == data
    whole = api.post(
        f"/x/v1/sandbox/{sandbox_id}/exec",
        json={"command": ["printf", r"\377\376\000abc"], "output_encoding": "base64"},
    ).json()
    assert base64.b64decode(whole["stdout"]) == b"\xff\xfe\x00abc"
    assert whole["output_encoding"] == "base64" and whole["exit_code"] == 0 and whole["timed_out"] is False
    text = api.post(f"/x/v1/sandbox/{sandbox_id}/exec", json={"command": ["printf", r"\377ok"]}).json()
    assert text["stdout"] == "\ufffdok" and text["output_encoding"] == "text"


def test_stdin_cwd_and_env(api: httpx.Client) -> None:
    sandbox_id = create(api, env={"FROM_SANDBOX": "yes"})
    answer = api.post(
        f"/x/v1/sandbox/{sandbox_id}/exec",
        json={
            "command": ["sh", "-c", 'read line; echo "$line $FROM_SANDBOX $EXTRA"; pwd'],
            "stdin": "typed\n",
            "cwd": "/",
            "env": {"EXTRA": "extra"},
        },
    ).json()
    assert answer["stdout"] == "typed yes extra\n/\n"
    # Porter's client keeps parsing what it knows of this answer: the plain exec's fields are all there.
    assert {"stdout", "stderr", "exit_code", "exec_id"} <= set(answer)


def test_a_timeout_kills_the_whole_group_and_says_so(api: httpx.Client) -> None:
    sandbox_id = create(api)
    script = '(sleep 2; touch "$HOME/after-the-deadline") & sleep 30'
    started = time.monotonic()
    answer = api.post(f"/x/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script], "timeout_seconds": 1})
    assert time.monotonic() - started < 10
    assert (answer.json()["timed_out"], answer.json()["exit_code"]) == (True, 137)
    found = stream(api, sandbox_id, command=["sleep", "30"], timeout_seconds=0.5)
    assert found[-1] == {"type": "exit", "exit_code": 137, "timed_out": True}
    time.sleep(2.5)
    assert sh(api, sandbox_id, 'test -e "$HOME/after-the-deadline" && echo there || echo absent') == "absent\n"


def test_a_client_that_goes_away_kills_what_it_started(api_server: LocalServer) -> None:
    with httpx.Client(base_url=api_server.url, timeout=30) as api:
        sandbox_id = create(api)
        script = 'sleep 2; touch "$HOME/streamed-marker"'
        with api.stream(
            "POST", f"/x/v1/sandbox/{sandbox_id}/exec/stream", json={"command": ["sh", "-c", script]}
        ) as response:
            assert next(events(response))["type"] == "start"
        # A whole exec too: the client gives up before the answer.
        with pytest.raises(httpx.ReadTimeout):
            api.post(
                f"/x/v1/sandbox/{sandbox_id}/exec",
                json={"command": ["sh", "-c", 'sleep 2; touch "$HOME/whole-marker"']},
                timeout=0.5,
            )
        time.sleep(3)
        listing = sh(api, sandbox_id, 'ls "$HOME"')
        assert "streamed-marker" not in listing and "whole-marker" not in listing
        processes = api.get(f"/x/v1/sandbox/{sandbox_id}/processes").json()["processes"]
        assert [process["status"] for process in processes] == ["exited", "exited"]


def test_a_background_process_runs_across_calls_keeps_output_and_is_killed(api: httpx.Client) -> None:
    sandbox_id = create(api)
    body = {"command": ["sh", "-c", "echo ready; while :; do sleep 1; done"]}
    started = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json=body)
    assert started.status_code == 201
    process = started.json()
    assert (process["status"], process["background"], process["stdin_open"]) == ("running", True, False)
    process_id = process["id"]
    answer = api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}/output", params={"wait_seconds": 10}).json()
    assert base64.b64decode(answer["stdout"]["data"]) == b"ready\n"
    assert answer["stdout"]["next_offset"] == 6 and answer["status"] == "running"
    # Later calls find it still running.
    assert sh(api, sandbox_id, "echo other work") == "other work\n"
    assert api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}").json()["status"] == "running"
    listed = api.get(f"/x/v1/sandbox/{sandbox_id}/processes").json()["processes"]
    assert process_id in [entry["id"] for entry in listed]
    still = api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}/wait", params={"timeout_seconds": 0.2})
    assert still.json()["status"] == "running"
    killed = api.post(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}/kill", json={"signal": "SIGTERM"})
    assert killed.json()["signal"] == "SIGTERM"
    ended = api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}/wait", params={"timeout_seconds": 10})
    assert (ended.json()["status"], ended.json()["exit_code"]) == ("exited", 143)
    assert api.delete(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}").status_code == 204
    assert api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{process_id}").status_code == 404


def test_stdin_of_a_background_process_is_written_in_order_and_closed(api: httpx.Client) -> None:
    sandbox_id = create(api)
    process = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json={"command": ["cat"], "stdin_open": True}).json()
    base = f"/x/v1/sandbox/{sandbox_id}/processes/{process['id']}"
    assert api.post(f"{base}/stdin", content=b"first\n").status_code == 204
    assert api.post(f"{base}/stdin", content=b"second\n", params={"close": "true"}).status_code == 204
    assert api.get(f"{base}/wait").json()["exit_code"] == 0
    out = api.get(f"{base}/output").json()["stdout"]
    assert base64.b64decode(out["data"]) == b"first\nsecond\n"
    closed = api.post(f"{base}/stdin", content=b"late")
    assert closed.status_code == 409 and "stdin" in closed.json()["error"]
    no_stdin = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json={"command": ["sleep", "5"]}).json()
    refused = api.post(f"/x/v1/sandbox/{sandbox_id}/processes/{no_stdin['id']}/stdin", content=b"x")
    assert refused.status_code == 409 and "stdin_open" in refused.json()["error"]


def test_a_background_process_keeps_its_newest_output_and_says_what_was_dropped() -> None:
    with (
        LocalServer(isolation="none", extra_args=["--process-output", "1000"]) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        sandbox_id = create(api)
        script = "i=0; while [ $i -lt 300 ]; do printf '%09d\\n' $i; i=$((i+1)); done"
        process = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json={"command": ["sh", "-c", script]}).json()
        base = f"/x/v1/sandbox/{sandbox_id}/processes/{process['id']}"
        api.get(f"{base}/wait")
        stdout = api.get(f"{base}/output", params={"stdout_offset": 5}).json()["stdout"]
        # 3000 bytes written, the newest 1000 kept: from 2000 on.
        assert (stdout["offset"], stdout["dropped"], stdout["next_offset"]) == (2000, 1995, 3000)
        assert base64.b64decode(stdout["data"]).startswith(b"000000200\n")
        small = api.get(f"{base}/output", params={"stdout_offset": 2996, "max_bytes": 3}).json()["stdout"]
        assert (base64.b64decode(small["data"]), small["next_offset"]) == (b"299", 2999)


def test_a_sandbox_runs_at_most_so_many_processes() -> None:
    with (
        LocalServer(isolation="none", extra_args=["--max-processes", "2"]) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        sandbox_id = create(api)
        body = {"command": ["sleep", "30"]}
        first = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json=body).json()
        api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json=body)
        refused = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json=body)
        assert refused.status_code == 409 and "--max-processes" in refused.json()["error"]
        streamed = api.post(f"/x/v1/sandbox/{sandbox_id}/exec/stream", json={"command": ["true"]})
        assert streamed.status_code == 409
        api.post(f"/x/v1/sandbox/{sandbox_id}/processes/{first['id']}/kill")
        api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{first['id']}/wait")
        assert api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json=body).status_code == 201


def test_output_of_a_streamed_exec_is_its_clients_only(api: httpx.Client) -> None:
    sandbox_id = create(api)
    body = {"command": ["sh", "-c", "sleep 1"]}
    with api.stream("POST", f"/x/v1/sandbox/{sandbox_id}/exec/stream", json=body) as response:
        found = events(response)
        exec_id = next(found)["exec_id"]
        refused = api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{exec_id}/output")
        assert refused.status_code == 409 and "background" in refused.json()["error"]
        assert list(found)[-1]["type"] == "exit"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"command": []}, 400, "command"),
        ({"command": ["true"], "cwd": "relative/dir"}, 400, "absolute"),
        ({"command": ["true"], "timeout_seconds": 0}, 400, "timeout_seconds"),
        ({"command": ["true"], "stdin": "a", "stdin_base64": "YQ=="}, 400, "not both"),
        ({"command": ["true"], "stdin_base64": "not base64!"}, 400, "base64"),
        ({"command": ["true"], "env": {"1BAD": "x"}}, 400, "env"),
    ],
)
def test_bad_commands_answer_400_saying_what_to_change(
    api: httpx.Client, body: dict[str, Any], status: int, says: str
) -> None:
    sandbox_id = create(api)
    for path in ("exec", "exec/stream", "processes"):
        answer = api.post(f"/x/v1/sandbox/{sandbox_id}/{path}", json=body)
        assert answer.status_code == status, (path, answer.text)
        assert says in answer.json()["error"], answer.text


def test_unknown_sandboxes_and_processes_are_404_and_ended_sandboxes_409(api: httpx.Client) -> None:
    assert api.post("/x/v1/sandbox/sb-nope/exec/stream", json={"command": ["true"]}).status_code == 404
    assert api.get("/x/v1/sandbox/sb-nope/logs/follow").status_code == 404
    sandbox_id = create(api)
    assert api.get(f"/x/v1/sandbox/{sandbox_id}/processes/ex-nope").status_code == 404
    api.delete(f"/v1/sandbox/{sandbox_id}")
    ended = api.post(f"/x/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]})
    assert ended.status_code == 409 and "terminated" in ended.json()["error"]


def test_a_process_running_when_its_sandbox_ends_says_so(api: httpx.Client) -> None:
    sandbox_id = create(api)
    body = {"command": ["sleep", "30"]}
    process = api.post(f"/x/v1/sandbox/{sandbox_id}/processes", json=body).json()
    with api.stream("POST", f"/x/v1/sandbox/{sandbox_id}/exec/stream", json=body) as response:
        found = events(response)
        assert next(found)["type"] == "start"
        api.delete(f"/v1/sandbox/{sandbox_id}")
        assert list(found)[-1]["type"] == "error"
    ended = api.get(f"/x/v1/sandbox/{sandbox_id}/processes/{process['id']}/wait").json()
    assert (ended["status"], ended["sandbox_ended"], "exit_code" in ended) == ("exited", True, False)


def test_following_logs_sees_new_lines_and_ends_with_the_sandbox(api: httpx.Client) -> None:
    script = "echo before; sleep 1.5; echo after; sleep 0.5; exit 4"
    sandbox_id = create(api, command=["sh", "-c", script])
    wait_for(api, sandbox_id, {"running", "succeeded", "failed"})
    seen: list[tuple[float, dict[str, Any]]] = []
    started = time.monotonic()
    with api.stream("GET", f"/x/v1/sandbox/{sandbox_id}/logs/follow") as response:
        for event in events(response):
            seen.append((time.monotonic() - started, event))
    lines = [event["line"] for _, event in seen if event["type"] == "line"]
    assert lines == ["before", "after"]
    assert seen[-1][1] == {"type": "end", "phase": "failed", "exit_code": 4}
    after_at = next(at for at, event in seen if event.get("line") == "after")
    assert after_at < seen[-1][0], "each line came as it was written, before the end"


def test_following_an_ended_sandbox_answers_its_lines_and_the_end(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["sh", "-c", "echo a; echo b; echo c"])
    wait_for(api, sandbox_id, {"succeeded"})
    with api.stream("GET", f"/x/v1/sandbox/{sandbox_id}/logs/follow", params={"limit": 2}) as response:
        found = list(events(response))
    assert [event.get("line") for event in found] == ["b", "c", None]
    assert found[-1] == {"type": "end", "phase": "succeeded", "exit_code": 0}


def test_many_followers_end_when_the_sandbox_ends(api: httpx.Client, api_server: LocalServer) -> None:
    sandbox_id = create(api)
    wait_for(api, sandbox_id, {"running"})
    ends: list[dict[str, Any]] = []

    def follow() -> None:
        with (
            httpx.Client(base_url=api_server.url, timeout=30) as client,
            client.stream("GET", f"/x/v1/sandbox/{sandbox_id}/logs/follow") as response,
        ):
            ends.append(list(events(response))[-1])

    threads = [threading.Thread(target=follow) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    api.delete(f"/v1/sandbox/{sandbox_id}")
    for thread in threads:
        thread.join(10)
    assert ends == [{"type": "end", "phase": "terminated"}] * 5


def test_a_terminal_runs_a_command_on_a_pseudo_terminal(api: httpx.Client, api_server: LocalServer) -> None:
    sandbox_id = create(api)
    url = api_server.url.replace("http://", "ws://") + f"/x/v1/sandbox/{sandbox_id}/terminal"

    async def session() -> tuple[dict[str, Any], bytes, dict[str, Any]]:
        async with websockets.connect(url + "?command=sh&rows=25&cols=90") as ws:
            started = json.loads(await ws.recv())
            await ws.send(b"tty; stty size\n")
            seen = b""
            while b"25 90" not in seen:
                seen += await ws.recv()  # type: ignore[operator]
            await ws.send(json.dumps({"type": "resize", "rows": 40, "cols": 120}))
            await ws.send(b"stty size; exit 7\n")
            async for message in ws:
                if isinstance(message, str):
                    return started, seen, json.loads(message)
                seen += message
        raise AssertionError("closed without an exit")

    started, seen, ended = asyncio.run(session())
    assert started["type"] == "started" and started["exec_id"].startswith("ex-")
    assert b"/dev/pts/" in seen and b"25 90" in seen and b"40 120" in seen
    assert ended == {"type": "exit", "exit_code": 7, "timed_out": False}


def test_a_terminal_refuses_before_the_upgrade_with_the_apis_status(api: httpx.Client, api_server: LocalServer) -> None:
    base = api_server.url.replace("http://", "ws://")

    async def refused(path: str) -> int:
        with pytest.raises(websockets.InvalidStatus) as caught:
            async with websockets.connect(base + path):
                pass
        return caught.value.response.status_code

    assert asyncio.run(refused("/x/v1/sandbox/sb-nope/terminal")) == 404
    sandbox_id = create(api)
    assert asyncio.run(refused(f"/x/v1/sandbox/{sandbox_id}/terminal?rows=0")) == 400
    plain = api.get(f"/x/v1/sandbox/{sandbox_id}/terminal")
    assert plain.status_code == 426 and "WebSocket" in plain.json()["error"]


def test_a_terminal_needs_the_api_key() -> None:
    with (
        LocalServer(isolation="none", api_key="k-terminal") as server,
        httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k-terminal"}, timeout=30) as api,
    ):
        sandbox_id = create(api)
        url = server.url.replace("http://", "ws://") + f"/x/v1/sandbox/{sandbox_id}/terminal?command=true"

        async def attempt(headers: dict[str, str]) -> Any:
            async with websockets.connect(url, additional_headers=headers) as ws:
                return [message async for message in ws]

        with pytest.raises(websockets.InvalidStatus) as caught:
            asyncio.run(attempt({}))
        assert caught.value.response.status_code == 401
        messages = asyncio.run(attempt({"Authorization": "Bearer k-terminal"}))
        assert json.loads(messages[-1]) == {"type": "exit", "exit_code": 0, "timed_out": False}
        assert api.get("/x/v1/capabilities", headers={"Authorization": ""}).status_code == 401


def test_a_terminal_whose_client_leaves_is_killed(api: httpx.Client, api_server: LocalServer) -> None:
    sandbox_id = create(api)
    url = api_server.url.replace("http://", "ws://") + f"/x/v1/sandbox/{sandbox_id}/terminal"

    async def leave() -> None:
        async with websockets.connect(url + "?command=sh") as ws:
            await ws.recv()
            await ws.send(b'(sleep 2; touch "$HOME/terminal-marker") & sleep 30\n')
            await asyncio.sleep(0.5)

    asyncio.run(leave())
    time.sleep(3)
    assert "terminal-marker" not in sh(api, sandbox_id, 'ls "$HOME"')

"""What a new user trips on, server side: a default lifetime, failures that say why, unbuffered Python, the extra."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from server_calls import TERMINAL, create, wait_for

from porter_sandbox.testing import LocalServer


def test_an_exec_into_an_ended_sandbox_says_how_it_ended_and_its_last_error(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["sh", "-c", "echo first >&2; echo 'config.yaml: no such file' >&2; exit 3"])
    wait_for(api, sandbox_id, TERMINAL)
    answer = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]})
    assert answer.status_code == 409
    message = answer.json()["error"]
    assert "failed (workload_exited, exit code 3)" in message
    assert "config.yaml: no such file" in message and "create a new one" in message


def test_an_exec_into_a_sandbox_that_could_not_start_says_why(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["porter-no-such-binary"])
    status = wait_for(api, sandbox_id, TERMINAL)
    assert status["termination_reason"] == "launch_failed"
    message = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]}).json()["error"]
    assert "launch_failed" in message and "porter-no-such-binary" in message


def test_python_output_reaches_the_logs_as_it_is_written(api: httpx.Client) -> None:
    script = "import sys, time\nprint('started')\nprint('to stderr', file=sys.stderr)\ntime.sleep(60)\n"
    sandbox_id = create(api, command=["python3", "-c", script])
    wait_for(api, sandbox_id, {"running"})
    deadline = time.monotonic() + 20
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = [entry["line"] for entry in api.get(f"/v1/sandbox/{sandbox_id}/logs").json()["logs"]]
        if len(lines) == 2:
            break
        time.sleep(0.05)
    assert lines == ["started", "to stderr"], "a running Python process's lines must not wait for its exit"
    env = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", "echo $PYTHONUNBUFFERED"]})
    assert env.json()["stdout"] == "1\n"
    api.delete(f"/v1/sandbox/{sandbox_id}")
    # A sandbox that sets it keeps its own value.
    own = create(api, env={"PYTHONUNBUFFERED": ""})
    wait_for(api, own, {"running"})
    answer = api.post(f"/v1/sandbox/{own}/exec", json={"command": ["sh", "-c", "echo x${PYTHONUNBUFFERED}x"]})
    assert answer.json()["stdout"] == "xx\n"
    api.delete(f"/v1/sandbox/{own}")


@pytest.mark.slow
def test_a_sandbox_without_a_ttl_gets_the_servers_default_lifetime() -> None:
    with (
        LocalServer(isolation="none", extra_args=["--default-ttl", "1"]) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        lives_by_default = create(api)
        lives_longer = create(api, ttl_seconds=600)
        status = wait_for(api, lives_by_default, TERMINAL, timeout=20)
        assert (status["phase"], status["termination_reason"]) == ("terminated", "ttl_expired")
        assert api.get(f"/v1/sandbox/{lives_longer}").json()["phase"] == "running"


def test_default_ttl_must_be_a_whole_number_of_seconds() -> None:
    for bad in ("-5", "soon"):
        done = subprocess.run(
            [sys.executable, "-m", "porter_sandbox_server", "serve", "--port", "0", "--default-ttl", bad],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert "--default-ttl" in done.stderr


def test_help_says_what_the_default_lifetime_is() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "porter_sandbox_server", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--default-ttl" in done.stdout and "86400" in done.stdout


def test_running_the_server_module_without_the_server_extra_says_which_extra() -> None:
    blocker = (
        "import runpy, sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'uvicorn':\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "sys.argv = ['porter_sandbox_server', 'serve']\n"
        "runpy.run_module('porter_sandbox_server', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "'server' extra" in done.stderr and "pip install -e '.[server]'" in done.stderr


def test_egress_and_networking_a_runtime_cannot_enforce_are_refused_not_ignored(api: httpx.Client) -> None:
    denied = api.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "egress": {"allowed_destinations": []}})
    assert denied.status_code == 400
    assert "cannot enforce an egress policy" in denied.json()["error"]
    ports = api.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "networking": [{"port": 8000}]})
    assert ports.status_code == 400 and "networking" in ports.json()["error"]
    assert api.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "networking": []}).status_code == 201

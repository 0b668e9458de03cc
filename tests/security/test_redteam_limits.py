"""Attacks on the host's resources from inside sandboxes: fork bombs, memory filesystems; and how a sandbox dies."""

from __future__ import annotations

import time

import httpx
import pytest
from redteam import MAX_PIDS, MAX_TOTAL_PIDS, Target, host_tasks_of, sh

from porter_sandbox import ConflictError, Porter

pytestmark = pytest.mark.slow

#: Sleepers a fork bomb starts: more than any limit allows, bounded so a failing test stays harmless.
BOMB = 200


def test_a_fork_bomb_meets_the_sandboxs_process_limit(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    # A subshell forks until the limit stops it (a shell that cannot fork gives up); the exec's own shell
    # then counts what is left by its glob, which forks nothing.
    bomb = f"(for i in $(seq {BOMB}); do sleep 4 & done) 2>/dev/null; set -- /proc/[0-9]*; echo $#"
    counted = sh(sandbox, bomb)
    assert counted.stdout.strip().isdigit(), counted
    assert MAX_PIDS // 2 <= int(counted.stdout) <= MAX_PIDS, counted.stdout
    # The sandbox lives on: once the sleepers are gone, commands run again.
    deadline = time.monotonic() + 30
    while sh(sandbox, "echo alive").stdout != "alive\n":
        assert time.monotonic() < deadline, "the sandbox never ran a command again"
        time.sleep(0.2)
    assert sandbox.refresh().phase == "running"


def test_fork_bombs_in_many_sandboxes_stay_within_the_servers_total(target: Target, porter: Porter) -> None:
    if target.runtime == "docker":
        pytest.skip("the Docker runtime bounds each container; the engine's own limits bound their sum")
    bombs = [target.sandbox(porter) for _ in range(MAX_TOTAL_PIDS // MAX_PIDS + 2)]
    peak = 0
    for bomb in bombs:
        sh(bomb, f"for i in $(seq {BOMB}); do sleep 60 & done 2>/dev/null; echo started")
        peak = max(peak, host_tasks_of(target.sandbox_uid))
    # The kernel refuses a fork past the total (the server's own threads count too when it is that uid).
    # Each sandbox's agent becomes the uid by setuid, which the kernel lets pass the limit (it only marks
    # the process), so the bound is the total plus one agent per sandbox; nothing the bombs fork gets past it.
    assert peak <= MAX_TOTAL_PIDS + len(bombs) + 1, peak
    assert peak >= MAX_TOTAL_PIDS - MAX_PIDS, f"the bombs never came near the total ({peak}): this proves nothing"
    for bomb in bombs:
        bomb.terminate()
    # With the bombs gone, a new sandbox starts and runs.
    assert sh(target.sandbox(porter), "echo fresh").stdout == "fresh\n"


def test_filling_dev_shm_fails_inside_and_the_sandbox_lives_on(target: Target, porter: Porter) -> None:
    """The attack of the issue: under a 64Mi limit, fill /dev/shm: ENOSPC inside, not a dead PID 1."""
    sandbox = target.sandbox(porter, resources={"memory": "64Mi"})
    result = sh(sandbox, "dd if=/dev/zero of=/dev/shm/fill bs=1M count=256 2>&1; echo exit=$?")
    assert "No space left on device" in result.stdout, result
    assert sandbox.refresh().phase == "running"
    assert sh(sandbox, "echo alive").stdout == "alive\n"


def test_filling_tmp_under_a_small_memory_limit_leaves_the_sandbox_alive(target: Target, porter: Porter) -> None:
    """/tmp is on disk (the scratch space, or the container's layer): writing far more than the memory limit
    there is page cache the kernel writes back, never a reason to kill."""
    sandbox = target.sandbox(porter, resources={"memory": "64Mi"})
    result = sh(sandbox, "dd if=/dev/zero of=/tmp/fill bs=1M count=192 2>&1; rm -f /tmp/fill; echo exit=$?")
    assert "exit=0" in result.stdout, result
    assert sandbox.refresh().phase == "running"
    assert sh(sandbox, "echo alive").stdout == "alive\n"


def test_an_exec_after_the_main_process_ended_is_a_clear_409(target: Target, porter: Porter) -> None:
    """The main process ends (as a PID 1 the memory killer took would); execs racing its end, and after it,
    are 409s that say so, never "is running, not running"."""
    main = "while [ ! -e /tmp/stop ]; do sleep 0.05; done; exit 9"
    sandbox = target.sandbox(porter, command=["sh", "-c", main])
    sh(sandbox, "touch /tmp/stop")
    deadline = time.monotonic() + 30
    while sandbox.refresh().phase == "running" and time.monotonic() < deadline:
        try:
            sh(sandbox, "true")
        except ConflictError as error:
            assert "running, not running" not in error.message, error.message
            break
    with httpx.Client(base_url=target.server.url, timeout=30) as http:
        answer = http.post(f"/v1/sandbox/{sandbox.id}/exec", json={"command": ["echo", "too-late"]})
    assert answer.status_code == 409, answer.text
    message = answer.json()["error"]
    assert "main process ended" in message and "exit code 9" in message and "create a new one" in message, message

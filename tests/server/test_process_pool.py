"""Pre-started sandboxes (``serve --pool``): a pooled sandbox is the sandbox it became, and nothing else.

Driven directly (no HTTP) on real bubblewrap sandboxes, as a root server (the
pool needs one). Each comparison runs the same probe in a pooled sandbox and
in a fresh one of the same spec and expects the same answer, ids aside.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import resource
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from runtime_events import Recorder
from runtimes import require_bwrap

from porter_sandbox_server.cli import build_parser
from porter_sandbox_server.runtimes.base import LaunchSpec, VolumeMount
from porter_sandbox_server.runtimes.pool import REFILL_DELAY
from porter_sandbox_server.runtimes.process import ProcessRuntime
from porter_sandbox_server.runtimes.process.pool import PoolSettings

pytestmark = pytest.mark.bwrap

#: What a sandbox can see of itself that a launch decides: names, ids, limits, mounts, user, environment.
PROBE = r"""
hostname; echo "HOSTNAME=$HOSTNAME"; id
env | grep -v '^PWD=\|^SHLVL=\|^_=' | sort
grep -E 'pids|memory|cpu|freezer' /proc/self/cgroup | sort
awk '{print $4, $5, $6}' /proc/self/mountinfo
df -k /dev/shm | tail -n 1 | awk '{print $2}'
ulimit -a
stat -c '%n %U %G %a' /workspace /tmp ~
tr '\0' ' ' < /proc/1/cmdline; echo
"""


def _spec(name: str, **fields: Any) -> LaunchSpec:
    values: dict[str, Any] = {
        "sandbox_id": f"sb-{name}-{uuid.uuid4().hex[:8]}",
        "name": name,
        "image": "python:3.12-slim",
        "command": None,
        "args": None,
        "env": {"GREETING": "hello"},
        "tags": {},
    }
    values.update(fields)
    return LaunchSpec(**values)


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    """A root server's process runtime keeping one sandbox started."""
    require_bwrap()
    if os.geteuid() != 0:
        pytest.skip("the pool needs a root server")
    runtime = ProcessRuntime(tmp_path / "data", "bwrap", pool=PoolSettings(size=1))
    await runtime.volumes.open()
    await runtime.open(Recorder())
    try:
        assert runtime.pool is not None, "the pool is off on this host"
        assert await runtime.pool.full(timeout=30.0)
        yield runtime
    finally:
        await runtime.close(stop_sandboxes=True)


async def _sh(runtime: ProcessRuntime, sandbox_id: str, script: str) -> str:
    output = await runtime.exec(sandbox_id, ["sh", "-c", script], f"ex-{uuid.uuid4().hex[:8]}", {})
    assert output.exit_code == 0, output.stderr
    return output.stdout


async def _launch_pooled(runtime: ProcessRuntime, spec: LaunchSpec) -> None:
    assert runtime.pool is not None
    assert await runtime.pool.full(timeout=30.0)
    served = runtime.pool.served
    await runtime.launch(spec)
    assert runtime.pool.served == served + 1, "the launch did not take the pooled sandbox"


def _normal(text: str, spec: LaunchSpec) -> str:
    """``text`` with the spec's id and name replaced by placeholders, and the agent's socket's fd number
    (whichever the server had free; it differs between any two sandboxes)."""
    text = re.sub(r"\)\) \d+ bwrap ", ")) <fd> bwrap ", text)
    return text.replace(spec.sandbox_id, "<id>").replace(spec.name, "<name>")


def _limits(runtime: ProcessRuntime, sandbox_id: str) -> dict[str, str]:
    """The limit files of the sandbox's cgroups, by hierarchy and file name."""
    cgroup = runtime._sandboxes[sandbox_id].cgroup
    assert cgroup is not None
    limits = {}
    for directory in cgroup.dirs:
        assert directory.name.endswith(sandbox_id)
        for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "pids.max", "cpu.cfs_quota_us"):
            if (directory / name).exists():
                limits[f"{directory.parent.name}/{name}"] = (directory / name).read_text().strip()
    assert "pids/pids.max" in limits
    return limits


async def _agent_pid(runtime: ProcessRuntime, sandbox_id: str) -> int:
    """The host pid of the sandbox's PID 1, once its network is up (a command waits for that)."""
    await _sh(runtime, sandbox_id, "true")
    pid = runtime._sandboxes[sandbox_id].agent_pid
    assert pid is not None
    return pid


def _table(pid: int) -> str:
    """The sandbox's nft table, as nft lists it (handles and timeouts left out)."""
    listed = subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "nft", "list", "table", "inet", "porter"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert listed.returncode == 0, listed.stderr
    return re.sub(r"(expires|timeout) \S+", "", listed.stdout)


async def test_a_pooled_sandbox_shows_the_launch_it_became_as_a_fresh_one_does(
    pooled: ProcessRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="porter_sandbox_server")
    first, second = _spec("alpha", env={"GREETING": "hello"}), _spec("bravo", env={"GREETING": "hello"})
    await _launch_pooled(pooled, first)
    await pooled.launch(second)  # the pool refills only after a pause: this one starts fresh
    assert f"sandbox {first.sandbox_id}: started from the pool" in caplog.text
    assert f"sandbox {second.sandbox_id}: started from the pool" not in caplog.text

    seen_pooled = await _sh(pooled, first.sandbox_id, PROBE)
    seen_fresh = await _sh(pooled, second.sandbox_id, PROBE)
    assert "alpha" in seen_pooled and first.sandbox_id in seen_pooled
    assert "pooled-" not in seen_pooled
    # The agent's command line and the rest match, but for the sandbox's own id and name.
    assert _normal(seen_pooled, first) == _normal(seen_fresh, second)
    # And so do the limits its cgroups hold, as the host sees them.
    assert _limits(pooled, first.sandbox_id) == _limits(pooled, second.sandbox_id)


async def test_an_egress_policy_replaces_the_pooled_sandboxs_open_table(pooled: ProcessRuntime) -> None:
    if pooled.network is None:
        pytest.skip(f"no sandbox network here: {pooled.network_unavailable}")
    policy = ["192.0.2.0/24", "198.51.100.7", "*.example.com"]
    first, second = _spec("gamma", egress=policy), _spec("delta", egress=policy)
    await _launch_pooled(pooled, first)
    await pooled.launch(second)
    pooled_table = _table(await _agent_pid(pooled, first.sandbox_id))
    assert "192.0.2.0/24" in pooled_table and "ip daddr @allowed accept" in pooled_table
    assert pooled_table == _table(await _agent_pid(pooled, second.sandbox_id))
    # And without a policy: the pooled table is the open one a fresh sandbox gets.
    third, fourth = _spec("echo"), _spec("foxtrot")
    await _launch_pooled(pooled, third)
    await pooled.launch(fourth)
    open_table = _table(await _agent_pid(pooled, third.sandbox_id))
    assert "@allowed accept" not in open_table
    assert open_table == _table(await _agent_pid(pooled, fourth.sandbox_id))


@pytest.mark.parametrize(
    "fields",
    [
        {"memory_bytes": 64 << 20},
        {"cpu_millis": 500},
        {"pids_max": 77},
        {"mounts": "volume"},
    ],
    ids=["memory", "cpu", "pids", "volume"],
)
async def test_a_launch_the_pool_does_not_fit_starts_fresh(pooled: ProcessRuntime, fields: dict[str, Any]) -> None:
    assert pooled.pool is not None
    if fields.get("mounts") == "volume":
        await pooled.volumes.create("vol-pool")
        fields = {"mounts": (VolumeMount("/data", "vol-pool"),)}
    spec = _spec("golf", **fields)
    await pooled.launch(spec)
    assert pooled.pool.served == 0
    assert pooled.pool.ready == 1
    assert (await _sh(pooled, spec.sandbox_id, "echo ok")).strip() == "ok"


async def test_a_pooled_sandbox_that_dies_is_replaced(pooled: ProcessRuntime) -> None:
    assert pooled.pool is not None
    [waiting] = list(pooled.pool._ready)
    assert waiting.agent_pid is not None
    os.kill(waiting.agent_pid, signal.SIGKILL)
    for _ in range(200):
        if pooled.pool.ready == 1 and pooled.pool._ready[0] is not waiting:
            break
        await asyncio.sleep(0.05)
    assert pooled.pool._ready[0] is not waiting, "the dead sandbox was not replaced"
    spec = _spec("hotel")
    await _launch_pooled(pooled, spec)
    assert (await _sh(pooled, spec.sandbox_id, "hostname")).strip() == "hotel"
    scratch = {path.name for path in pooled.scratch_root.iterdir() if not path.name.startswith(".removing-")}
    assert scratch <= {spec.sandbox_id} | {s.spec.sandbox_id for s in pooled.pool._ready}


async def test_a_pooled_sandbox_is_taken_whatever_number_its_pidfd_has(pooled: ProcessRuntime) -> None:
    # About ten descriptors per live sandbox: a server with a hundred of them holds numbers past
    # FD_SETSIZE (1024), which select() refuses. Taking a sandbox must not depend on that.
    assert pooled.pool is not None
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] <= 1500:
        pytest.skip("this process may not open a descriptor numbered 1500")
    [waiting] = list(pooled.pool._ready)
    assert waiting.agent_pidfd is not None
    high = fcntl.fcntl(waiting.agent_pidfd, fcntl.F_DUPFD_CLOEXEC, 1500)
    os.close(waiting.agent_pidfd)
    waiting.agent_pidfd = high
    spec = _spec("kilo")
    await _launch_pooled(pooled, spec)
    assert (await _sh(pooled, spec.sandbox_id, "hostname")).strip() == "kilo"


async def test_the_pool_refills_after_a_pause_and_stops_with_the_runtime(tmp_path: Path) -> None:
    require_bwrap()
    if os.geteuid() != 0:
        pytest.skip("the pool needs a root server")
    runtime = ProcessRuntime(tmp_path / "data", "bwrap", pool=PoolSettings(size=2))
    await runtime.open(Recorder())
    assert runtime.pool is not None
    assert await runtime.pool.full(timeout=30.0)
    pids = [sandbox.agent_pid for sandbox in runtime.pool._ready]
    await runtime.launch(_spec("india"))
    await runtime.launch(_spec("juliet"))
    assert runtime.pool.served == 2 and runtime.pool.ready == 0
    await asyncio.sleep(REFILL_DELAY / 2)
    assert runtime.pool.ready == 0, "the pool refilled during the burst"
    assert await runtime.pool.full(timeout=30.0)
    await runtime.close(stop_sandboxes=True)
    assert not [path for path in (tmp_path / "data" / "sandboxes").iterdir()]
    leftovers = list(Path("/sys/fs/cgroup/pids").rglob(f"porter-sandbox-{os.getpid()}-*"))
    assert not leftovers, leftovers
    for pid in pids:
        assert (pid is not None and not Path(f"/proc/{pid}").exists()) or _is_zombie_or_other(pid)


def _is_zombie_or_other(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"porter" not in cmdline and b"-I\0-S" not in cmdline


async def test_the_pool_is_off_where_it_cannot_work(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="porter_sandbox_server")
    runtime = ProcessRuntime(tmp_path / "data", "none", pool=PoolSettings(size=2))
    await runtime.open(Recorder())
    try:
        assert runtime.pool is None
        assert "--pool 2 is off: --isolation none" in caplog.text
    finally:
        await runtime.close(stop_sandboxes=True)


@pytest.mark.parametrize("value", ["-1", "65", "two"])
def test_serve_refuses_a_pool_size_out_of_range(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--pool", value])
    assert "--pool" in capsys.readouterr().err


def test_serve_gives_the_pool_the_default_limits() -> None:
    from porter_sandbox_server.cli import make_runtime

    options = build_parser().parse_args(["serve", "--pool", "3", "--default-memory", "256Mi", "--max-pids", "99"])
    runtime = make_runtime("process", Path("/nonexistent"), "bwrap", None, options)
    assert isinstance(runtime, ProcessRuntime)
    assert runtime.pool_settings == PoolSettings(size=3, memory_bytes=256 << 20, pids_max=99)

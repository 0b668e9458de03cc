"""The process runtime, driven directly (no HTTP): real bubblewrap sandboxes on this host."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from runtime_events import Recorder
from runtimes import require_bwrap

from porter_sandbox_server.runtimes.base import (
    CommandRefused,
    LaunchFailed,
    LaunchSpec,
    OutputLimits,
    RuntimeUnavailable,
    SandboxGone,
    VolumeMount,
)
from porter_sandbox_server.runtimes.process import ProcessRuntime
from porter_sandbox_server.runtimes.process import runtime as process_runtime


@dataclass
class Harness:
    """An opened runtime, what it reported, and the data directory it keeps its volumes and scratch in."""

    runtime: ProcessRuntime
    events: Recorder
    root: Path

    def spec(
        self,
        name: str,
        command: Sequence[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        mounts: Mapping[str, str] | None = None,
        memory_bytes: int | None = None,
    ) -> LaunchSpec:
        return LaunchSpec(
            sandbox_id=f"sb-{name}",
            name=name,
            image="python:3.12-slim",
            command=command,
            args=None,
            env=env or {},
            tags={},
            mounts=tuple(VolumeMount(path, volume_id) for path, volume_id in (mounts or {}).items()),
            memory_bytes=memory_bytes,
        )

    def scratch(self, sandbox_id: str) -> Path:
        """Where the sandbox's tmp, workspace and home live on the host."""
        return self.runtime.scratch_root / sandbox_id

    async def volume(self, volume_id: str) -> Path:
        """A new volume; answer its directory on the host."""
        await self.runtime.volumes.create(volume_id)
        return self.runtime.volumes.host_path(volume_id)

    async def launch(self, name: str, command: Sequence[str] | None = None, **options: object) -> str:
        spec = self.spec(name, command, **options)  # type: ignore[arg-type]
        await self.runtime.launch(spec)
        return spec.sandbox_id

    async def sh(self, sandbox_id: str, script: str, env: Mapping[str, str] | None = None) -> tuple[str, str, int]:
        result = await self.runtime.exec(sandbox_id, ["sh", "-c", script], uuid.uuid4().hex[:8], env or {})
        return result.stdout, result.stderr, result.exit_code


async def open_harness(isolation: str, tmp_path: Path) -> Harness:
    events = Recorder()
    runtime = ProcessRuntime(tmp_path / "data", isolation)
    await runtime.volumes.open()
    await runtime.open(events)
    return Harness(runtime, events, tmp_path / "data")


@pytest.fixture
async def bw(tmp_path: Path) -> AsyncIterator[Harness]:
    """A bubblewrap process runtime, opened, with a recording RuntimeEvents."""
    require_bwrap()
    harness = await open_harness("bwrap", tmp_path)
    try:
        yield harness
    finally:
        await harness.runtime.close(stop_sandboxes=True)


@pytest.fixture
async def unisolated(tmp_path: Path) -> AsyncIterator[Harness]:
    """A process runtime with --isolation none."""
    harness = await open_harness("none", tmp_path)
    try:
        yield harness
    finally:
        await harness.runtime.close(stop_sandboxes=True)


# ----------------------------------------------------------------------------- exec


async def test_keep_alive_runs_until_stopped_and_stop_is_idempotent(bw: Harness) -> None:
    sid = await bw.launch("idle")
    assert (await bw.sh(sid, "echo alive"))[0] == "alive\n"
    await asyncio.sleep(0.2)
    assert sid not in bw.events.ends
    await bw.runtime.stop(sid)
    await bw.runtime.stop(sid)
    await bw.runtime.stop("sb-never-started")
    with pytest.raises(SandboxGone):
        await bw.sh(sid, "true")
    await asyncio.sleep(0.1)
    assert sid not in bw.events.ends, "stop must not report an exit"


async def test_files_one_exec_writes_are_seen_by_the_next_and_by_the_main_process(bw: Harness) -> None:
    wait_then_show = (
        "i=0; while [ ! -f /workspace/go ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done; "
        "cat /workspace/go /tmp/note $HOME/.profile-note"
    )
    sid = await bw.launch("files", ["sh", "-c", wait_then_show])
    await bw.sh(sid, "echo from-tmp > /tmp/note && echo from-home > ~/.profile-note")
    assert (await bw.sh(sid, "cat /tmp/note ~/.profile-note"))[0] == "from-tmp\nfrom-home\n"
    # The writable areas live in the sandbox's scratch directory on the host while it runs, owned by
    # the sandbox's host uid.
    scratch = bw.scratch(sid)
    assert (scratch / "tmp" / "note").read_text() == "from-tmp\n"
    assert (scratch / "home" / ".profile-note").read_text() == "from-home\n"
    assert bw.runtime.identity is not None
    assert (scratch / "home" / ".profile-note").stat().st_uid == bw.runtime.identity.uid
    await bw.sh(sid, "echo from-workspace > /workspace/go")
    assert await bw.events.wait_exit(sid) == (0, None)
    assert bw.events.of(sid, "", "stdout") == ["from-workspace", "from-tmp", "from-home"]
    # Once it ended, the runtime frees its scratch space.
    for _ in range(200):
        if not scratch.exists():
            break
        await asyncio.sleep(0.01)
    assert not scratch.exists()


async def test_env_path_home_workdir_and_hostname(bw: Harness) -> None:
    sid = await bw.launch("env-check", env={"GREETING": "hello", "SHARED": "from-sandbox"})
    out, _, code = await bw.sh(
        sid, 'echo "$GREETING $SHARED $EXTRA"; echo $HOME; pwd; hostname; echo $PATH', env={"EXTRA": "x", "SHARED": "e"}
    )
    assert code == 0
    greeting, home, cwd, hostname, path = out.splitlines()
    assert greeting == "hello e x"
    assert (home, cwd, hostname) == ("/root", "/workspace", "env-check")
    assert "/usr/bin" in path.split(":")
    assert (await bw.sh(sid, "python3 -c 'print(6 * 7)'"))[0] == "42\n"


async def test_output_of_many_megabytes_on_both_streams(bw: Harness) -> None:
    bw.events.keep_lines = False
    bw.runtime.output_limits = OutputLimits(exec_log_lines=200_000)  # all 120,000 lines logged
    sid = await bw.launch("big")
    # Both streams at once: a reader that drained one pipe only would deadlock here.
    script = "import sys\nfor i in range(60000):\n    sys.stdout.write('o' * 99 + '\\n')\n    sys.stderr.write('e' * 49 + '\\n')\n"
    result = await bw.runtime.exec(sid, ["python3", "-c", script], "big1", {})
    assert result.exit_code == 0
    assert len(result.stdout) == 6_000_000 and len(result.stderr) == 3_000_000
    assert set(result.stdout) == {"o", "\n"}
    assert bw.events.line_counts[(sid, "big1", "stdout")] == 60000
    assert bw.events.line_counts[(sid, "big1", "stderr")] == 60000


async def test_many_execs_at_once_and_many_sandboxes_at_once(bw: Harness) -> None:
    sids = await asyncio.gather(*(bw.launch(f"many-{i}") for i in range(8)))
    results = await asyncio.gather(*(bw.sh(sid, f"echo {sid}-{n}") for sid in sids for n in range(5)))
    expected = [f"{sid}-{n}\n" for sid in sids for n in range(5)]
    assert [out for out, _, _ in results] == expected


async def test_an_exec_that_leaves_a_background_process_returns(bw: Harness) -> None:
    sid = await bw.launch("background")
    out, _, code = await bw.sh(sid, "sleep 60 & echo started")
    assert (out, code) == ("started\n", 0)


# ----------------------------------------------------------------------------- main process


async def test_main_process_output_and_exit_code(bw: Harness) -> None:
    sid = await bw.launch("main", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert await bw.events.wait_exit(sid) == (3, None)
    assert bw.events.of(sid, "", "stdout") == ["out"]
    assert bw.events.of(sid, "", "stderr") == ["err"]
    # Every line is reported before the exit.
    assert bw.events.order[-1] == f"exit:{sid}"
    with pytest.raises(SandboxGone):
        await bw.sh(sid, "true")
    await bw.runtime.stop(sid)  # after the exit: a no-op


async def test_main_process_killed_from_an_exec_reports_128_plus_9(bw: Harness) -> None:
    sid = await bw.launch("killed", ["sh", "-c", "echo $$ > /tmp/main.pid; sleep 120; true"])
    out = ""
    for _ in range(500):
        out = (await bw.sh(sid, "cat /tmp/main.pid 2>/dev/null"))[0].strip()
        if out:
            break
        await asyncio.sleep(0.01)
    with contextlib.suppress(SandboxGone):  # the exec may end with its sandbox
        await bw.sh(sid, f"kill -9 {out}")
    assert (await bw.events.wait_exit(sid))[0] == 128 + 9


async def test_main_process_killed_from_outside_reports_128_plus_9(bw: Harness) -> None:
    marker = f"porter-test-marker-{uuid.uuid4().hex}"
    sid = await bw.launch("outside", ["sh", "-c", "sleep 120; true", marker])
    await wait_for_marker(marker)
    # A shell's forked child shows the shell's command line until it execs: take the parent.
    roots = marker_roots(marker)
    assert len(roots) == 1
    os.kill(roots[0], signal.SIGKILL)  # the main shell this test started
    assert (await bw.events.wait_exit(sid))[0] == 128 + 9


# ----------------------------------------------------------------------------- volumes and isolation


async def test_a_sandbox_sees_nothing_of_another_sandbox_or_of_the_host(bw: Harness, tmp_path: Path) -> None:
    one = await bw.launch("iso-one")
    two = await bw.launch("iso-two")
    await bw.sh(one, "echo secret > /tmp/secret; echo secret > /workspace/secret; echo secret > ~/secret")
    out, _, _ = await bw.sh(two, "ls -A /tmp /workspace /root")
    assert "secret" not in out
    # Neither the server's data dir nor the other sandbox's work dir, by host path.
    data_dir = bw.root
    for host_path in (data_dir, bw.scratch(one), tmp_path):
        assert (await bw.sh(two, f"test -e {host_path}"))[2] == 1, host_path
    # Not the host's /root or /home either.
    host_root_entries = [entry.name for entry in Path("/root").iterdir()] if os.access("/root", os.R_OK) else []
    listing = (await bw.sh(two, "ls -A /root"))[0].split()
    assert not set(host_root_entries) & set(listing)
    assert (await bw.sh(two, "test -e /home"))[2] == 1
    # Host secrets under /etc are masked.
    if Path("/etc/shadow").exists():
        assert (await bw.sh(two, "cat /etc/shadow"))[0] == ""
    # System directories are read-only.
    _, err, code = await bw.sh(two, "touch /usr/porter-test-file")
    assert code != 0 and "Read-only" in err


async def test_pid_namespace_shows_only_the_sandboxs_own_processes(bw: Harness) -> None:
    sid = await bw.launch("pids", ["sh", "-c", "sleep 120; true"])
    out, _, _ = await bw.sh(sid, "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done")
    commands = [line for line in out.splitlines() if line.strip()]
    assert any("sleep 120" in command for command in commands)
    assert not any("pytest" in command for command in commands)
    assert len(commands) <= 6, commands
    # The agent is PID 1, so a kill from inside cannot take the sandbox down.
    assert (await bw.sh(sid, "kill -9 1; echo still-here"))[0] == "still-here\n"


async def test_no_capabilities_and_no_new_privileges(bw: Harness) -> None:
    sid = await bw.launch("caps")
    out, _, _ = await bw.sh(sid, "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status")
    assert "CapEff:\t0000000000000000" in out and "NoNewPrivs:\t1" in out
    assert (await bw.sh(sid, "mount -t tmpfs none /mnt 2>&1"))[2] != 0


# ----------------------------------------------------------------------------- limits


async def test_memory_limit_kills_a_hog(bw: Harness) -> None:
    hog = "b = b'x' * (256 * 1024 * 1024); print(len(b))"
    sid = await bw.launch("hog", memory_bytes=64 * 1024 * 1024)
    small = await bw.runtime.exec(sid, ["python3", "-c", "b = b'x' * (8 * 1024 * 1024); print(len(b))"], "small", {})
    assert small.exit_code == 0
    result = await bw.runtime.exec(sid, ["python3", "-c", hog], "hog", {})
    assert result.exit_code != 0 and result.stdout == ""
    if bw.runtime.memory_mechanism.startswith("cgroup"):
        assert result.exit_code == 128 + 9
        assert "memory limit" in result.stderr
    else:
        assert "MemoryError" in result.stderr
    # The sandbox survives a hog in an exec.
    assert (await bw.sh(sid, "echo fine"))[0] == "fine\n"


async def test_memory_limit_on_the_main_process_is_reported_as_the_reason(bw: Harness) -> None:
    hog = "b = b'x' * (256 * 1024 * 1024); print(len(b))"
    sid = await bw.launch("main-hog", ["python3", "-c", hog], memory_bytes=64 * 1024 * 1024)
    code, reason = await bw.events.wait_exit(sid)
    assert code != 0
    if bw.runtime.memory_mechanism.startswith("cgroup"):
        assert code == 128 + 9
        assert reason is not None and "memory limit" in reason


# ----------------------------------------------------------------------------- server death


KILLED_SERVER = """
import asyncio, sys
from pathlib import Path
from typing import Any
from porter_sandbox_server.runtimes.process import ProcessRuntime
from porter_sandbox_server.runtimes.base import LaunchSpec

class Quiet:
    def log(self, *args): pass
    def exited(self, *args): pass

async def main(isolation, marker, root):
    runtime = ProcessRuntime(Path(root), isolation)
    await runtime.open(Quiet())
    for n, command in enumerate((["sh", "-c", "sleep 300; true", marker], None)):
        spec = LaunchSpec(sandbox_id=f"sb{n}", name=f"n{n}", image="x", command=command, args=None, env={}, tags={})
        await runtime.launch(spec)
        await runtime.exec(f"sb{n}", ["sh", "-c", f"sh -c 'sleep 300; true' {marker} & true"], "bg", {})
    print("ready", flush=True)
    await asyncio.sleep(300)

asyncio.run(main(*sys.argv[1:]))
"""


def marker_pids(marker: str, exclude: Sequence[int] = ()) -> list[int]:
    """Pids of processes whose command line holds ``marker`` (processes this test started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), *exclude):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def marker_roots(marker: str) -> list[int]:
    """Of the processes holding ``marker``, those whose parent does not hold it."""
    pids = marker_pids(marker)
    roots = []
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            parent = int(stat.rpartition(")")[2].split()[1])
            if parent not in pids:
                roots.append(pid)
    return roots


async def wait_for_marker(marker: str, count: int = 1, exclude: Sequence[int] = ()) -> list[int]:
    """Wait (bounded) until ``count`` processes hold ``marker``; answer their pids."""
    for _ in range(500):
        pids = marker_pids(marker, exclude)
        if len(pids) >= count:
            return pids
        await asyncio.sleep(0.01)
    raise AssertionError(f"no process with {marker} appeared")


@pytest.mark.parametrize("isolation", ["bwrap", "none"])
async def test_a_server_killed_outright_leaves_no_sandbox_process(isolation: str, tmp_path: Path) -> None:
    if isolation == "bwrap":
        require_bwrap()
    marker = f"porter-test-marker-{uuid.uuid4().hex}"
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(KILLED_SERVER))
    server = subprocess.Popen(
        [sys.executable, str(script), isolation, marker, str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == "ready\n"
        # The main shell, plus a background shell from each exec.
        before = await wait_for_marker(marker, 3, exclude=[server.pid])
        assert len(before) >= 3
    finally:
        server.kill()
        server.wait()
        server.stdout.close()  # type: ignore[union-attr]
    left: list[int] = []
    for _ in range(500):
        left = marker_pids(marker, exclude=[server.pid])
        if not left:
            break
        await asyncio.sleep(0.01)
    for pid in left:  # started by this test: do not leave them behind even when failing
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert left == [], "sandbox processes outlived the server"


# ----------------------------------------------------------------------------- without bubblewrap


@pytest.mark.parametrize("isolation", ["auto", "bwrap"])
async def test_without_bwrap_on_path_auto_and_bwrap_refuse_with_the_install_hint(
    isolation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no bwrap here
    runtime = ProcessRuntime(tmp_path / "data", isolation)
    with pytest.raises(RuntimeUnavailable) as raised:
        await runtime.open(Recorder())
    assert "apt-get install bubblewrap" in str(raised.value)
    assert "--isolation none" in str(raised.value)


async def test_a_bwrap_that_cannot_make_namespaces_refuses_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with pytest.raises(RuntimeUnavailable) as raised:
        await ProcessRuntime(tmp_path / "data", "auto").open(Recorder())
    assert "No permissions to create new namespace" in str(raised.value)
    assert "--isolation none" in str(raised.value)


async def test_isolation_none_runs_without_bwrap_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    harness = await open_harness("none", tmp_path)
    try:
        assert "UNISOLATED" in caplog.text
        sid = await harness.launch("plain", env={"GREETING": "hi"})
        out, _, code = await harness.sh(sid, "echo $GREETING > note; pwd; cat note")
        work = harness.scratch(sid)
        assert code == 0
        assert out.splitlines() == [str(work / "workspace"), "hi"]
        assert (await harness.runtime.exec(sid, ["nope-not-here"], "x", {})).exit_code == 127
    finally:
        await harness.runtime.close(stop_sandboxes=True)


async def test_isolation_none_main_process_exit_and_stop(unisolated: Harness) -> None:
    sid = await unisolated.launch("none-main", ["sh", "-c", "echo done; exit 4"])
    assert await unisolated.events.wait_exit(sid) == (4, None)
    assert unisolated.events.of(sid, "", "stdout") == ["done"]
    marker = f"porter-test-marker-{uuid.uuid4().hex}"
    idle = await unisolated.launch("none-idle")
    await unisolated.runtime.exec(idle, ["sh", "-c", f"sh -c 'sleep 120; true' {marker} & true"], "bg", {})
    await wait_for_marker(marker)
    await unisolated.runtime.stop(idle)
    left = marker_pids(marker)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert left == []


async def test_isolation_none_cannot_mount_volumes(unisolated: Harness) -> None:
    await unisolated.volume("vol-none")
    with pytest.raises(LaunchFailed, match="isolation none"):
        await unisolated.launch("none-vol", mounts={"/data": "vol-none"})


# ----------------------------------------------------------------------------- more edges


async def test_stop_returns_once_every_process_of_the_sandbox_has_ended(bw: Harness) -> None:
    marker = f"porter-test-marker-{uuid.uuid4().hex}"
    sid = await bw.launch("stop-all", ["sh", "-c", "sleep 120; true", marker])
    await bw.runtime.exec(sid, ["sh", "-c", f"sh -c 'sleep 120; true' {marker} & true"], "bg", {})
    await wait_for_marker(marker, 2)
    await bw.runtime.stop(sid)
    left = marker_pids(marker)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert left == []
    assert sid not in bw.events.ends


async def test_an_exec_running_when_the_sandbox_ends_raises_sandbox_gone(bw: Harness) -> None:
    sid = await bw.launch("short-lived", ["sh", "-c", "sleep 0.3"])
    with pytest.raises(SandboxGone):
        await bw.runtime.exec(sid, ["sleep", "30"], "long", {})
    assert await bw.events.wait_exit(sid) == (0, None)


async def test_launch_refuses_bad_mounts(bw: Harness) -> None:
    with pytest.raises(LaunchFailed, match="does not exist"):
        await bw.launch("no-volume-dir", mounts={"/data": "vol-missing"})
    await bw.volume("vol-system")
    with pytest.raises(LaunchFailed, match="system directory"):
        await bw.launch("system-mount", mounts={"/usr/local/data": "vol-system"})


async def test_a_command_of_a_megabyte_runs(bw: Harness) -> None:
    sid = await bw.launch("big-command")
    words = ["w" * 100_000 for _ in range(10)]
    result = await bw.runtime.exec(sid, ["sh", "-c", 'echo "$@" | wc -c', "sh", *words], "ex", {"BIG": "v" * 100_000})
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) == 10 * 100_000 + 10


async def test_nul_in_a_command_is_refused(bw: Harness) -> None:
    sid = await bw.launch("nul")
    with pytest.raises(CommandRefused):
        await bw.runtime.exec(sid, ["echo", "a\0b"], "ex", {})
    assert (await bw.sh(sid, "echo still-fine"))[0] == "still-fine\n"


async def test_limits_put_the_sandbox_in_its_own_cgroups(bw: Harness) -> None:
    cgroups = bw.runtime._cgroups
    if cgroups is None or cgroups.memory is None or cgroups.cpu is None:
        pytest.skip("this host lets the server create no memory and CPU cgroups")
    spec = bw.spec("cgroups", memory_bytes=128 * 1024 * 1024)
    spec = dataclasses.replace(spec, cpu_millis=250)
    await bw.runtime.launch(spec)
    out, _, _ = await bw.sh(spec.sandbox_id, "cat /proc/self/cgroup")
    assert out.count("porter-sandbox-") >= 2, out
    memory_dirs = list(cgroups.memory.glob(f"porter-sandbox-{os.getpid()}-sb-cgroups"))
    cpu_dirs = list(cgroups.cpu.glob(f"porter-sandbox-{os.getpid()}-sb-cgroups"))
    assert len(memory_dirs) == 1 and len(cpu_dirs) == 1
    if cgroups.version == 1:
        assert (memory_dirs[0] / "memory.limit_in_bytes").read_text().strip() == str(128 * 1024 * 1024)
        assert (cpu_dirs[0] / "cpu.cfs_quota_us").read_text().strip() == "25000"
    await bw.runtime.stop(spec.sandbox_id)
    assert not memory_dirs[0].exists() and not cpu_dirs[0].exists()


async def test_memory_limit_falls_back_to_rlimit_as_without_cgroups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_bwrap()
    monkeypatch.setattr(process_runtime.Cgroups, "discover", classmethod(lambda cls: None))
    harness = await open_harness("bwrap", tmp_path)
    try:
        assert harness.runtime.memory_mechanism == "RLIMIT_AS"
        sid = await harness.launch("rlimit", memory_bytes=128 * 1024 * 1024)
        hog = "b = b'x' * (512 * 1024 * 1024)"
        result = await harness.runtime.exec(sid, ["python3", "-c", hog], "hog", {})
        assert result.exit_code == 1 and "MemoryError" in result.stderr
        assert (await harness.sh(sid, "python3 -c 'print(len(bytes(8 << 20)))'"))[0] == f"{8 << 20}\n"
    finally:
        await harness.runtime.close(stop_sandboxes=True)


def test_the_data_dir_is_hidden_when_a_system_directory_holds_it() -> None:
    from porter_sandbox_server.runtimes.process.bwrap import hidden_dirs

    if not Path("/opt").is_dir() or Path("/opt").is_symlink():
        pytest.skip("no /opt directory here")
    assert hidden_dirs([Path("/opt/porter/data/sandboxes/sb-1")]) == [Path("/opt/porter")]
    assert hidden_dirs([Path("/tmp/porter/data")]) == []


# ----------------------------------------------------------------------------- uvloop


async def uvloop_scenario(isolation: str, tmp_path: Path) -> None:
    harness = await open_harness(isolation, tmp_path)
    try:
        sid = await harness.launch("uv")
        result = await harness.runtime.exec(sid, ["sh", "-c", "echo out; echo err >&2; exit 2"], "e", {})
        assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 2)
        assert (await harness.runtime.exec(sid, ["no-such-program"], "m", {})).exit_code == 127
        big = await harness.runtime.exec(sid, ["python3", "-c", "print('x' * 999_999)"], "b", {})
        assert len(big.stdout) == 1_000_000
        main = await harness.launch("uv-main", ["sh", "-c", "echo main; exit 6"])
        assert await harness.events.wait_exit(main) == (6, None)
        assert harness.events.of(main, "", "stdout") == ["main"]
        await harness.runtime.stop(sid)
        with pytest.raises(SandboxGone):
            await harness.sh(sid, "true")
    finally:
        await harness.runtime.close(stop_sandboxes=True)


@pytest.mark.parametrize("isolation", ["bwrap", "none"])
def test_the_runtime_works_on_uvloop_as_the_server_runs_it(isolation: str, tmp_path: Path) -> None:
    uvloop = pytest.importorskip("uvloop")
    if isolation == "bwrap":
        require_bwrap()
    uvloop.run(uvloop_scenario(isolation, tmp_path))


async def test_a_fork_bomb_meets_the_sandboxs_pids_limit(bw: Harness) -> None:
    spec = dataclasses.replace(bw.spec("forks"), pids_max=16)
    await bw.runtime.launch(spec)
    _, err, _ = await bw.sh(spec.sandbox_id, "for i in $(seq 40); do sleep 30 & done; echo spawned")
    assert "fork" in err.lower(), err
    assert (await bw.sh(spec.sandbox_id, "echo alive"))[0] == "alive\n"


async def test_a_sandbox_bubblewrap_refuses_fails_with_its_message(
    bw: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = process_runtime.bwrap_argv

    def with_a_missing_source(*args: Any, **kwargs: Any) -> list[str]:
        argv = real(*args, **kwargs)
        at = argv.index("--chdir")
        return [*argv[:at], "--bind", "/porter-test-no-such-dir", "/x", *argv[at:]]

    monkeypatch.setattr(process_runtime, "bwrap_argv", with_a_missing_source)
    with pytest.raises(LaunchFailed, match="porter-test-no-such-dir"):
        await bw.launch("refused", ["true"])
    assert "sb-refused" not in bw.events.ends
    # A keep-alive sandbox runs as soon as its PID 1 exists, so bwrap's refusal may come after
    # launch returned: then it is the sandbox's exit, with bwrap's message as the reason.
    try:
        await bw.launch("refused-idle")
    except LaunchFailed as error:
        assert "porter-test-no-such-dir" in str(error)
    else:
        code, reason = await bw.events.wait_exit("sb-refused-idle")
        assert code != 0 and reason is not None and "porter-test-no-such-dir" in reason


async def test_a_sandbox_with_volumes_whose_mount_fails_fails_its_launch(
    bw: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keep-alive sandbox with volumes runs only once bwrap made its mounts: one it could not make is the
    launch's failure (launch_failed, with bwrap's word), never a sandbox running without it."""
    real = process_runtime.bwrap_argv

    def with_a_failing_mount(*args: Any, **kwargs: Any) -> list[str]:
        argv = real(*args, **kwargs)
        at = argv.index("--chdir")
        return [*argv[:at], "--bind", "/porter-test-no-such-volume", "/data/never", *argv[at:]]

    await bw.volume("vol-mounted")
    monkeypatch.setattr(process_runtime, "bwrap_argv", with_a_failing_mount)
    with pytest.raises(LaunchFailed, match="porter-test-no-such-volume"):
        await bw.launch("mount-fails", mounts={"/data": "vol-mounted"})
    assert "sb-mount-fails" not in bw.events.ends


@pytest.mark.parametrize("isolation", ["bwrap", "none"])
async def test_python_runs_as_images_name_it(isolation: str, tmp_path: Path) -> None:
    """`python` works in a sandbox even on a host that has only `python3`."""
    if isolation == "bwrap":
        require_bwrap()
    harness = await open_harness(isolation, tmp_path)
    try:
        sid = await harness.launch(f"py-{isolation}")
        result = await harness.runtime.exec(sid, ["python", "-c", "print('hi')"], "ex-py", {})
        assert (result.stdout, result.exit_code) == ("hi\n", 0), result.stderr
    finally:
        await harness.runtime.close(stop_sandboxes=True)

"""Scale measures for the process runtime: a fan-out with per-phase timestamps, and many idle sandboxes.

    .venv/bin/python scripts/bench_scale.py fanout 100 250 500   # one fan-out of each size, phases printed
    .venv/bin/python scripts/bench_scale.py idle 1000             # what 1,000 idle sandboxes cost

``scripts/bench.py`` imports these for its ``scale`` rows; run alone, this
prints what it measured as JSON. Each fan-out is bounded in time
(``FAN_OUT_LIMIT_S``) and each idle hold in count and time; every sandbox a
run made is terminated before it returns, including those whose create
timed out (found by the run's name prefix).

What the profiles said (2 cores, December 2026). The cliff past a few hundred
sandboxes (500 in 72 s, 100 in 2.3 s) was the client: httpcore's pool scans
every queued request against every connection whenever a request starts or
ends, so a thousand requests queued behind 100 connections cost quadratic
CPU (11 s of the client's for 300 sandboxes, 1.5 s of the server's);
``porter_sandbox._pool`` now queues them in front of the pool. A few POSTs
also failed on connections the server closed at the instant the client
reused them (both sides kept idle connections 5 s); the server now keeps
them 8 s. Since then the cost per sandbox is flat (about 20 ms of wall time
from 100 to 1,000) and the machine's cores are saturated: per sandbox about
5 ms of the server's CPU, 6 of the client's, and the rest bwrap and the
agent's interpreter starting, whose floor (``launch_floor_s``: 1,000 bare
``bwrap … python3 -I -S``) alone is about 5.3 s here. A root server's
sandbox also gets a network: with only slirp4netns added to each bare launch
(``network_launch_floor_s``: no firewall, resolver or relay, no API call),
1,000 take about 8.5 s, past the fan-out's 8 s target before the server or
the client has done anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from porter_sandbox.testing import LocalServer

IMAGE = "python:3.12-slim"
#: The longest one fan-out may take, whatever its size.
FAN_OUT_LIMIT_S = 180.0
#: The longest creating (or cleaning up) the idle sandboxes may take.
IDLE_LIMIT_S = 300.0
#: How many creates the idle run has in flight at once (it measures holding, not creating).
IDLE_CREATE_CONCURRENCY = 50
PHASES = ("create", "exec", "terminate")


@dataclass
class FanOut:
    """One fan-out of ``size`` create + exec + terminate through one ``AsyncPorter``."""

    size: int
    wall_s: float = 0.0
    failures: int = 0
    first_error: str = ""
    #: Per phase: the median and p95 of each sandbox's time in it, in ms.
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    #: When the last sandbox finished each phase, in s after the start.
    phase_done_s: dict[str, float] = field(default_factory=dict)
    server_cpu_s: float = 0.0
    #: CPU time of this (the client's) process during the fan-out.
    client_cpu_s: float = 0.0
    #: CPU time the whole machine spent meanwhile (the sandboxes' bwrap and agents, the kernel, and
    #: anything else running on it): beside the wall time, how busy its cores were.
    machine_cpu_s: float = 0.0

    @property
    def per_sandbox_ms(self) -> float:
        """Wall time over size: flat when the cost per sandbox is."""
        return self.wall_s * 1000 / self.size


def _pct(samples: Sequence[float], pct: int) -> float:
    ordered = sorted(samples)
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[rank - 1]


def machine_busy_s() -> float:
    """The CPU time all cores of the machine have spent busy since boot, in seconds."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def server_cpu_s(pid: int) -> float:
    """The CPU time (user + system) the server process has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _sweep(server: LocalServer, prefix: str) -> None:
    """Terminate every live sandbox whose name starts with ``prefix`` (what a timed-out create left behind)."""
    async with server.async_client() as porter:
        live = [s async for s in porter.sandboxes.iter(search=prefix) if not s.is_terminal]
        await _terminate(live)


async def _terminate(sandboxes: Sequence[Any]) -> None:
    """Terminate ``sandboxes``, a bounded number at a time and within ``IDLE_LIMIT_S``, ignoring failures."""
    gate = asyncio.Semaphore(IDLE_CREATE_CONCURRENCY)

    async def end(sandbox: Any) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await sandbox.terminate()

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(end(s) for s in sandboxes)), timeout=IDLE_LIMIT_S)


async def fan_out(server: LocalServer, size: int, shell: Sequence[str] = ("sh", "-c")) -> FanOut:
    """Create, exec in and terminate ``size`` sandboxes at once; time each phase of each."""
    result = FanOut(size)
    prefix = f"scale-{uuid.uuid4().hex[:6]}-"
    marks: list[list[float]] = [[0.0] * (len(PHASES) + 1) for _ in range(size)]
    cpu_before = server_cpu_s(server.pid)
    client_before = time.process_time()
    machine_before = machine_busy_s()
    async with server.async_client() as porter:

        async def one(index: int) -> None:
            mark = marks[index]
            mark[0] = time.perf_counter()
            sandbox = await porter.sandboxes.create(image=IMAGE, name=f"{prefix}{index}")
            mark[1] = time.perf_counter()
            try:
                answer = await sandbox.exec([*shell, f"echo {index}"])
                mark[2] = time.perf_counter()
                if answer.exit_code != 0 or answer.stdout.strip() != str(index):
                    raise RuntimeError(f"exec answered {answer.exit_code}: {answer.stdout!r} {answer.stderr!r}")
            finally:
                await sandbox.terminate()
                mark[3] = time.perf_counter()

        start = time.perf_counter()
        tasks = [asyncio.ensure_future(one(i)) for i in range(size)]
        done, pending = await asyncio.wait(tasks, timeout=FAN_OUT_LIMIT_S)
        result.wall_s = time.perf_counter() - start
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        errors = [t.exception() for t in done if t.exception() is not None]
        errors += [asyncio.TimeoutError(f"not done within {FAN_OUT_LIMIT_S:.0f} s")] * len(pending)
        result.failures = len(errors)
        if errors:
            result.first_error = f"{type(errors[0]).__name__}: {errors[0]}"[:200]
    result.server_cpu_s = round(server_cpu_s(server.pid) - cpu_before, 2)
    result.client_cpu_s = round(time.process_time() - client_before, 2)
    result.machine_cpu_s = round(machine_busy_s() - machine_before, 2)
    if result.failures:
        await _sweep(server, prefix)
    complete = [m for m in marks if all(m)]
    for number, phase in enumerate(PHASES, start=1):
        spans = [(m[number] - m[number - 1]) * 1000 for m in complete]
        if spans:
            result.phases[phase] = {"median": round(statistics.median(spans), 1), "p95": round(_pct(spans, 95), 1)}
            result.phase_done_s[phase] = round(max(m[number] for m in complete) - start, 2)
    return result


@dataclass
class Idle:
    """What ``size`` idle sandboxes cost one server, and how its API answers meanwhile."""

    size: int
    live: int = 0
    failures: int = 0
    first_error: str = ""
    create_s: float = 0.0
    #: PSS of every process under the server (bwrap, agents) per sandbox, in MiB.
    pss_per_sandbox_mib: float = 0.0
    #: The server's own resident growth per sandbox, in KiB.
    server_rss_per_sandbox_kib: float = 0.0
    fds_per_sandbox: float = 0.0
    threads: int = 0
    processes_per_sandbox: float = 0.0
    #: Latencies of ``GET /v1/sandbox/{id}`` (a live one, round robin) while they idle, in ms.
    api_ms: list[float] = field(default_factory=list)
    api_p50: float = 0.0
    api_p99: float = 0.0
    api_worst: float = 0.0
    #: The same probe while only the first sandbox was live: the API's own floor on this machine.
    floor_api_ms: list[float] = field(default_factory=list)


def _descendants(root: int) -> list[int]:
    """Every process under ``root`` (not ``root`` itself), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _rollup_kib(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    return 0


def _status_value(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


def _server_footprint(pid: int) -> tuple[int, int]:
    """The server's resident KiB and open fds."""
    return _status_value(pid, "VmRSS"), len(os.listdir(f"/proc/{pid}/fd"))


async def _create_idle(porter: Any, size: int, prefix: str, result: Idle) -> list[Any]:
    gate = asyncio.Semaphore(IDLE_CREATE_CONCURRENCY)
    errors: list[BaseException] = []
    sandboxes: list[Any] = []

    async def one(index: int) -> None:
        async with gate:
            try:
                sandboxes.append(await porter.sandboxes.create(image=IMAGE, name=f"{prefix}{index}"))
            except Exception as error:  # counted: a failure of the run, not of the bench
                errors.append(error)

    start = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(size))), timeout=IDLE_LIMIT_S)
    except asyncio.TimeoutError as error:
        errors.append(error)
    result.create_s += round(time.perf_counter() - start, 2)
    result.failures += size - len(sandboxes)
    if errors and not result.first_error:
        result.first_error = f"{type(errors[0]).__name__}: {errors[0]}"[:200]
    return sandboxes


def _probe_api(url: str, ids: Sequence[str], seconds: float, latencies: list[float]) -> None:
    """``GET /v1/sandbox/{id}`` round robin at about 50 a second for ``seconds`` (one client, one thread)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=30) as http:
        for sandbox_id in (ids[i % len(ids)] for i in range(int(seconds * 200))):
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            http.get(f"/v1/sandbox/{sandbox_id}").raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)


def idle(server: LocalServer, size: int, probe_s: float = 10.0, settle_s: float = 3.0) -> Idle:
    """Hold ``size`` idle sandboxes on ``server``; measure their memory, fds and the API's latency; end them."""
    return asyncio.run(_idle(server, size, probe_s, settle_s))


async def _idle(server: LocalServer, size: int, probe_s: float, settle_s: float) -> Idle:
    result = Idle(size)
    prefix = f"idle-{uuid.uuid4().hex[:6]}-"
    async with server.async_client() as porter:
        await porter.health()  # a warm server: its baseline counts no first-request costs
        rss_before, fds_before = _server_footprint(server.pid)
        processes_before = len(_descendants(server.pid))
        sandboxes: list[Any] = []
        try:
            sandboxes = await _create_idle(porter, 1, prefix, result)
            if sandboxes:
                await asyncio.to_thread(_probe_api, server.url, [sandboxes[0].id], probe_s, result.floor_api_ms)
            sandboxes += await _create_idle(porter, size - 1, f"{prefix}more-", result)
            result.live = len(sandboxes)
            await asyncio.sleep(settle_s)  # the agents' pythons have started and gone quiet
            if sandboxes:
                under = _descendants(server.pid)
                pss_kib = sum(_rollup_kib(pid, "Pss") for pid in under)
                rss_after, fds_after = _server_footprint(server.pid)
                result.pss_per_sandbox_mib = round(pss_kib / 1024 / len(sandboxes), 3)
                result.server_rss_per_sandbox_kib = round((rss_after - rss_before) / len(sandboxes), 1)
                result.fds_per_sandbox = round((fds_after - fds_before) / len(sandboxes), 2)
                result.processes_per_sandbox = round((len(under) - processes_before) / len(sandboxes), 2)
                result.threads = _status_value(server.pid, "Threads")
                ids = [s.id for s in sandboxes]
                # A thread of its own: this loop stays out of the probe's way.
                await asyncio.to_thread(_probe_api, server.url, ids, probe_s, result.api_ms)
                if result.api_ms:
                    result.api_p50 = round(statistics.median(result.api_ms), 2)
                    result.api_p99 = round(_pct(result.api_ms, 99), 2)
                    result.api_worst = round(max(result.api_ms), 2)
        finally:
            await _terminate(sandboxes)
    await _sweep(server, prefix)
    return result


#: How many floor launches run at once: enough to keep both cores of this machine busy.
FLOOR_CONCURRENCY = 8


def launch_floor_s(argv: Sequence[str], pass_fds: Sequence[int], count: int) -> float:
    """Seconds to run ``argv`` (a bare bwrap running the agent's interpreter) ``count`` times, a few at once."""

    def run(_: int) -> None:
        subprocess.run(argv, check=True, capture_output=True, pass_fds=pass_fds, timeout=60)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=FLOOR_CONCURRENCY) as threads:
        list(threads.map(run, range(count)))
    return time.perf_counter() - start


def _child_pid(info_r: int) -> int:
    """The sandbox's pid from bwrap's ``--info-fd`` (JSON, written at once); closes ``info_r``."""
    said = b""
    try:
        while chunk := os.read(info_r, 4096):
            said += chunk
            with contextlib.suppress(ValueError):
                return int(json.loads(said)["child-pid"])
    finally:
        os.close(info_r)
    raise RuntimeError(f"bwrap did not say its child's pid: {said!r}")


#: slirp4netns as the process runtime starts it for each sandbox of a root server (``network.stack``).
SLIRP_ARGS = ("--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp")
_CLONE_NEWNET = 0x40000000


def network_launch_floor_s(argv_for: Callable[[int], list[str]], slirp4netns: str, count: int) -> float:
    """Seconds for ``count`` bare launches that each get a network as a root server's sandbox does, a few at once.

    ``argv_for(fd)`` is the runtime's bwrap (its own network namespace)
    starting the agent's interpreter, which waits on stdin, and reporting its
    pid on ``fd``. Once bwrap has brought the namespace's loopback up,
    slirp4netns connects it (as the runtime starts it, less the firewall, the
    resolver and the relay); when it is ready, the launch ends.
    """
    from porter_sandbox_server.runtimes.process.network.stack import wait_loopback_up

    libc = ctypes.CDLL(None, use_errno=True)

    def loopback_up(pid: int) -> None:
        def inside() -> None:  # on a thread of its own: it joins the namespace for good
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            wait_loopback_up()

        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(inside).result()

    def run(_: int) -> None:
        info_r, info_w = os.pipe2(os.O_CLOEXEC)
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        sandbox = subprocess.Popen(
            argv_for(info_w), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(info_w,)
        )
        slirp: subprocess.Popen[bytes] | None = None
        try:
            os.close(info_w)
            pid = _child_pid(info_r)
            loopback_up(pid)
            slirp_argv = [slirp4netns, *SLIRP_ARGS, f"--ready-fd={ready_w}", str(pid), "tap0"]
            slirp = subprocess.Popen(slirp_argv, pass_fds=(ready_w,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.close(ready_w)
            ready_w = -1
            if os.read(ready_r, 1) != b"1":
                raise RuntimeError(f"slirp4netns did not start: {slirp.communicate(timeout=10)[1]!r}")
        finally:
            os.close(ready_r)
            if ready_w >= 0:
                os.close(ready_w)
            assert sandbox.stdin is not None
            sandbox.stdin.close()
            sandbox.wait(60)
            if slirp is not None:
                slirp.kill()
                slirp.communicate(timeout=60)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=FLOOR_CONCURRENCY) as threads:
        list(threads.map(run, range(count)))
    return time.perf_counter() - start


def idle_python_pss_mib(python: str, count: int = 10) -> float:
    """The PSS of a bare idle ``python -I -S`` (the agent's interpreter, nothing imported), in MiB: the floor."""
    children = [
        subprocess.Popen([python, "-I", "-S", "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        for _ in range(count)
    ]
    try:
        time.sleep(1.0)
        return sum(_rollup_kib(child.pid, "Pss") for child in children) / 1024 / count
    finally:
        for child in children:
            child.kill()
            child.wait(10)


def main(argv: Sequence[str]) -> int:
    """``fanout N...`` or ``idle N``: measure on a fresh local server, print JSON."""
    what, sizes = argv[0], [int(a) for a in argv[1:]]
    with LocalServer(runtime="process") as server:
        print(f"server pid {server.pid}, log {server.log_path}", file=sys.stderr, flush=True)
        for size in sizes:
            if what == "fanout":
                measured: Any = asyncio.run(fan_out(server, size))
                report = {**asdict(measured), "per_sandbox_ms": round(measured.per_sandbox_ms, 2)}
            else:
                measured = idle(server, size)
                report = {k: v for k, v in asdict(measured).items() if not k.endswith("api_ms")}
            print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

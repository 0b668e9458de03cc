"""Measure what users of porter-sandbox feel, beside the limits of this machine.

    .venv/bin/python scripts/bench.py            # what `make bench` runs
    .venv/bin/python scripts/bench.py --quick    # a few repetitions: proves it runs, measures nothing

Starts its own local server(s) on a free loopback port (``porter_sandbox.testing``),
runs the compared things interleaved (A B A B ...) so that a busy moment of
this shared machine hits both sides alike, and prints one Markdown table of
medians and p95s, each row beside its target from ``design.md`` and whether it
is met. The same numbers go to ``bench-results.json``.

Rows: the SDK's cost per call (sync and async ``sandbox.refresh()``) beside
Porter's published client 0.1.68 and a raw httpx GET, each client in a process
of its own (``scripts/bench_client.py``), taking turns call by call,
the process runtime's time to first command, create -> running and exec round
trip beside launching ``bwrap ... true`` and ``subprocess.run(["true"])``, a
fan-out of 100 sandboxes through ``AsyncPorter``, the same for the Docker
runtime where an engine answers (``DOCKER_HOST``; image
``porter-test/busybox:latest`` from ``scripts/ci-docker.sh``) beside
``docker run --rm`` / ``docker exec``, ``import porter_sandbox`` in a fresh
interpreter beside ``import httpx``, ``/healthz`` latency and the server's peak memory while one
sandbox logs as fast as it can and another runs an exec printing 200 MB, and on
each runtime a snapshot of a sandbox holding 100 MB of
files (create -> ready, and create from it -> first command, over plain
HTTP) beside copying those files with ``cp -a`` (process) or committing the
container with ``docker commit`` (docker), and what sampling metrics costs
the server at 100 live sandboxes on each runtime (its CPU time with sampling
every 0.5 s, less the same server's without sampling, per sampling), and the
Kubernetes runtime's time to first command, create -> running and exec round
trip where ``KUBECONFIG`` names a cluster with the test images (see
``.ci/run``), beside ``kubectl exec``; and on
each runtime a streamed exec: the time to its first byte of stdout beside a
plain exec's round trip of the same command, and the MB/s of stdout it carries
through the server (200 MB) beside a plain exec's of 16 MB, its answer's cap;
and at scale (``bench_scale.py``), on a server of its own: fan-outs of 100,
250, 500 and 1,000 sandboxes (create + exec + terminate through one
``AsyncPorter``), each after as many bare ``bwrap … python3 -I -S`` launches
(the floor), whether the cost per sandbox stays flat, and with 1,000 idle
sandboxes live the memory (PSS) each costs beside a bare idle interpreter, and
``GET /v1/sandbox/{id}``'s latency beside the same with one sandbox live.

Every loop is bounded in count and time; the only processes it ends are the
servers, the bench clients and the one container it started itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bench_scale  # beside this script: its folder leads sys.path
import httpx

from porter_sandbox.testing import LocalServer

if TYPE_CHECKING:
    from porter_sandbox import Porter

ROOT = Path(__file__).resolve().parents[1]
DOCKER_IMAGE = "porter-test/busybox:latest"
PROCESS_IMAGE = "python:3.12-slim"
#: The longest any single wait in the benchmark may take (a sandbox reaching running, say).
WAIT_LIMIT_S = 60.0
#: Between two status polls while waiting for running: the measure's resolution.
POLL_PAUSE_S = 0.001
TERMINAL_PHASES = {"succeeded", "failed", "terminated"}
PROCESS_LIMITS = ("`bwrap … true`, bare", '`subprocess.run(["true"])`')
IMPORT_LABEL = "`import porter_sandbox` (fresh interpreter, only the SDK's dependencies importable)"
IMPORT_LIMIT_LABEL = "`import httpx` (the same)"
DOCKER_LIMITS = ("`docker run --rm --network none … true` (CLI)", "`docker exec … true` (CLI)")
KUBE_LIMITS = ("a bare pod's start (not measured: the cluster's own)", "`kubectl exec … true` (CLI)")
#: Where the Kubernetes rows run: the test cluster's options (see tests/kube_support.py).
KUBE_NAMESPACE = "porter-bench"
KUBE_HELPER_IMAGE = "porter-sandbox/server:dev"
KUBE_ARGS = [
    "--kube-namespace",
    KUBE_NAMESPACE,
    "--kube-image-pull-policy",
    "Never",
    "--kube-helper-image",
    KUBE_HELPER_IMAGE,
]


@dataclass
class Row:
    """One line of the table: a measure, its statistics, its target and whether it is met."""

    id: str
    label: str
    unit: str  # "ms", "s", "%", "x" (a ratio), "MiB" or "MB/s"
    median: float | None = None
    p95: float | None = None
    n: int = 0
    target: str = ""
    #: True / False against the target; None for a limit or a row without a target.
    met: bool | None = None
    note: str = ""
    skipped: str = ""
    samples: list[float] = field(default_factory=list)


@dataclass
class Plan:
    """How many repetitions of each kind this run makes."""

    sdk_calls: int
    runtime_reps: int
    exec_per_rep: int
    fanout_size: int
    fanout_reps: int
    docker_reps: int
    docker_fanout_size: int
    import_reps: int
    snapshot_reps: int
    #: How much a snapshotted sandbox holds, in MB.
    snapshot_mb: int
    #: How many live sandboxes the metrics sampler samples, and how many 5 s windows it is measured over.
    sampled_sandboxes: int
    sampling_windows: int
    #: What the flood's exec prints, in bytes.
    flood_bytes: int
    kube_reps: int
    #: Streamed execs timed for their first byte, and those timed for throughput, and the bytes each prints.
    stream_reps: int
    stream_bytes: int
    #: The fan-out sizes timed for the scale rows (the largest is the row; all show whether cost is flat).
    scale_sizes: tuple[int, ...] = (100, 250, 500, 1000)
    #: How many idle sandboxes the density rows hold, and for how long the API is probed meanwhile (s).
    idle_sandboxes: int = 1000
    idle_probe_s: float = 10.0

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                sdk_calls=5,
                runtime_reps=2,
                exec_per_rep=2,
                fanout_size=5,
                fanout_reps=1,
                docker_reps=1,
                docker_fanout_size=3,
                import_reps=2,
                snapshot_reps=1,
                snapshot_mb=4,
                sampled_sandboxes=3,
                sampling_windows=1,
                flood_bytes=20_000_000,
                kube_reps=1,
                stream_reps=2,
                stream_bytes=8_000_000,
                scale_sizes=(4, 8),
                idle_sandboxes=8,
                idle_probe_s=1.0,
            )
        return cls(
            sdk_calls=1000,
            runtime_reps=60,
            exec_per_rep=5,
            fanout_size=100,
            fanout_reps=5,
            docker_reps=15,
            docker_fanout_size=100,
            import_reps=20,
            snapshot_reps=5,
            snapshot_mb=100,
            sampled_sandboxes=100,
            sampling_windows=4,
            flood_bytes=200_000_000,
            kube_reps=10,
            stream_reps=20,
            stream_bytes=200_000_000,
        )


# ---------------------------------------------------------------------------
# statistics


def median(samples: Sequence[float]) -> float:
    """The median of ``samples``."""
    return statistics.median(samples)


def p95(samples: Sequence[float]) -> float:
    """The 95th percentile by nearest rank (the maximum for fewer than 20 samples)."""
    ordered = sorted(samples)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]


def fill(row: Row, samples_ms: Sequence[float], *, limit_ms: float | None = None) -> Row:
    """Set the row's statistics from samples in milliseconds; judge it against ``limit_ms``."""
    row.samples = [round(s, 4) for s in samples_ms]
    row.n = len(samples_ms)
    if samples_ms:
        row.median = median(samples_ms)
        row.p95 = p95(samples_ms)
        if limit_ms is not None:
            row.met = row.median <= limit_ms
    return row


def elapsed_ms(start_ns: int) -> float:
    """Milliseconds since ``start_ns`` (a ``perf_counter_ns`` reading)."""
    return (time.perf_counter_ns() - start_ns) / 1e6


def phase_of(handle: Any) -> str:
    """A handle's last-known phase as a plain string, whether the SDK keeps an enum or a str."""
    phase = handle.phase
    return str(getattr(phase, "value", phase))


def parse_time(value: Any) -> datetime | None:
    """A server timestamp (datetime or RFC 3339 text) as a datetime, or None."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    if not text or text.lower() in ("unset", "none"):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# the machine's limits


@dataclass
class BwrapLaunch:
    """How to launch bubblewrap doing nothing, for the launch limit, and with the agent's interpreter, for the floor."""

    argv: list[str]
    #: ``argv`` running the host's ``python3 -I -S`` instead of ``true``: what starting a sandbox's agent costs.
    floor_argv: list[str] | None
    #: An fd open on /dev/null, handed to bwrap for its ``--info-fd``.
    pass_fds: tuple[int, ...]
    label: str
    #: The runtime's bwrap starting the agent's interpreter, which waits on stdin, its pid said on the fd given.
    waiting_argv: Callable[[int], list[str]] | None = None


SIMPLE_BWRAP = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
SIMPLE_BWRAP += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]


@contextlib.contextmanager
def bwrap_launch() -> Iterator[BwrapLaunch | None]:
    """The process runtime's own bubblewrap command line (a generic one if it cannot be had), or None without bwrap."""
    path = shutil.which("bwrap")
    if path is None:
        yield None
        return
    info_fd = os.open(os.devnull, os.O_WRONLY)
    work_dir = Path(tempfile.mkdtemp(prefix="porter-bench-"))
    try:
        launch = BwrapLaunch([path, *SIMPLE_BWRAP, "true"], None, (), "`bwrap … true`, bare")
        python3 = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
        try:
            from porter_sandbox_server.core.limits import DEFAULT_MEMORY_BYTES
            from porter_sandbox_server.runtimes.process import bwrap
            from porter_sandbox_server.runtimes.process.identity import SandboxIdentity
            from porter_sandbox_server.runtimes.tmpfs import tmpfs_sizes

            for name in ("tmp", "workspace", "home"):
                (work_dir / name).mkdir()
            # As the runtime runs a sandbox of the default size (without its passwd entry and filter).
            user_namespace = SandboxIdentity.for_this_server().is_server_uid

            def runtime_argv(agent: list[str], info: int = info_fd) -> list[str]:
                return bwrap.bwrap_argv(
                    path,
                    "bench",
                    agent,
                    scratch=work_dir,
                    mounts=(),
                    info_fd=info,
                    user_namespace=user_namespace,
                    shm_bytes=tmpfs_sizes(DEFAULT_MEMORY_BYTES)[1],
                )

            candidate = BwrapLaunch(
                runtime_argv(["true"]),
                runtime_argv([python3, "-I", "-S", "-c", "pass"]) if python3 else None,
                (info_fd,),
                "`bwrap … true`, bare, with the process runtime's own arguments",
                (lambda info: runtime_argv([python3, "-I", "-S", "-c", "import sys; sys.stdin.read()"], info))
                if python3
                else None,
            )
            if subprocess.run(candidate.argv, capture_output=True, pass_fds=candidate.pass_fds, timeout=30).returncode:
                raise RuntimeError("the runtime's bwrap arguments fail here")
            launch = candidate
        except Exception:  # an older or changed runtime: the generic launch still says what bwrap costs
            pass
        if subprocess.run(launch.argv, capture_output=True, pass_fds=launch.pass_fds, timeout=30).returncode:
            yield None
            return
        yield launch
    finally:
        os.close(info_fd)
        shutil.rmtree(work_dir, ignore_errors=True)


def time_command(argv: Sequence[str], pass_fds: Sequence[int] = ()) -> float:
    """Milliseconds to run ``argv`` to completion (it must succeed)."""
    start = time.perf_counter_ns()
    subprocess.run(argv, check=True, capture_output=True, pass_fds=pass_fds, timeout=WAIT_LIMIT_S)
    return elapsed_ms(start)


# ---------------------------------------------------------------------------
# import time


#: Makes ``click`` and ``rich`` unimportable: httpx imports its command line (and so both) whenever
#: they are installed, as they are here by the server and dev extras, but not by the SDK's own.
HIDE_CLI = (
    "import sys\n"
    "class Hide:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.partition('.')[0] in ('click', 'rich'):\n"
    "            raise ImportError(name)\n"
    "sys.meta_path.insert(0, Hide())\n"
)
TIMED = "import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)\n"
IMPORT_PROBES = {
    # What the import row judges: only the SDK's dependencies importable.
    "sdk": HIDE_CLI + TIMED.format(code="import porter_sandbox"),
    # Its floor: the one dependency imported at once, the same way.
    "httpx": HIDE_CLI + TIMED.format(code="import httpx"),
    # As this venv has it (the server and dev extras installed too).
    "everything": TIMED.format(code="import porter_sandbox"),
    # Until a client can make its first sandbox: the generated core is imported when the first client is
    # made, the namespace's modules when it is first used.
    "client": HIDE_CLI
    + TIMED.format(code="import porter_sandbox\nporter_sandbox.Porter(base_url='http://127.0.0.1:9').sandboxes"),
}


def time_import(probe: str, env: dict[str, str]) -> float:
    """Milliseconds the probe's timed lines took in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=WAIT_LIMIT_S, env=env
    )
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def import_rows(samples: dict[str, list[float]]) -> list[Row]:
    """The import row (judged with only the SDK's dependencies) and its floor, ``import httpx``."""
    row = fill(Row("import", IMPORT_LABEL, "ms", target="≤ 60 ms"), samples.get("sdk", []), limit_ms=60)
    limit = fill(Row("import_limit", f"limit: {IMPORT_LIMIT_LABEL}", "ms", target="limit"), samples.get("httpx", []))
    if samples.get("everything") and samples.get("client"):
        row.note = (
            f"the SDK's own part {median(samples['sdk']) - median(samples['httpx']):.0f} ms over httpx; "
            f"with click and rich importable (as in this venv): median {median(samples['everything']):.0f} ms; "
            f"import, a first `Porter()` and its `sandboxes`: median {median(samples['client']):.0f} ms"
        )
    return [row, limit]


def bench_import(plan: Plan) -> list[Row]:
    """``import porter_sandbox`` in a fresh interpreter, timed inside it, interleaved with ``import httpx``.

    Byte-compiled, as an installed wheel is: the probes write their bytecode
    to a directory of their own (never beside the sources) on a first,
    untimed run, even where ``PYTHONDONTWRITEBYTECODE`` is set.
    """
    samples: dict[str, list[float]] = {name: [] for name in IMPORT_PROBES}
    with tempfile.TemporaryDirectory(prefix="porter-bench-pyc-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        for probe in IMPORT_PROBES.values():
            time_import(probe, env)
        names = list(IMPORT_PROBES)
        for i in range(plan.import_reps):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                samples[name].append(time_import(IMPORT_PROBES[name], env))
    return import_rows(samples)


# ---------------------------------------------------------------------------
# the SDK's cost per call, beside Porter's published client and raw httpx


CLIENT_SCRIPT = ROOT / "scripts" / "bench_client.py"
REFERENCE_LABEL = "Porter's published client 0.1.68"


class ClientProcess:
    """One client of ``bench_client.py`` in a process of its own, making calls when asked."""

    def __init__(self, argv: Sequence[str]) -> None:
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close())
        self.process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, text=True
        )
        try:
            if self._line() != "ready":
                raise RuntimeError(f"{argv[2]} {argv[3]} client did not start: {self._said()}")
        except BaseException:
            self.close()
            raise

    def calls(self, count: int) -> list[float]:
        """Make ``count`` calls; answer each one's milliseconds, as the client timed it."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{count}\n")
        self.process.stdin.flush()
        return [int(ns) / 1e6 for ns in self._line().split()]

    def _line(self) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], WAIT_LIMIT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"a bench client gave no answer within {WAIT_LIMIT_S:g}s: {self._said()}")
        return line.strip()

    def _said(self) -> str:
        self._errors.seek(0)
        return self._errors.read()[-2000:]

    def close(self) -> None:
        """End the client: close its input, and kill it if it does not exit."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._errors.close()

    def __enter__(self) -> ClientProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def reference_python(given: Path | None) -> tuple[Path | None, str]:
    """The interpreter of a venv holding Porter's published client, or None and why not.

    ``--porter-python`` (or env ``PORTER_REFERENCE_PYTHON``) names one;
    without it, the tests' venv of it is used, built from PyPI on first use.
    """
    named = given or (
        Path(os.environ["PORTER_REFERENCE_PYTHON"]) if os.environ.get("PORTER_REFERENCE_PYTHON") else None
    )
    if named is not None:
        return named, ""
    sys.path.insert(0, str(ROOT / "tests"))
    from porter_reference import ReferenceUnavailable, build_reference_venv

    try:
        return build_reference_venv(), ""
    except ReferenceUnavailable as exc:
        return None, str(exc)


def bench_per_call(server: LocalServer, plan: Plan, mode: str, porter_python: Path | None, why_not: str) -> list[Row]:
    """``sandbox.refresh()`` through ours and Porter's published client, beside a raw httpx GET, call by call.

    Each client runs in its own process (``bench_client.py``) and times its own
    calls; they take turns one call at a time, in an order that rotates, so a
    busy moment of the machine hits them alike.
    """
    samples: dict[str, list[float]] = {}
    with server.client() as porter:
        name = f"bench-call-{uuid.uuid4().hex[:8]}"
        sandbox = porter.sandboxes.create(image=PROCESS_IMAGE, name=name)
        try:
            args = [str(CLIENT_SCRIPT), mode, server.url, sandbox.id, name]
            argv = {
                "sdk": [sys.executable, args[0], "sdk", *args[1:]],
                "raw": [sys.executable, args[0], "raw", *args[1:]],
            }
            if porter_python is not None:
                # -I: our porter_sandbox must not shadow Porter's (no script directory, no user site, no env).
                argv["porter"] = [str(porter_python), "-I", args[0], "sdk", *args[1:]]
            with contextlib.ExitStack() as stack:
                clients = {who: stack.enter_context(ClientProcess(line)) for who, line in argv.items()}
                samples = {who: [] for who in clients}
                orders = list(itertools.permutations(clients))
                for i in range(plan.sdk_calls):
                    for who in orders[i % len(orders)]:
                        samples[who] += clients[who].calls(1)
        finally:
            sandbox.terminate()
    return per_call_rows(mode, samples, why_not)


def ratio_row(row: Row, ours: list[float], theirs: list[float], limit: float) -> Row:
    """Fill ``row`` with our calls over theirs, taken in the same rounds; judged by the median ratio."""
    if ours and theirs:
        # Each of our calls against theirs of the same round: the pair saw the same moment of the machine.
        fill(row, [a / b for a, b in zip(ours, theirs, strict=True)], limit_ms=limit)
        row.p95 = p95(ours) / p95(theirs)  # a per-pair p95 is mostly noise
        row.note = (
            f"median over rounds of the ratio; p95 of ours over p95 of theirs; "
            f"ratio of the medians {median(ours) / median(theirs):.3f}, of the means "
            f"{statistics.fmean(ours) / statistics.fmean(theirs):.3f}"
        )
    return row


def per_call_rows(mode: str, samples: dict[str, list[float]], porter_missing: str = "") -> list[Row]:
    """Per mode: ours, Porter's client, raw httpx, and ours over each of the other two."""
    ours, theirs, raw = samples.get("sdk", []), samples.get("porter", []), samples.get("raw", [])
    rows = [
        fill(Row(f"sdk_{mode}_refresh", f"SDK {mode} `sandbox.refresh()`", "ms"), ours),
        fill(Row(f"porter_{mode}_refresh", f"{REFERENCE_LABEL}, {mode} `sandbox.refresh()`", "ms"), theirs),
        fill(Row(f"raw_{mode}_get", f"limit: raw httpx {mode} GET, same URL, kept-alive", "ms", target="limit"), raw),
        ratio_row(
            Row(f"sdk_{mode}_vs_porter", f"SDK {mode} per call ÷ {REFERENCE_LABEL}", "x", target="≤ 1.00x"),
            ours,
            theirs,
            1.0,
        ),
        ratio_row(
            Row(f"sdk_{mode}_overhead", f"SDK {mode} per call ÷ raw httpx", "x", target="≤ 1.05x"), ours, raw, 1.05
        ),
    ]
    if porter_missing:
        rows[1].skipped = rows[3].skipped = porter_missing
    return rows


# ---------------------------------------------------------------------------
# the runtimes, from the user's side


def wait_running(sandbox: Any) -> None:
    """Poll ``refresh()`` every ~millisecond until the sandbox runs (bounded); fail on a terminal phase."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while phase_of(sandbox) != "running":
        if phase_of(sandbox) in TERMINAL_PHASES:
            last = [entry.line for entry in sandbox.logs(limit=5)]
            raise RuntimeError(f"sandbox {sandbox.id} ended as {phase_of(sandbox)} before running; its log ends {last}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"sandbox {sandbox.id} not running after {WAIT_LIMIT_S:g}s")
        # A short pause between polls: back-to-back polling would steal the server's CPU from the launch.
        time.sleep(POLL_PAUSE_S)
        sandbox.refresh()


def server_side_ms(status: Any) -> float | None:
    """``started_at - created_at`` as the server recorded it, in ms, when both are there."""
    created = parse_time(getattr(status, "created_at", None))
    started = parse_time(getattr(status, "started_at", None))
    if created is None or started is None:
        return None
    return (started - created).total_seconds() * 1000


@dataclass
class RuntimeSamples:
    """What the interleaved runtime loop collects."""

    first_command: list[float] = field(default_factory=list)
    to_running: list[float] = field(default_factory=list)
    to_running_server: list[float] = field(default_factory=list)
    exec_round_trip: list[float] = field(default_factory=list)
    limit_launch: list[float] = field(default_factory=list)
    limit_exec: list[float] = field(default_factory=list)
    #: The launch with the agent's interpreter instead of ``true``: the floor of a launch on this runtime.
    floor: list[float] = field(default_factory=list)


def bench_runtime(
    porter: Porter,
    *,
    image: str,
    shell: Sequence[str],
    reps: int,
    exec_per_rep: int,
    limit_launch: Callable[[], float] | None,
    limit_exec: Callable[[], float] | None,
    floor: Callable[[], float] | None = None,
) -> RuntimeSamples:
    """One loop, each repetition doing every measure once: limits, first command, create -> running, exec."""
    samples = RuntimeSamples()
    warm = porter.sandboxes.create(image=image, name=f"bench-warm-{uuid.uuid4().hex[:8]}")
    to_terminate: list[Any] = [warm]
    try:
        wait_running(warm)
        for _ in range(3):  # warm the exec path once before measuring it
            warm.exec([*shell, "true"])
        for _ in range(reps):
            if limit_launch is not None:
                samples.limit_launch.append(limit_launch())
            if limit_exec is not None:
                samples.limit_exec.append(limit_exec())
            if floor is not None:
                samples.floor.append(floor())

            start = time.perf_counter_ns()
            sandbox = porter.sandboxes.create(image=image, name=f"bench-ttfc-{uuid.uuid4().hex[:8]}")
            result = sandbox.exec([*shell, "echo ready"])
            took = elapsed_ms(start)
            to_terminate.append(sandbox)
            if result.exit_code != 0 or result.stdout.strip() != "ready":
                raise RuntimeError(f"first command answered {result.exit_code}: {result.stdout!r} {result.stderr!r}")
            samples.first_command.append(took)

            start = time.perf_counter_ns()
            sandbox = porter.sandboxes.create(image=image, name=f"bench-run-{uuid.uuid4().hex[:8]}")
            wait_running(sandbox)
            samples.to_running.append(elapsed_ms(start))
            to_terminate.append(sandbox)
            server_ms = server_side_ms(sandbox.refresh())
            if server_ms is not None:
                samples.to_running_server.append(server_ms)

            for _ in range(exec_per_rep):
                start = time.perf_counter_ns()
                result = warm.exec(["true"])
                samples.exec_round_trip.append(elapsed_ms(start))
                if result.exit_code != 0:
                    raise RuntimeError(f"exec true answered {result.exit_code}: {result.stderr!r}")

            # Terminate outside the timed parts, and keep at most a few sandboxes alive at once.
            while len(to_terminate) > 1:
                to_terminate.pop().terminate()
    finally:
        for sandbox in to_terminate:
            with contextlib.suppress(Exception):
                sandbox.terminate()
    return samples


def runtime_rows(
    prefix: str, title: str, samples: RuntimeSamples, *, targets: bool, limit_labels: tuple[str, str]
) -> list[Row]:
    """The rows of one runtime: first command, create -> running, exec round trip, and the two limits."""
    first = Row(f"{prefix}_first_command", f"{title}: time to first command (create → exec output)", "ms")
    running = Row(f"{prefix}_create_to_running", f"{title}: create → running", "ms")
    exec_rt = Row(f"{prefix}_exec_round_trip", f"{title}: exec round trip", "ms")
    launch = Row(f"{prefix}_limit_launch", f"limit: {limit_labels[0]}", "ms", target="limit")
    exec_limit = Row(f"{prefix}_limit_exec", f"limit: {limit_labels[1]}", "ms", target="limit")
    if targets:
        first.target, running.target, exec_rt.target = "≤ 25 ms", "≤ 15 ms", "≤ 10 ms"
    fill(first, samples.first_command, limit_ms=25 if targets else None)
    fill(running, samples.to_running, limit_ms=15 if targets else None)
    fill(exec_rt, samples.exec_round_trip, limit_ms=10 if targets else None)
    fill(launch, samples.limit_launch)
    fill(exec_limit, samples.limit_exec)
    if samples.to_running_server:
        running.note = f"server's own started_at - created_at: median {median(samples.to_running_server):.1f} ms"
    if samples.limit_launch and samples.first_command:
        first.note = f"{median(samples.first_command) / median(samples.limit_launch):.2f}x the launch limit"
    if samples.floor:
        first.note += (
            f"; floor (the same bwrap starting the agent's `python3 -I -S`, then an exec): "
            f"{median(samples.floor) + (median(samples.exec_round_trip) if samples.exec_round_trip else 0):.1f} ms"
        )
    if samples.limit_exec and samples.exec_round_trip:
        exec_rt.note = f"{median(samples.exec_round_trip) / median(samples.limit_exec):.2f}x the exec limit"
    if not samples.limit_launch:
        launch.skipped = "not available on this machine"
    if not samples.limit_exec:
        exec_limit.skipped = "not available on this machine"
    return [first, running, exec_rt, launch, exec_limit]


async def fan_out_once(server: LocalServer, image: str, shell: Sequence[str], size: int) -> tuple[float, int, str]:
    """Create and exec ``size`` sandboxes at once through one ``AsyncPorter``: wall ms, failures, first error."""
    async with server.async_client() as porter:
        run_id = uuid.uuid4().hex[:6]

        async def one(index: int) -> Any:
            sandbox = await porter.sandboxes.create(image=image, name=f"bench-fan-{run_id}-{index}")
            result = await sandbox.exec([*shell, f"echo {index}"])
            if result.exit_code != 0 or result.stdout.strip() != str(index):
                raise RuntimeError(f"exec answered {result.exit_code}: {result.stdout!r} {result.stderr!r}")
            return sandbox

        start = time.perf_counter_ns()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(one(i) for i in range(size)), return_exceptions=True), timeout=WAIT_LIMIT_S * 3
        )
        wall = elapsed_ms(start)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        sandboxes = [o for o in outcomes if not isinstance(o, BaseException)]
        await bounded_gather([s.terminate for s in sandboxes], limit=20)
        first_error = f"{type(errors[0]).__name__}: {errors[0]}"[:200] if errors else ""
        return wall, len(errors), first_error


async def bounded_gather(calls: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> None:
    """Run ``calls`` at most ``limit`` at a time, ignoring their failures (cleanup only)."""
    gate = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await call()

    await asyncio.gather(*(run(c) for c in calls))


def fan_out_label(title: str, size: int) -> str:
    """The fan-out row's label."""
    return f"{title}: fan-out of {size} sandboxes, create + exec (AsyncPorter)"


def bench_fan_out(
    server: LocalServer, prefix: str, title: str, image: str, shell: Sequence[str], size: int, reps: int, target: bool
) -> Row:
    """Fan-out rows: wall time of ``size`` concurrent create+exec, failures must be 0."""
    row = Row(f"{prefix}_fan_out", fan_out_label(title, size), "s")
    walls: list[float] = []
    failures = 0
    first_error = ""
    for _ in range(reps):
        wall, failed, error = asyncio.run(fan_out_once(server, image, shell, size))
        walls.append(wall / 1000)
        failures += failed
        first_error = first_error or error
    fill(row, walls)
    row.note = f"failures {failures}/{size * reps}" + (f" (first: {first_error})" if first_error else "")
    if target:
        row.target = "≤ 2 s, 0 failures"
        row.met = row.median is not None and row.median <= 2 and failures == 0
    elif failures:
        row.met = False
    return row


# ---------------------------------------------------------------------------
# Docker


@dataclass
class StreamSamples:
    """What the streamed-exec loop collects."""

    first_byte: list[float] = field(default_factory=list)
    plain_round_trip: list[float] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)
    plain_throughput: list[float] = field(default_factory=list)


#: The most a plain exec answers of a stream (the server's --max-exec-output): its throughput is timed on this much.
PLAIN_EXEC_BYTES = 16_000_000


def bench_streams(porter: Porter, image: str, plan: Plan) -> StreamSamples:
    """Time to the first byte of a streamed exec beside a plain exec's round trip; MB/s of stdout through each."""
    samples = StreamSamples()
    sandbox = porter.sandboxes.create(image=image, name=f"bench-stream-{uuid.uuid4().hex[:8]}")
    try:
        wait_running(sandbox)
        for _ in range(3):  # warm both paths
            sandbox.exec(["echo", "first"])
            list(sandbox.exec_stream(["echo", "first"]))
        for _ in range(plan.stream_reps):
            start = time.perf_counter_ns()
            first_at: float | None = None
            with sandbox.exec_stream(["echo", "first"]) as stream:
                for event in stream:
                    if first_at is None and event.kind == "stdout":
                        first_at = elapsed_ms(start)
            if first_at is None or stream.exit_code != 0:
                raise RuntimeError(f"a streamed echo printed nothing, or exited {stream.exit_code}")
            samples.first_byte.append(first_at)
            start = time.perf_counter_ns()
            sandbox.exec(["echo", "first"])
            samples.plain_round_trip.append(elapsed_ms(start))
        size = plan.stream_bytes
        for _ in range(max(plan.stream_reps // 4, 1)):
            start = time.perf_counter_ns()
            received = 0
            with sandbox.exec_stream(["head", "-c", str(size), "/dev/zero"]) as stream:
                for event in stream:
                    received += len(event.data)
            seconds = elapsed_ms(start) / 1000
            if received != size:
                raise RuntimeError(f"a streamed exec of {size} bytes delivered {received}")
            samples.throughput.append(size / 1e6 / seconds)
            plain = min(size, PLAIN_EXEC_BYTES)
            start = time.perf_counter_ns()
            result = sandbox.exec(["head", "-c", str(plain), "/dev/zero"])
            samples.plain_throughput.append(plain / 1e6 / (elapsed_ms(start) / 1000))
            if len(result.stdout) != plain:
                raise RuntimeError(f"a plain exec of {plain} bytes answered {len(result.stdout)}")
    finally:
        with contextlib.suppress(Exception):
            sandbox.terminate()
    return samples


def stream_rows(prefix: str, title: str, plan: Plan, samples: StreamSamples) -> list[Row]:
    """The streamed-exec rows of one runtime: its first byte, and its stdout's throughput, beside the plain exec."""
    first = Row(f"{prefix}_stream_first_byte", f"{title}: streamed exec, time to first byte of stdout", "ms")
    throughput = Row(
        f"{prefix}_stream_throughput",
        f"{title}: streamed exec, stdout through the server ({plan.stream_bytes / 1e6:.0f} MB)",
        "MB/s",
    )
    fill(first, samples.first_byte)
    if samples.plain_round_trip:
        first.note = f"plain exec round trip of the same command: {median(samples.plain_round_trip):.2f} ms"
    throughput.samples = [round(value, 2) for value in samples.throughput]
    throughput.n = len(samples.throughput)
    if samples.throughput:
        throughput.median = median(samples.throughput)
        throughput.p95 = sorted(samples.throughput)[max(len(samples.throughput) * 5 // 100 - 1, 0)]
    if samples.plain_throughput:
        capped = plan.stream_bytes > PLAIN_EXEC_BYTES
        plain = f"{min(plan.stream_bytes, PLAIN_EXEC_BYTES) / 1e6:.0f} MB{' (its answer cap)' if capped else ''}"
        throughput.note = (
            f"plain exec of {plain}: {median(samples.plain_throughput):.0f} MB/s; p95 column: the slowest 5%"
        )
    return [first, throughput]


def docker_engine() -> str:
    """An empty string when an engine answers with the test image; else why not."""
    try:
        import docker
    except ImportError:
        return "the docker package is not installed"
    try:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
            client.images.get(DOCKER_IMAGE)
        finally:
            client.close()
    except Exception as error:
        return f"no engine with {DOCKER_IMAGE} at DOCKER_HOST ({type(error).__name__}); start one with scripts/ci-docker.sh"
    return ""


@contextlib.contextmanager
def docker_limit_container() -> Iterator[str | None]:
    """A container of the test image (network none) for the ``docker exec`` limit; removed on exit."""
    if shutil.which("docker") is None:
        yield None
        return
    started = subprocess.run(
        ["docker", "run", "-d", "--rm", "--network", "none", DOCKER_IMAGE, "sleep", "3600"],
        capture_output=True,
        text=True,
        timeout=WAIT_LIMIT_S,
    )
    container = started.stdout.strip() if started.returncode == 0 else None
    try:
        yield container
    finally:
        if container:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=WAIT_LIMIT_S)


def bench_docker(plan: Plan, streams: bool) -> list[Row]:
    """The Docker runtime's rows, beside ``docker run --rm`` and ``docker exec`` through the CLI."""
    title = "docker"
    why_not = docker_engine()
    if why_not:
        return skipped_rows("docker", plan, why_not)
    with (
        LocalServer(runtime="docker", extra_args=["--docker-network", "none"]) as server,
        docker_limit_container() as box,
    ):
        has_cli = shutil.which("docker") is not None
        run_argv = ["docker", "run", "--rm", "--network", "none", DOCKER_IMAGE, "true"]
        with server.client() as porter:
            samples = bench_runtime(
                porter,
                image=DOCKER_IMAGE,
                shell=["sh", "-c"],
                reps=plan.docker_reps,
                exec_per_rep=plan.exec_per_rep,
                limit_launch=(lambda: time_command(run_argv)) if has_cli else None,
                limit_exec=(lambda: time_command(["docker", "exec", box, "true"])) if box else None,
            )
        rows = runtime_rows("docker", title, samples, targets=False, limit_labels=DOCKER_LIMITS)
        rows.append(
            bench_fan_out(server, "docker", title, DOCKER_IMAGE, ["sh", "-c"], plan.docker_fanout_size, 1, target=False)
        )
        if streams:
            with server.client() as porter:
                stream_samples = bench_streams(porter, DOCKER_IMAGE, plan)
    rows.append(bench_docker_pool(plan))
    if streams:
        rows += stream_rows("docker", title, plan, stream_samples)
    else:
        rows += skipped_rows("streams", plan, "not selected (--only)")[2:]
    return rows


def bench_docker_pool(plan: Plan) -> Row:
    """Time to first command when the launch takes a container the docker runtime's pool started ahead."""
    row = docker_pool_row()
    extra = ["--docker-network", "none", "--pool", str(BENCH_POOL_SIZE)]
    with LocalServer(runtime="docker", extra_args=extra) as server:
        samples, missed = pooled_first_commands(
            server, DOCKER_IMAGE, {"plain": {}}, plan.docker_reps, DOCKER_POOL_PAUSE_S
        )
    fill(row, samples["plain"], limit_ms=100)
    row.note = f"{missed['plain']} of {plan.docker_reps} creates not served from the pool (left out)"
    return row


# ---------------------------------------------------------------------------
# snapshots, over plain HTTP (the SDK's snapshot methods are not needed to measure the server)


@dataclass
class SnapshotSamples:
    """What the snapshot loop collects."""

    ready: list[float] = field(default_factory=list)
    first_command: list[float] = field(default_factory=list)
    limit: list[float] = field(default_factory=list)


def _http_sh(http: httpx.Client, sandbox_id: str, script: str) -> str:
    answer = http.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script]})
    answer.raise_for_status()
    if answer.json()["exit_code"] != 0:
        raise RuntimeError(f"{script!r} answered {answer.json()}")
    return str(answer.json()["stdout"])


def _http_running(http: httpx.Client, body: dict[str, Any]) -> str:
    answer = http.post("/v1/sandbox/run", json=body)
    answer.raise_for_status()
    sandbox_id = str(answer.json()["id"])
    deadline = time.monotonic() + WAIT_LIMIT_S
    while http.get(f"/v1/sandbox/{sandbox_id}").json()["phase"] != "running":
        if time.monotonic() > deadline:
            raise TimeoutError(f"sandbox {sandbox_id} not running after {WAIT_LIMIT_S:g}s")
        time.sleep(0.01)
    return sandbox_id


def bench_snapshot(
    server: LocalServer, image: str, plan: Plan, limit: Callable[[str, str], float] | None
) -> SnapshotSamples:
    """Snapshot a sandbox holding ``plan.snapshot_mb`` MB of files, start from it, run a command; interleaved with the limit.

    ``limit(sandbox_id, source_dir)`` answers the floor's milliseconds for
    the same sandbox (the process runtime's scratch directory, say).
    """
    samples = SnapshotSamples()
    with httpx.Client(base_url=server.url, timeout=WAIT_LIMIT_S) as http:
        source = _http_running(http, {"image": image, "name": f"bench-snap-{uuid.uuid4().hex[:8]}"})
        created: list[str] = [source]
        try:
            # Random bytes in 1 MB files: nothing sparse, nothing a copy could skip.
            _http_sh(
                http,
                source,
                f"i=0; while [ $i -lt {plan.snapshot_mb} ]; do head -c 1048576 /dev/urandom > /workspace/f$i; i=$((i+1)); done",
            )
            for _ in range(plan.snapshot_reps):
                if limit is not None:
                    samples.limit.append(limit(source, "/workspace"))
                start = time.perf_counter_ns()
                answer = http.post(f"/v1/sandbox/{source}/snapshot", json={"mode": "filesystem"})
                answer.raise_for_status()
                snapshot_id = answer.json()["id"]
                deadline = time.monotonic() + WAIT_LIMIT_S
                while (status := http.get(f"/v1/snapshot/{snapshot_id}").json()["status"]) == "pending":
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"snapshot {snapshot_id} still pending after {WAIT_LIMIT_S:g}s")
                    time.sleep(POLL_PAUSE_S)
                if status != "ready":
                    raise RuntimeError(f"snapshot {snapshot_id} {status}")
                samples.ready.append(elapsed_ms(start))

                start = time.perf_counter_ns()
                answer = http.post("/v1/sandbox/run", json={"image": "", "snapshot_id": snapshot_id})
                answer.raise_for_status()
                restored = str(answer.json()["id"])
                out = _http_sh(http, restored, "ls /workspace | wc -l")
                samples.first_command.append(elapsed_ms(start))
                if out.strip() != str(plan.snapshot_mb):
                    raise RuntimeError(f"the restored sandbox holds {out.strip()} files, not {plan.snapshot_mb}")
                http.delete(f"/v1/sandbox/{restored}")
                http.delete(f"/v1/snapshot/{snapshot_id}")
        finally:
            for sandbox_id in created:
                with contextlib.suppress(Exception):
                    http.delete(f"/v1/sandbox/{sandbox_id}")
    return samples


def snapshot_rows(prefix: str, title: str, plan: Plan, samples: SnapshotSamples, limit_label: str) -> list[Row]:
    """The rows of one runtime's snapshots."""
    size = f"{plan.snapshot_mb} MB of files"
    ready = fill(Row(f"{prefix}_snapshot_ready", f"{title}: snapshot of {size}, create → ready", "ms"), samples.ready)
    first = fill(
        Row(f"{prefix}_snapshot_first_command", f"{title}: create from that snapshot → first command", "ms"),
        samples.first_command,
    )
    limit = fill(Row(f"{prefix}_snapshot_limit", f"limit: {limit_label}", "ms", target="limit"), samples.limit)
    if samples.limit and samples.ready:
        ready.note = f"{median(samples.ready) / median(samples.limit):.2f}x the limit"
    if not samples.limit:
        limit.skipped = "not available on this machine"
    return [ready, first, limit]


def bench_snapshots(plan: Plan, bwrap: BwrapLaunch | None) -> list[Row]:
    """Snapshot rows on the process runtime (beside ``cp -a``) and the Docker runtime (beside ``docker commit``)."""
    rows: list[Row] = []
    isolation = "bwrap" if bwrap else "none"
    with LocalServer(runtime="process", isolation=isolation) as server:

        def copy_scratch(sandbox_id: str, _inside: str) -> float:
            scratch = server.data_dir / "sandboxes" / sandbox_id
            target = Path(tempfile.mkdtemp(prefix="porter-bench-copy-"))
            try:
                return time_command(["cp", "-a", str(scratch / "workspace"), str(target / "workspace")])
            finally:
                shutil.rmtree(target, ignore_errors=True)

        samples = bench_snapshot(server, PROCESS_IMAGE, plan, copy_scratch)
    title = "process" if bwrap else "process (isolation none)"
    rows += snapshot_rows("process", title, plan, samples, "`cp -a` of the same files")
    why_not = docker_engine()
    if why_not:
        for row in snapshot_rows("docker", "docker", plan, SnapshotSamples(), "`docker commit` (CLI)"):
            row.skipped = why_not
            rows.append(row)
        return rows
    has_cli = shutil.which("docker") is not None
    with LocalServer(runtime="docker", extra_args=["--docker-network", "none"]) as server:

        def commit(sandbox_id: str, _inside: str) -> float:
            name = f"porter-bench-commit-{uuid.uuid4().hex[:8]}"
            took = time_command(["docker", "commit", f"porter-sandbox-{sandbox_id}", name])
            subprocess.run(["docker", "rmi", name], capture_output=True, timeout=WAIT_LIMIT_S)
            return took

        samples = bench_snapshot(server, DOCKER_IMAGE, plan, commit if has_cli else None)
    rows += snapshot_rows("docker", "docker", plan, samples, "`docker commit` of the same container (CLI)")
    return rows


# ---------------------------------------------------------------------------
# what sampling metrics costs


#: How often the measured server samples (often, so a window holds many samplings), and the default it is judged at.
SAMPLING_INTERVAL_S = 0.5
DEFAULT_SAMPLING_S = 5.0
SAMPLING_WINDOW_S = 5.0


def server_cpu_s(server: LocalServer) -> float:
    """CPU seconds (user + system, every thread) the server's process has used."""
    assert server.process is not None
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_window(runtime: str, extra: list[str], image: str, plan: Plan) -> list[float]:
    """The server's CPU seconds in each window, with ``plan.sampled_sandboxes`` idle sandboxes live."""
    isolation = {"isolation": "bwrap" if shutil.which("bwrap") else "none"} if runtime == "process" else {}
    with (
        LocalServer(runtime=runtime, extra_args=extra, **isolation) as server,
        httpx.Client(base_url=server.url, timeout=WAIT_LIMIT_S) as http,
    ):
        ids = [
            str(http.post("/v1/sandbox/run", json={"image": image}).json()["id"]) for _ in range(plan.sampled_sandboxes)
        ]
        try:
            deadline = time.monotonic() + 5 * WAIT_LIMIT_S
            while any(http.get(f"/v1/sandbox/{sandbox_id}").json()["phase"] != "running" for sandbox_id in ids):
                if time.monotonic() > deadline:
                    raise TimeoutError("the sandboxes to sample never all ran")
                time.sleep(0.2)
            time.sleep(2 * SAMPLING_INTERVAL_S)  # past the first samplings (docker: finding each container's cgroups)
            windows = []
            for _ in range(plan.sampling_windows):
                before = server_cpu_s(server)
                time.sleep(SAMPLING_WINDOW_S)
                windows.append(server_cpu_s(server) - before)
            return windows
        finally:
            for sandbox_id in ids:
                with contextlib.suppress(Exception):
                    http.delete(f"/v1/sandbox/{sandbox_id}")


def sampling_row(runtime: str, title: str, plan: Plan, extra: list[str], image: str) -> Row:
    """One sampling's CPU cost at ``plan.sampled_sandboxes`` live sandboxes, judged as a share of the default interval."""
    row = Row(
        f"{runtime}_metrics_sampling",
        f"{title}: one metrics sampling of {plan.sampled_sandboxes} live sandboxes (server CPU)",
        "ms",
        target=f"≤ {DEFAULT_SAMPLING_S * 10:g} ms (1% of a core every {DEFAULT_SAMPLING_S:g} s)",
    )
    sampled = cpu_per_window(runtime, [*extra, "--metrics-interval", str(SAMPLING_INTERVAL_S)], image, plan)
    idle = cpu_per_window(runtime, [*extra, "--metrics-interval", "0"], image, plan)
    baseline = median(idle)
    per_window = SAMPLING_WINDOW_S / SAMPLING_INTERVAL_S
    fill(row, [max(window - baseline, 0.0) / per_window * 1000 for window in sampled], limit_ms=DEFAULT_SAMPLING_S * 10)
    if row.median is not None:
        share = row.median / 1000 / DEFAULT_SAMPLING_S * 100
        row.note = (
            f"{share:.3f}% of a core at the default {DEFAULT_SAMPLING_S:g} s; the server without sampling: "
            f"{baseline / SAMPLING_WINDOW_S * 100:.2f}% of a core"
        )
    return row


def bench_sampling(plan: Plan) -> list[Row]:
    """What sampling metrics costs the server, on the process and the Docker runtime."""
    title = "process" if shutil.which("bwrap") else "process (isolation none)"
    rows = [sampling_row("process", title, plan, [], PROCESS_IMAGE)]
    why_not = docker_engine()
    if why_not:
        row = Row(
            "docker_metrics_sampling", f"docker: one metrics sampling of {plan.sampled_sandboxes} live sandboxes", "ms"
        )
        row.skipped = why_not
        return [*rows, row]
    rows.append(sampling_row("docker", "docker", plan, ["--docker-network", "none"], DOCKER_IMAGE))
    return rows


# ---------------------------------------------------------------------------
# Kubernetes


def kube_cluster() -> str:
    """An empty string when KUBECONFIG names a cluster whose node has the test images; else why not."""
    if not os.environ.get("KUBECONFIG") or shutil.which("kubectl") is None:
        return "no cluster: set KUBECONFIG (and install kubectl)"
    found = subprocess.run(["kubectl", "get", "nodes", "-o", "json"], capture_output=True, timeout=WAIT_LIMIT_S)
    if found.returncode != 0:
        return f"no cluster answers at KUBECONFIG: {found.stderr.decode(errors='replace').strip()[:120]}"
    for node in json.loads(found.stdout).get("items", []):
        images = {name for image in node.get("status", {}).get("images", []) for name in image.get("names", [])}
        if {DOCKER_IMAGE, KUBE_HELPER_IMAGE} <= images:
            return ""
    return f"no node of the cluster has {DOCKER_IMAGE} and {KUBE_HELPER_IMAGE} (see .ci/run)"


def bench_kubernetes(plan: Plan) -> list[Row]:
    """The Kubernetes runtime's rows, beside ``kubectl exec`` (a pod per sandbox: seconds, not milliseconds)."""
    title = "kubernetes"
    why_not = kube_cluster()
    if why_not:
        return skipped_rows("kubernetes", plan, why_not)
    subprocess.run(["kubectl", "create", "namespace", KUBE_NAMESPACE], capture_output=True, timeout=WAIT_LIMIT_S)
    with LocalServer(runtime="kubernetes", extra_args=KUBE_ARGS) as server, server.client() as porter:
        box = porter.sandboxes.create(image=DOCKER_IMAGE, name=f"bench-kubectl-{uuid.uuid4().hex[:8]}")
        try:
            wait_running(box)
            pod = f"porter-sandbox-{box.id}"
            kubectl_exec = ["kubectl", "exec", "-n", KUBE_NAMESPACE, pod, "--", "true"]
            samples = bench_runtime(
                porter,
                image=DOCKER_IMAGE,
                shell=["sh", "-c"],
                reps=plan.kube_reps,
                exec_per_rep=plan.exec_per_rep,
                limit_launch=None,
                limit_exec=lambda: time_command(kubectl_exec),
            )
        finally:
            box.terminate()
    rows = runtime_rows("kubernetes", title, samples, targets=False, limit_labels=KUBE_LIMITS)
    rows[3].skipped = "not measured: a pod's start is the cluster's (scheduler, kubelet, engine)"
    return rows


# ---------------------------------------------------------------------------
# the report


def fmt(row: Row, value: float | None) -> str:
    """A statistic in the row's unit."""
    if value is None:
        return "—"
    if row.unit == "%":
        return f"{value:+.1f}%"
    if row.unit == "x":
        return f"{value:.3f}x"
    if row.unit == "MiB":
        return f"{value:.2f} MiB" if abs(value) < 10 else f"{value:.0f} MiB"
    if row.unit == "s":
        return f"{value:.2f} s"
    if row.unit == "MB/s":
        return f"{value:.0f} MB/s"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def markdown(rows: Sequence[Row]) -> str:
    """The Markdown table of every row."""
    lines = [
        "| measure | median | p95 | n | target | met | note |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in rows:
        if row.skipped:
            met = "skipped"
        elif row.met is None:
            met = "—"
        else:
            met = "yes" if row.met else "**no**"
        note = row.skipped or row.note
        lines.append(
            f"| {row.label} | {fmt(row, row.median)} | {fmt(row, row.p95)} | {row.n} | "
            f"{row.target or '—'} | {met} | {note} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What this run ran on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "bwrap": shutil.which("bwrap"),
        "docker_host": os.environ.get("DOCKER_HOST", ""),
        "kubeconfig": os.environ.get("KUBECONFIG", ""),
    }


def bench_process_server(
    server: LocalServer,
    bwrap: BwrapLaunch | None,
    title: str,
    selected: set[str],
    plan: Plan,
    say: Callable[[str], None],
    skip: Callable[[str], list[Row]],
    reference: tuple[Path | None, str],
) -> list[Row]:
    """The rows measured on the process runtime's server: the SDK per call, the runtime, fan-out.

    ``reference`` is the interpreter with Porter's published client, or None and why there is none.
    """
    rows: list[Row] = []
    if "sdk" in selected:
        porter_python, why_not = reference
        for mode in ("sync", "async"):
            say(f"per call, {mode}: the SDK, {REFERENCE_LABEL} and raw httpx, interleaved")
            rows += bench_per_call(server, plan, mode, porter_python, why_not)
    else:
        rows += skip("sdk")
    if "process" in selected:
        say("process runtime: first command, create → running, exec")
        floor_argv = bwrap.floor_argv if bwrap else None
        with server.client() as porter:
            samples = bench_runtime(
                porter,
                image=PROCESS_IMAGE,
                shell=["sh", "-c"],
                reps=plan.runtime_reps,
                exec_per_rep=plan.exec_per_rep,
                limit_launch=(lambda: time_command(bwrap.argv, bwrap.pass_fds)) if bwrap else None,
                limit_exec=lambda: time_command(["true"]),
                floor=(lambda: time_command(floor_argv, bwrap.pass_fds)) if bwrap and floor_argv else None,
            )
        labels = (bwrap.label if bwrap else PROCESS_LIMITS[0], PROCESS_LIMITS[1])
        rows += runtime_rows("process", title, samples, targets=True, limit_labels=labels)
    else:
        rows += skip("process")
    if "fanout" in selected:
        say(f"process runtime: fan-out of {plan.fanout_size}")
        rows.append(
            bench_fan_out(
                server, "process", title, PROCESS_IMAGE, ["sh", "-c"], plan.fanout_size, plan.fanout_reps, target=True
            )
        )
    else:
        rows += skip("fanout")
    if "streams" in selected:
        say("process runtime: streamed exec, first byte and throughput")
        with server.client() as porter:
            rows += stream_rows("process", title, plan, bench_streams(porter, PROCESS_IMAGE, plan))
    else:
        rows += skip("streams")[:2]
    return rows


def network_rows() -> list[Row]:
    """The network rows, not yet measured."""
    return [
        Row(
            "process_network_first_command",
            "process: time to first command with an egress policy and a served port (create → exec output)",
            "ms",
            target="≤ 25 ms",
        ),
        Row("process_proxy_added_latency", "process: a GET through the port proxy, minus the same GET direct", "ms"),
    ]


#: The app the proxy row serves: an HTTP/1.1 server answering every GET with "ok".
_BENCH_APP = (
    "import http.server, sys\n"
    "class A(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')\n"
    "    def log_message(self, *a): pass\n"
    "http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), A).serve_forever()\n"
)


def bench_network(bwrap: BwrapLaunch | None, plan: Plan) -> list[Row]:
    """Time to first command of a sandbox with ``egress`` and ``networking``; the proxy's added latency per GET.

    The direct GET goes to the same app run on the host's loopback (a sandbox's own loopback is
    reachable only from inside it), over a fresh connection each, as the proxy makes upstream.
    """
    first, proxy = network_rows()
    if bwrap is None or os.geteuid() != 0:
        first.skipped = proxy.skipped = "needs a root server with bubblewrap (sandboxes' networks need both)"
        return [first, proxy]
    samples: list[float] = []
    with LocalServer(runtime="process", isolation="bwrap") as server, server.client() as porter:
        for _ in range(plan.runtime_reps):
            start = time.perf_counter_ns()
            sandbox = porter.sandboxes.create(
                image=PROCESS_IMAGE,
                name=f"bench-net-{uuid.uuid4().hex[:8]}",
                egress={"allowed_destinations": ["192.0.2.0/24", "*.example.com"]},
                networking=[{"port": 8000}],
            )
            result = sandbox.exec(["sh", "-c", "echo ready"])
            took = elapsed_ms(start)
            sandbox.terminate()
            if result.exit_code != 0 or result.stdout.strip() != "ready":
                raise RuntimeError(f"first command answered {result.exit_code}: {result.stderr!r}")
            samples.append(took)
        fill(first, samples, limit_ms=25)
        name = f"bench-proxy-{uuid.uuid4().hex[:8]}"
        app = porter.sandboxes.create(
            image=PROCESS_IMAGE,
            name=name,
            command=["python3", "-c", _BENCH_APP, "127.0.0.1", "8000"],
            networking=[{"port": 8000}],
        )
        direct_app = subprocess.Popen([sys.executable, "-c", _BENCH_APP, "127.0.0.1", "0"])
        try:
            port = int(server.url.rstrip("/").rsplit(":", 1)[1])
            direct_port = _listening_port(direct_app.pid)
            calls = min(500, max(20, plan.sdk_calls // 2))
            through = _timed_gets(server.url, {"Host": f"8000-{name}.localhost:{port}"}, calls)
            direct = _timed_gets(f"http://127.0.0.1:{direct_port}", {}, calls)
        finally:
            direct_app.kill()
            direct_app.wait()
            app.terminate()
        fill(proxy, [max(0.0, p - d) for p, d in zip(sorted(through), sorted(direct), strict=True)])
        proxy.note = f"through the proxy: median {median(through):.2f} ms; direct: {median(direct):.2f} ms"
    return [first, proxy]


#: The pool the pooled rows' server keeps (``serve --pool``), and the pause before each timed create,
#: long enough for the pool to refill after the previous repetition took from it.
BENCH_POOL_SIZE = 4
POOL_PAUSE_S = 0.4
#: The same for the docker runtime, whose pool starts a container in about 250 ms.
DOCKER_POOL_PAUSE_S = 1.0


def docker_pool_row() -> Row:
    """The docker runtime's pooled row, not yet measured."""
    return Row(
        "docker_pool_first_command",
        f"docker with `--pool {BENCH_POOL_SIZE}`: time to first command (create → exec output) of a pooled container",
        "ms",
        target="≤ 100 ms",
    )


def pool_rows() -> list[Row]:
    """The pooled rows, not yet measured."""
    return [
        Row(
            "process_pool_first_command",
            f"process with `--pool {BENCH_POOL_SIZE}`: time to first command (create → exec output) of a pooled sandbox",
            "ms",
            target="≤ 8 ms",
        ),
        Row(
            "process_pool_network_first_command",
            f"process with `--pool {BENCH_POOL_SIZE}`: the same with an egress policy and a served port",
            "ms",
        ),
    ]


def pooled_first_commands(
    server: LocalServer, image: str, kinds: dict[str, dict[str, Any]], reps: int, pause_s: float
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds from create to first output, per kind of create (its options), of creates the pool served.

    Each create waits ``pause_s`` first, so the pool is full again, meanwhile polling a warm
    sandbox's status as ``wait_running`` does. Answers the samples and, per kind, how many
    creates the pool did not serve (the server's log says which it served): left out.
    """
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    missed = dict.fromkeys(kinds, 0)
    with server.client() as porter:
        warm = porter.sandboxes.create(image=image, name=f"bench-pool-warm-{uuid.uuid4().hex[:8]}")
        warm.exec(["true"])
        for _ in range(reps):
            for kind, options in kinds.items():
                pause_until = time.monotonic() + pause_s
                while time.monotonic() < pause_until:
                    time.sleep(POLL_PAUSE_S)
                    warm.refresh()
                served = server.log().count("started from the pool")
                start = time.perf_counter_ns()
                sandbox = porter.sandboxes.create(image=image, name=f"bench-pool-{uuid.uuid4().hex[:8]}", **options)
                result = sandbox.exec(["sh", "-c", "echo ready"])
                took = elapsed_ms(start)
                sandbox.terminate()
                if result.exit_code != 0 or result.stdout.strip() != "ready":
                    raise RuntimeError(f"first command answered {result.exit_code}: {result.stderr!r}")
                if server.log().count("started from the pool") > served:
                    samples[kind].append(took)
                else:
                    missed[kind] += 1
        warm.terminate()
    return samples, missed


def bench_pool(bwrap: BwrapLaunch | None, plan: Plan) -> list[Row]:
    """Time to first command when the launch takes a pre-started sandbox, without and with a network policy.

    Each create waits ``POOL_PAUSE_S`` first, polling (on this VM a request after 0.4 s of silence
    costs about 1.5 ms more, which the other rows' back-to-back loops never pay); see
    ``pooled_first_commands``.
    """
    plain, network = pool_rows()
    if bwrap is None or os.geteuid() != 0:
        plain.skipped = network.skipped = "needs a root server with bubblewrap (the pool needs both)"
        return [plain, network]
    extra = ["--pool", str(BENCH_POOL_SIZE)]
    kinds: dict[str, dict[str, Any]] = {
        "plain": {},
        "network": {
            "egress": {"allowed_destinations": ["192.0.2.0/24", "*.example.com"]},
            "networking": [{"port": 8000}],
        },
    }
    with LocalServer(runtime="process", isolation="bwrap", extra_args=extra) as server:
        samples, missed = pooled_first_commands(server, PROCESS_IMAGE, kinds, plan.runtime_reps, POOL_PAUSE_S)
    fill(plain, samples["plain"], limit_ms=8)
    fill(network, samples["network"])
    for row, kind in ((plain, "plain"), (network, "network")):
        row.note = f"{missed[kind]} of {plan.runtime_reps} creates not served from the pool (left out)"
    return [plain, network]


def _listening_port(pid: int, timeout: float = 10.0) -> int:
    """The TCP port process ``pid`` listens on (from ``/proc/net/tcp``, matched by socket inode)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inodes = set()
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                return int(fields[1].split(":")[1], 16)
        time.sleep(0.02)
    raise RuntimeError("the direct app did not start listening")


def _timed_gets(base_url: str, headers: dict[str, str], calls: int) -> list[float]:
    """``calls`` GETs of ``/`` (waiting for the app to answer first), each on a fresh connection: ms each."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base_url + "/", headers=headers, timeout=5).status_code == 200:
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base_url} did not answer")
        time.sleep(0.05)
    took: list[float] = []
    for _ in range(calls):
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            start = time.perf_counter_ns()
            answer = client.get("/")
            took.append(elapsed_ms(start))
            if answer.status_code != 200:
                raise RuntimeError(f"GET answered {answer.status_code}: {answer.text[:200]}")
    return took


def flood_rows(title: str, size: int) -> list[Row]:
    """The flood's rows, not yet measured."""
    what = f"a {size / 1e6:.0f} MB exec beside a sandbox logging flat out"
    return [
        Row("process_flood_healthz", f"{title}: `/healthz` during {what}", "ms", target="p99 ≤ 100 ms"),
        Row("process_flood_memory", f"{title}: server's peak RSS growth during {what}", "MiB", target="< 256 MiB"),
    ]


def _peak_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def bench_flood(isolation: str, title: str, plan: Plan) -> list[Row]:
    """``/healthz`` latency and the server's peak memory while one sandbox logs flat out and another execs a flood."""
    health, memory = flood_rows(title, plan.flood_bytes)
    latencies: list[float] = []
    stop = threading.Event()

    def probe(url: str) -> None:
        with httpx.Client(base_url=url, timeout=WAIT_LIMIT_S) as client:
            while not stop.is_set():
                started = time.perf_counter_ns()
                client.get("/healthz")
                latencies.append(elapsed_ms(started))
                stop.wait(0.01)

    with LocalServer(runtime="process", isolation=isolation) as server, server.client() as porter:
        flooding = porter.sandboxes.create(image=PROCESS_IMAGE, command=["sh", "-c", "yes 'porter flood line'"])
        quiet = porter.sandboxes.create(image=PROCESS_IMAGE)
        wait_running(flooding)
        wait_running(quiet)
        time.sleep(1.0)
        # The kernel's own peak of the server's resident set, from now (clear_refs 5 resets it).
        before = _peak_kib(server.pid, "VmRSS")
        with contextlib.suppress(OSError):
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")
        prober = threading.Thread(target=probe, args=(server.url,), daemon=True)
        prober.start()
        result = quiet.exec(["sh", "-c", f"yes | head -c {plan.flood_bytes}"], timeout=WAIT_LIMIT_S * 5)
        time.sleep(2.0)
        stop.set()
        prober.join(WAIT_LIMIT_S)
        growth_mib = (_peak_kib(server.pid, "VmHWM") - before) / 1024
        flooding.terminate()
        quiet.terminate()
    fill(health, latencies)
    if latencies:
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, -(-99 * len(ordered) // 100) - 1)]
        health.met = p99 <= 100
        health.note = f"p99 {p99:.1f} ms, worst {ordered[-1]:.1f} ms; exec exit {result.exit_code}"
    fill(memory, [growth_mib])
    memory.met = growth_mib < 256
    return [health, memory]


# ---------------------------------------------------------------------------
# scale: a fan-out of a thousand, and a thousand idle sandboxes


#: The fan-out's cost per sandbox at its largest size may be at most this many times its cost at the smallest.
LINEAR_LIMIT = 1.5


def scale_rows(title: str, plan: Plan) -> list[Row]:
    """The scale rows, not yet measured."""
    largest, smallest, idle = max(plan.scale_sizes), min(plan.scale_sizes), plan.idle_sandboxes
    floor = bench_scale.FLOOR_CONCURRENCY
    return [
        Row(
            "process_scale_fan_out",
            f"{title}: fan-out of {largest} sandboxes, create + exec + terminate (AsyncPorter)",
            "s",
            target="≤ 8 s, 0 failures",
        ),
        Row(
            "process_scale_fan_out_floor",
            f"{largest} bare `bwrap … python3 -I -S` (the agent's start), {floor} at a time",
            "s",
        ),
        Row(
            "process_scale_fan_out_network_floor",
            f"{largest} bare launches as above, each with a network as a root server's sandbox "
            f"(`slirp4netns`, once the namespace's loopback is up), {floor} at a time",
            "s",
        ),
        Row(
            "process_scale_linear",
            f"{title}: fan-out cost per sandbox at {largest} over at {smallest}",
            "x",
            target=f"≤ {LINEAR_LIMIT}x",
        ),
        Row(
            "process_scale_idle_pss",
            f"{title}: memory (PSS of bwrap + agent) per idle sandbox, {idle} live",
            "MiB",
            target="≤ 4 MiB",
        ),
        Row("process_scale_idle_pss_floor", "a bare idle `python3 -I -S` (the agent's interpreter)", "MiB"),
        Row(
            "process_scale_idle_api",
            f"{title}: `GET /v1/sandbox/{{id}}` while {idle} sandboxes idle",
            "ms",
            target="p99 ≤ 50 ms",
        ),
        Row("process_scale_idle_api_floor", f"{title}: the same with one sandbox live", "ms"),
    ]


def _p99(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(1, -(-99 * len(ordered) // 100)) - 1]


def bench_scale_rows(isolation: str, title: str, plan: Plan, bwrap: BwrapLaunch | None) -> list[Row]:
    """Fan-outs of growing size, each after as many bare launches (its floor), then many idle sandboxes."""
    fan, floor, network_floor, linear, pss, pss_floor, api, api_floor = scale_rows(title, plan)
    costs: dict[int, float] = {}
    notes: list[str] = []
    failures = 0
    first_error = ""
    largest = max(plan.scale_sizes)
    with LocalServer(runtime="process", isolation=isolation) as server:
        for size in sorted(plan.scale_sizes):
            if bwrap is not None and bwrap.floor_argv is not None:
                floor_s = bench_scale.launch_floor_s(bwrap.floor_argv, bwrap.pass_fds, size)
                if size == largest:
                    fill(floor, [floor_s])
                    network_floor.skipped = _network_floor(bwrap, size, network_floor)
            measured = asyncio.run(bench_scale.fan_out(server, size))
            failures += measured.failures
            first_error = first_error or measured.first_error
            costs[size] = measured.per_sandbox_ms
            notes.append(f"{size}: {measured.wall_s:.2f} s")
            if size == largest:
                fill(fan, [measured.wall_s])
                phases = ", ".join(f"{phase} p50 {t['median']:.0f} ms" for phase, t in measured.phases.items())
                cpu = (
                    f"CPU: server {measured.server_cpu_s:.1f} s, client {measured.client_cpu_s:.1f} s, "
                    f"whole machine {measured.machine_cpu_s:.1f} s ({os.cpu_count()} cores)"
                )
                notes.append(f"at {size}: {phases}; {cpu}")
    # A fresh server for the idle ones: its growth per sandbox is theirs, not what the fan-outs left.
    with LocalServer(runtime="process", isolation=isolation) as server:
        idle = bench_scale.idle(server, plan.idle_sandboxes, probe_s=plan.idle_probe_s)
    fan.note = f"failures {failures}/{sum(plan.scale_sizes)}" + (f" (first: {first_error})" if first_error else "")
    fan.note += "; " + "; ".join(notes)
    fan.met = fan.median is not None and fan.median <= 8 and failures == 0
    for limit in (floor, network_floor):
        if limit.n == 0 and not limit.skipped:
            limit.skipped = "not available on this machine"
    smallest = min(plan.scale_sizes)
    if costs.get(smallest) and largest in costs:
        fill(linear, [costs[largest] / costs[smallest]])
        linear.met = linear.median is not None and linear.median <= LINEAR_LIMIT
        linear.note = ", ".join(f"{size}: {cost:.1f} ms" for size, cost in sorted(costs.items())) + " per sandbox"
    if idle.live:
        fill(pss, [idle.pss_per_sandbox_mib])
        pss.met = idle.pss_per_sandbox_mib <= 4 and idle.failures == 0
        pss.note = (
            f"failures {idle.failures}/{idle.size}; per sandbox: {idle.processes_per_sandbox:g} processes, "
            f"{idle.fds_per_sandbox:g} server fds, {idle.server_rss_per_sandbox_kib:.0f} KiB of server RSS; "
            f"server threads {idle.threads}; created in {idle.create_s:.1f} s"
        )
    python3 = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if python3:
        fill(pss_floor, [bench_scale.idle_python_pss_mib(python3)])
    else:
        pss_floor.skipped = "no python3 on this machine"
    fill(api, idle.api_ms)
    if idle.api_ms:
        api.met = _p99(idle.api_ms) <= 50 and idle.failures == 0
        api.note = f"p99 {_p99(idle.api_ms):.1f} ms, worst {max(idle.api_ms):.1f} ms"
    fill(api_floor, idle.floor_api_ms)
    if idle.floor_api_ms:
        api_floor.note = f"p99 {_p99(idle.floor_api_ms):.1f} ms"
    return [fan, floor, network_floor, linear, pss, pss_floor, api, api_floor]


def _network_floor(bwrap: BwrapLaunch, size: int, row: Row) -> str:
    """Fill ``row`` with the networked launch floor; answer why it was skipped, or ""."""
    slirp4netns = shutil.which("slirp4netns")
    if os.geteuid() != 0 or slirp4netns is None or bwrap.waiting_argv is None:
        return "needs root and slirp4netns (what gives a root server's sandboxes their network)"
    fill(row, [bench_scale.network_launch_floor_s(bwrap.waiting_argv, slirp4netns, size)])
    return ""


SECTIONS = (
    "import",
    "sdk",
    "process",
    "fanout",
    "streams",
    "flood",
    "network",
    "pool",
    "scale",
    "docker",
    "snapshots",
    "metrics",
    "kubernetes",
)


def skipped_rows(section: str, plan: Plan, why: str) -> list[Row]:
    """The rows ``section`` would report, each skipped for ``why``."""
    if section == "import":
        rows = import_rows({})
    elif section == "sdk":
        rows = per_call_rows("sync", {}) + per_call_rows("async", {})
    elif section == "process":
        rows = runtime_rows("process", "process", RuntimeSamples(), targets=True, limit_labels=PROCESS_LIMITS)
    elif section == "fanout":
        rows = [Row("process_fan_out", fan_out_label("process", plan.fanout_size), "s", target="≤ 2 s, 0 failures")]
    elif section == "snapshots":
        rows = snapshot_rows("process", "process", plan, SnapshotSamples(), "`cp -a` of the same files")
        rows += snapshot_rows("docker", "docker", plan, SnapshotSamples(), "`docker commit` (CLI)")
    elif section == "metrics":
        rows = [
            Row(
                f"{runtime}_metrics_sampling",
                f"{runtime}: one metrics sampling of {plan.sampled_sandboxes} live sandboxes",
                "ms",
            )
            for runtime in ("process", "docker")
        ]
    elif section == "flood":
        rows = flood_rows("process", plan.flood_bytes)
    elif section == "network":
        rows = network_rows()
    elif section == "pool":
        rows = pool_rows()
    elif section == "scale":
        rows = scale_rows("process", plan)
    elif section == "streams":
        rows = stream_rows("process", "process", plan, StreamSamples())
        rows += stream_rows("docker", "docker", plan, StreamSamples())
    elif section == "docker":
        rows = runtime_rows("docker", "docker", RuntimeSamples(), targets=False, limit_labels=DOCKER_LIMITS)
        rows.append(Row("docker_fan_out", fan_out_label("docker", plan.docker_fanout_size), "s"))
        rows.append(docker_pool_row())
        rows += stream_rows("docker", "docker", plan, StreamSamples())
    else:
        rows = runtime_rows("kubernetes", "kubernetes", RuntimeSamples(), targets=False, limit_labels=KUBE_LIMITS)
    for row in rows:
        row.skipped = why
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measure once, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few repetitions only (for the test)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results.json", help="where to write the JSON")
    parser.add_argument("--no-docker", action="store_true", help="skip the Docker rows")
    parser.add_argument(
        "--porter-python",
        type=Path,
        help="the interpreter of a venv holding Porter's published client (default: env PORTER_REFERENCE_PYTHON, "
        "else the tests' venv of it, built from PyPI on first use)",
    )
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable); the others are skipped"
    )
    options = parser.parse_args(argv)
    plan = Plan.for_mode(options.quick)
    selected = set(options.only or SECTIONS)
    if options.no_docker:
        selected.discard("docker")
    started = time.time()
    load_before = os.getloadavg()[0]

    def say(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    def skip(section: str) -> list[Row]:
        why = "--no-docker given" if section == "docker" and options.no_docker else "not selected (--only)"
        return skipped_rows(section, plan, why)

    rows: list[Row] = []
    if "import" in selected:
        say("import time")
        rows += bench_import(plan)
    else:
        rows += skip("import")

    with bwrap_launch() as bwrap:
        isolation = "bwrap" if bwrap else "none"
        title = "process" if bwrap else "process (isolation none)"
        if selected & {"sdk", "process", "fanout", "streams"}:
            say(f"process runtime (isolation {isolation})")
            with LocalServer(runtime="process", isolation=isolation) as server:
                reference = reference_python(options.porter_python) if "sdk" in selected else (None, "")
                rows += bench_process_server(server, bwrap, title, selected, plan, say, skip, reference)
        else:
            rows += skip("sdk") + skip("process") + skip("fanout") + skip("streams")[:2]
        if "flood" in selected:
            say("process runtime: floods")
            rows += bench_flood(isolation, title, plan)
        else:
            rows += skip("flood")
        if "network" in selected:
            say("process runtime: networking on, and the port proxy")
            rows += bench_network(bwrap, plan)
        else:
            rows += skip("network")
        if "pool" in selected:
            say(f"process runtime with --pool {BENCH_POOL_SIZE}: first command of a pooled sandbox")
            rows += bench_pool(bwrap, plan)
        else:
            rows += skip("pool")
        if "scale" in selected:
            say(f"process runtime: fan-outs of {', '.join(map(str, plan.scale_sizes))}; {plan.idle_sandboxes} idle")
            rows += bench_scale_rows(isolation, title, plan, bwrap)
        else:
            rows += skip("scale")

        if "snapshots" in selected:
            say(f"snapshots of {plan.snapshot_mb} MB")
            rows += bench_snapshots(plan, bwrap)
        else:
            rows += skip("snapshots")
        if "metrics" in selected:
            say(f"metrics sampling at {plan.sampled_sandboxes} live sandboxes")
            rows += bench_sampling(plan)
        else:
            rows += skip("metrics")

    if "docker" in selected:
        say("docker runtime")
        rows += bench_docker(plan, "streams" in selected)
    else:
        rows += skip("docker")

    if "kubernetes" in selected:
        say("kubernetes runtime")
        rows += bench_kubernetes(plan)
    else:
        rows += skip("kubernetes")

    load_after = os.getloadavg()[0]
    table = markdown(rows)
    print(
        f"porter-sandbox bench: {os.cpu_count()} CPUs, load average {load_before:.2f} at start, "
        f"{load_after:.2f} at end; process isolation {isolation}{' (quick: numbers mean nothing)' if options.quick else ''}\n",
        flush=True,
    )
    print(table, flush=True)
    report = {
        "quick": options.quick,
        "started_at": datetime.fromtimestamp(started).astimezone().isoformat(),
        "duration_s": round(time.time() - started, 1),
        "isolation": isolation,
        "machine": machine(),
        "load_average_at_start": load_before,
        "plan": asdict(plan),
        "rows": [asdict(row) for row in rows],
        "markdown": table,
    }
    options.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    say(f"wrote {options.output} in {report['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

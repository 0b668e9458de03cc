"""The runtime interface: what the service needs from whatever runs sandboxes.

A runtime starts a sandbox's main process, runs execs in it, stops it, and
reports what the sandbox writes and when its main process ends. It holds no
rules of the API (names, phases, attachments, TTLs): those live in the
service, which calls a runtime and records what it reports. It knows nothing
of HTTP either: it raises the errors below, never an API error.

Implementing a runtime (sandboxes as pods on a cluster, say) means:

- ``name`` and ``capabilities``: what ``--runtime`` calls it, and what it can
  do (whether its sandboxes outlive the server, which volume types and
  snapshot modes it has, whether it streams exec output);
- ``volumes``: the ``VolumeBackend`` whose volumes it mounts (directories on
  this host; PersistentVolumeClaims on a cluster). ``LaunchSpec.mounts``
  names volumes by id; the runtime finds them through its backend;
- ``open(events)`` / ``readiness()`` / ``close(stop_sandboxes)``;
- ``launch(spec)``, which answers a ``Placement`` (the host and internal
  address the backend gave the sandbox); ``exec``, ``stop``, ``adopt``;
- where declared in ``capabilities`` (``streaming_exec``, ``terminal``):
  ``start_process``, a process whose output the caller reads as it is
  written, with a stdin, signals to its whole process group and, on a
  pseudo-terminal from the sandbox's own devpts, a window size (a
  ``Process``). A runtime without them answers ``Unsupported``, which the
  API turns into "not supported by this runtime";
- reporting through ``RuntimeEvents``: each line a sandbox writes (``log``)
  and how its main process ended (``exited``, with a typed ``SandboxExit``);
- where declared in ``capabilities``: ``snapshot`` (capture a running
  sandbox's writable state; ``LaunchSpec.snapshot_id`` starts a sandbox from
  it), ``delete_snapshot`` and ``prune_snapshots``; ``sample`` (CPU and memory
  counters, for metrics). The defaults here say the runtime has none.

A runtime owns each sandbox's scratch space (its writable root, ``/tmp``,
``/workspace``): it makes it at launch and frees it when the sandbox ends or
is stopped.
"""

from __future__ import annotations

import abc
import enum
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from ..volumes.base import VolumeBackend

Stream = Literal["stdout", "stderr"]


@dataclass(frozen=True)
class VolumeMount:
    """One volume of a sandbox: which volume, and where it appears inside."""

    #: Absolute mount path inside the sandbox, such as ``/data``.
    path: str
    volume_id: str


#: The environment every sandbox gets unless its request says otherwise (the service adds it to ``LaunchSpec.env``).
SANDBOX_ENV_DEFAULTS: Mapping[str, str] = {"PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a runtime needs to start one sandbox."""

    sandbox_id: str
    name: str
    image: str
    #: The entrypoint override; ``None`` runs the image's own (or, for the
    #: process runtime, an idle keep-alive main process).
    command: Sequence[str] | None
    args: Sequence[str] | None
    env: Mapping[str, str]
    tags: Mapping[str, str]
    #: The volumes to mount; none lies inside another (the service refuses ``/data`` with ``/data/x``).
    mounts: Sequence[VolumeMount] = ()
    memory_bytes: int | None = None
    cpu_millis: int | None = None
    #: Start from this snapshot's files (one this runtime took) instead of a fresh ``image``.
    snapshot_id: str | None = None
    #: At most this many processes (and threads) at once in the sandbox; None: the runtime's default.
    pids_max: int | None = None
    #: ``egress.allowed_destinations`` (see ``runtimes.egress``); ``None`` leaves egress open. Only
    #: given to a runtime whose ``capabilities.egress`` says it enforces it.
    egress: Sequence[str] | None = None
    #: The ports of ``networking`` to serve (only given to a runtime with ``capabilities.networking``).
    ports: Sequence[int] = ()
    #: The ports of ``networking`` marked ``internal``: served to other sandboxes of this server at an address.
    internal_ports: Sequence[int] = ()


@dataclass(frozen=True)
class Placement:
    """What the backend assigned to a sandbox it started."""

    #: The public hostname where the sandbox's exposed port is served; ``""`` when nothing is exposed.
    host: str = ""
    #: An address other sandboxes reach it at, when the backend gives one.
    internal_address: str | None = None


@dataclass(frozen=True)
class OutputLimits:
    """The bounds a runtime keeps on what processes print, whatever they print (see ``output``)."""

    #: Bytes of each stream (stdout, stderr) an exec's answer holds; the rest is read and dropped.
    exec_answer_bytes: int = 16 * 1024 * 1024
    #: Lines, and bytes of line text, of one exec's output (both streams) reported through ``events.log``:
    #: as much as the sandbox's log keeps (more would only evict itself). The server sets them from its
    #: log retention; these are what its defaults keep (nine tenths of 100000 lines and 64 MiB).
    exec_log_lines: int = 90_000
    exec_log_bytes: int = 64 * 1024 * 1024 - 64 * 1024 * 1024 // 10


@dataclass(frozen=True)
class ExecOutput:
    """What one exec printed and how it exited.

    Each stream holds at most ``Runtime.output_limits.exec_answer_bytes``;
    one cut short ends with a note saying so (``output.CappedOutput``).
    """

    stdout: str
    stderr: str
    exit_code: int
    stdout_truncated: bool = False
    stderr_truncated: bool = False


class ExitKind(enum.Enum):
    """How a sandbox's main process came to an end without being stopped."""

    #: It ended by itself; ``exit_code`` is its own (128 + n when a signal n killed it).
    EXITED = "exited"
    #: The kernel killed it for exceeding the sandbox's memory limit.
    OUT_OF_MEMORY = "out_of_memory"
    #: The backend lost it: evicted, removed by someone else, vanished with its node.
    LOST = "lost"


@dataclass(frozen=True)
class SandboxExit:
    """How a sandbox ended: the kind, the exit code when known, and a line for its logs."""

    kind: ExitKind
    exit_code: int | None
    #: Said in the sandbox's logs when the runtime knows more than the exit code.
    message: str | None = None


@dataclass(frozen=True)
class ResourceSample:
    """One reading of a running sandbox's counters."""

    #: CPU time all its processes used since it started, in seconds (a counter that only grows).
    cpu_seconds: float
    #: Memory it uses now, in bytes, page cache included.
    memory_bytes: int
    #: Bytes it received and sent since it started; ``None`` where the runtime cannot tell
    #: (sandboxes that share the host's network).
    rx_bytes: int | None = None
    tx_bytes: int | None = None
    #: When the counters were read (seconds since the epoch), where the runtime knows better than its caller.
    read_at: float | None = None


class RuntimeEvents(Protocol):
    """How a runtime reports back to the service. Both may be called from any thread."""

    def log(self, sandbox_id: str, exec_id: str, stream: Stream, line: str) -> None:
        """One line (without its newline) that the main process (``exec_id`` "") or an exec wrote."""

    def exited(self, sandbox_id: str, end: SandboxExit) -> None:
        """The main process ended by itself (not through ``stop``)."""

    def accepting_logs(self) -> bool:
        """Whether the service can take more lines now.

        While it cannot (its backlog of unwritten lines is full), a runtime
        stops reading output, so a sandbox that prints faster than its lines
        can be stored is slowed down instead of filling the server's memory.
        """


@dataclass(frozen=True)
class Capabilities:
    """What a runtime can do, declared so the service never guesses."""

    #: Whether its sandboxes keep running when the server stops (so ``adopt`` can take them back).
    outlives_server: bool = False
    #: The volume types (``disk``, ``object``) it can create and mount.
    volume_types: frozenset[str] = frozenset({"disk"})
    #: The snapshot modes (``filesystem``, ``full``) it can take; empty for none.
    snapshot_modes: frozenset[str] = frozenset()
    #: Whether ``start_process`` runs processes whose output streams as it is written, with a stdin and
    #: signals to their process group (streamed execs, timeouts that kill, background processes).
    streaming_exec: bool = False
    #: Whether ``start_process`` can run a process on a pseudo-terminal (``ProcessSpec.terminal``).
    terminal: bool = False
    #: Whether ``sample`` reads sandboxes' CPU and memory counters.
    metrics: bool = False
    #: Whether it enforces an egress policy (``egress.allowed_destinations``); without it such a
    #: sandbox is refused, never started unrestricted.
    egress: bool = False
    #: Whether it serves a sandbox's ports (``networking``); without it such a sandbox is refused.
    networking: bool = False
    #: Whether the main process's stdout and stderr reach ``events.log`` apart. A backend whose log
    #: merges them (a pod's log on Kubernetes) reports every line of the main process as stdout.
    separate_main_streams: bool = True


class RuntimeUnavailable(Exception):
    """The runtime cannot be used now (engine unreachable); the message says what to do."""


class LaunchFailed(Exception):
    """The sandbox could not start (image missing, binary missing); the message is for its logs."""


class SandboxGone(Exception):
    """The runtime no longer has this sandbox (it ended or was never started here)."""


class CommandRefused(Exception):
    """The runtime cannot run this command as given (too large for one process, say); the message says why."""


class SnapshotFailed(Exception):
    """A snapshot could not be captured; the message says why (it becomes the snapshot's failure reason)."""


class Unsupported(Exception):
    """The runtime does not do this (its ``capabilities`` say so); the message says what it cannot do."""


class StdinClosed(Exception):
    """A process's stdin is closed: it had none, it was closed, or the process stopped reading it."""


@dataclass(frozen=True)
class TerminalSize:
    """A pseudo-terminal's window, in character cells."""

    rows: int
    cols: int


@dataclass(frozen=True)
class ProcessSpec:
    """A process to start in a running sandbox (``Runtime.start_process``)."""

    #: The program and its arguments.
    command: Sequence[str]
    #: Its environment: the sandbox's, with the caller's on top (as ``exec`` takes it).
    env: Mapping[str, str] = field(default_factory=dict)
    #: Its working directory (absolute); ``None`` for the sandbox's.
    cwd: str | None = None
    #: Whether its stdin is a pipe the caller writes (``Process.write``); otherwise it reads nothing.
    stdin: bool = False
    #: Run it on a pseudo-terminal of this size, from the sandbox's own devpts: its stdin, stdout and
    #: stderr are the terminal (so ``tty`` names it), and all its output is ``stdout``.
    terminal: TerminalSize | None = None


#: One piece of a process's output: the stream and its bytes.
OutputChunk = tuple[Stream, bytes]


class Process(abc.ABC):
    """A process ``Runtime.start_process`` started: its output as it is written, its stdin, signals, its end.

    Output is read at the caller's pace: while the caller does not ``read``,
    the runtime stops reading the process's pipes (a bounded amount waits), so
    the process blocks on its next write and nothing piles up in the server.
    Its output is not reported through ``events.log``: the caller logs what it
    reads. Once the process exited, output its leftover children still write
    is read for a moment more (half a second of reading), then dropped.
    """

    @abc.abstractmethod
    async def read(self) -> OutputChunk | None:
        """The next piece of output, in the order written per stream; ``None`` once there is no more."""

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Write ``data`` to its stdin, waiting while the pipe is full; ``StdinClosed`` when it cannot."""

    @abc.abstractmethod
    async def close_stdin(self) -> None:
        """Close its stdin (it reads end of file); a no-op when it has none or it is closed."""

    @abc.abstractmethod
    async def signal(self, signum: int) -> None:
        """Send ``signum`` to every process of its process group (its own children included).

        A no-op once they ended. ``SIGKILL`` ends them for sure: what a timeout
        or a client that went away needs.
        """

    @abc.abstractmethod
    async def resize(self, size: TerminalSize) -> None:
        """Set its terminal's window size (it gets ``SIGWINCH``); a no-op without a terminal."""

    @abc.abstractmethod
    async def wait(self) -> int:
        """Its exit code, as a shell reports it (128 + n for signal n; 127 when the program does not exist).

        Raise ``SandboxGone`` when the sandbox ended before the process did.
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop reading its output and free what the runtime holds for it; it is not killed."""


class Runtime(abc.ABC):
    """Runs sandboxes. One instance serves the whole server."""

    #: What ``--runtime`` names: ``process``, ``docker``, ``kubernetes``.
    name: str
    capabilities: Capabilities = Capabilities()
    #: Where this runtime's volumes live; its sandboxes mount them from there.
    volumes: VolumeBackend
    #: How much of what processes print is answered and logged; set before ``open``.
    output_limits: OutputLimits = OutputLimits()

    @abc.abstractmethod
    async def open(self, events: RuntimeEvents) -> None:
        """Get ready to run sandboxes; remember ``events`` for reporting.

        Raise ``RuntimeUnavailable`` only for a fault a user must fix before
        the server can start (bubblewrap missing); a backend that is merely
        down now (engine unreachable) is reported by ``readiness`` instead.
        """

    @abc.abstractmethod
    async def readiness(self) -> str | None:
        """``None`` when sandboxes can run now, else a short message saying why not."""

    def network_note(self) -> str:
        """Said after a refusal of ``egress`` or ``networking``: why this runtime cannot here, or ``""``."""
        return ""

    @abc.abstractmethod
    async def launch(self, spec: LaunchSpec) -> Placement:
        """Start the sandbox's main process; return once it runs, with what the backend assigned.

        Raise ``LaunchFailed`` when it cannot start, ``RuntimeUnavailable``
        when the backend is unreachable.
        """

    @abc.abstractmethod
    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        """Run ``command`` in the running sandbox and wait for it.

        Output lines are also reported through ``events.log`` with ``exec_id``.
        A program that does not exist answers exit code 127 with a message on
        stderr. Raise ``SandboxGone`` when the sandbox is no longer there,
        ``CommandRefused`` when the command cannot be run as given.
        """

    @abc.abstractmethod
    async def stop(self, sandbox_id: str) -> None:
        """Stop the sandbox and free what it holds; a no-op when it is already gone.

        Ending a sandbox through ``stop`` does not call ``events.exited``.
        """

    @abc.abstractmethod
    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        """At start-up: take over those sandboxes the store records as live that still run.

        Answer the ids adopted (they keep running, report their logs and exit,
        and accept execs); the service marks the others ``backend_lost``, and
        the runtime frees whatever of theirs is left. A runtime whose
        sandboxes cannot outlive the server answers an empty set.
        """

    @abc.abstractmethod
    async def close(self, stop_sandboxes: bool) -> None:
        """Shut down; with ``stop_sandboxes`` stop every sandbox first."""

    # Snapshots and metrics: optional, declared in ``capabilities``.

    async def snapshot(self, sandbox_id: str, snapshot_id: str, mode: str) -> int:
        """Capture the running sandbox's state as snapshot ``snapshot_id``; answer its size in bytes.

        Called only with a ``mode`` in ``capabilities.snapshot_modes``. The
        capture is consistent (taken while the sandbox cannot write, or
        verified unchanged) and the sandbox keeps running. Raise
        ``SandboxGone`` when it is not running, ``SnapshotFailed`` otherwise.
        """
        raise SnapshotFailed(f"the {self.name} runtime takes no snapshots")

    async def delete_snapshot(self, snapshot_id: str) -> None:
        """Free what snapshot ``snapshot_id`` holds; a no-op when it holds nothing.

        Never called while a sandbox is being launched from it; sandboxes
        already started from it must keep running.
        """
        return  # a runtime that takes no snapshots holds none

    async def prune_snapshots(self, keep: set[str]) -> None:
        """At start-up: free every snapshot of this runtime whose id is not in ``keep`` (left by a crash)."""
        return  # a runtime that takes no snapshots holds none

    async def sample(self, sandbox_ids: Sequence[str]) -> dict[str, ResourceSample]:
        """Read the counters of these running sandboxes; those it cannot read are left out."""
        return {}

    # Ports: optional, declared in ``capabilities.networking``.

    async def open_port(self, sandbox_id: str, port: int) -> socket.socket:
        """A TCP connection to ``port`` on the sandbox's own loopback, for the server's proxy.

        Only for a port its ``LaunchSpec.ports`` listed. ``SandboxGone`` when it
        is not running; ``OSError`` when nothing listens there.
        """
        raise Unsupported(f"the {self.name} runtime does not serve sandboxes' ports")

    # Processes: optional, declared in ``capabilities`` (``streaming_exec``, ``terminal``).

    async def start_process(self, sandbox_id: str, spec: ProcessSpec, exec_id: str) -> Process:
        """Start ``spec`` in the running sandbox and answer it once it runs.

        It runs in a process group of its own, so ``Process.signal`` reaches
        its children too. A program that does not exist (or a working directory
        that does not) answers a process that wrote why on stderr and exited 127
        (126), as ``exec`` does. Raise ``SandboxGone`` when the sandbox is not
        running, ``CommandRefused`` when the command cannot be run as given, and
        ``Unsupported`` when the runtime cannot (its ``capabilities`` say so).
        """
        raise Unsupported(f"the {self.name} runtime cannot start streamed or background processes")

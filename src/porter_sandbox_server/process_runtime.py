"""The ``process`` runtime: sandboxes as process trees on this host, isolated with bubblewrap.

Each sandbox is one ``bwrap`` invocation: new PID, IPC, UTS and cgroup
namespaces (hostname = the sandbox's name), a new session (no TIOCSTI into a terminal),
every capability dropped (bwrap also sets no_new_privs), ``--die-with-parent``;
the host's system directories read-only (``/usr`` and its ``/bin``, ``/lib*``
links, ``/etc`` with its secrets masked, ``/opt``), a fresh ``/proc`` (only
the sandbox's own processes) and a minimal ``/dev``, and a private writable
``/tmp``, ``/workspace`` and home (``/root``) bound from directories under
the sandbox's ``work_dir``, so every process of the sandbox sees the same
files. Volumes are bound read-write at their mount paths. Nothing else of the
host is there: not ``/home``, not the host's ``/root``, not ``/var``, ``/srv``
or ``/work``, and not the server's data directory (hidden under an empty tmpfs
when it lives below a system directory). The network is the host's.

How execs get in: PID 1 of each sandbox is a tiny agent
(``sandbox_agent.py``, run by the host's ``python3 -I -S``). The server keeps
one ``SOCK_SEQPACKET`` socket to it. To run a process (the main command or an
exec) the server makes two pipes and sends the agent the command, its
environment and the pipes' write ends (``SCM_RIGHTS``); the agent
starts it with ``posix_spawn`` and answers with its exit status. So an exec costs no
bubblewrap or interpreter start (about 1 ms on a 2-core box, against about 6 ms
for a bare ``bwrap ... true``), it runs in the sandbox's namespaces, sees exactly
the main process's files, and its output flows straight from the process into
the server's pipes (read by the event loop, never blocking it). The
alternatives cost more per exec: ``nsenter`` plus redoing the mount setup, or
a fresh ``bwrap`` per exec, which would not share the PID namespace. Without
a command, the agent itself is the idle keep-alive main process. Being PID 1,
it cannot be killed from inside the sandbox. A keep-alive sandbox counts as
running once its PID 1 exists (about 3 ms): execs wait in the socket while the
agent's python starts (about 10 ms). A main command must be seen to start.

Ending: when the main process ends the agent reports its status and exits;
being PID 1, its exit ends every process left in the sandbox. ``stop`` kills
the agent (through a pidfd) and ``bwrap``, and returns once PID 1, and so
every process of the sandbox, has ended. A server killed outright takes its
``bwrap`` children with it (``--die-with-parent``), and the agent exits when
its socket closes.

Limits: each sandbox gets child cgroups of the server's own when the host
lets us create them (cgroup v1, or v2 with the controllers delegated):
memory (``memory.limit_in_bytes`` / ``memory.max``; the kernel kills a
process over it, and the exit is reported with that reason), CPU as a CFS
quota, and at most ``SANDBOX_PIDS_MAX`` processes. Without a memory cgroup,
memory falls back to ``RLIMIT_AS`` on each process (a process over it gets
``MemoryError`` or ``ENOMEM``), and CPU is not enforced.

``--isolation none`` runs the same agent directly on the host (a new session
in ``work_dir/workspace``, ``HOME`` and ``TMPDIR`` under ``work_dir``):
nothing is isolated and volumes cannot appear at their mount paths.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import functools
import importlib.util
import json
import logging
import marshal
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from porter_sandbox_server.errors import BadRequest
from porter_sandbox_server.runtime import (
    ExecOutput,
    LaunchFailed,
    LaunchSpec,
    Runtime,
    RuntimeEvents,
    RuntimeUnavailable,
    SandboxGone,
    Stream,
)

logger = logging.getLogger(__name__)

#: PATH inside a sandbox unless its ``env`` says otherwise.
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANDBOX_HOME = "/root"
#: On a sandbox's PATH after the system directories: holds `python` (the host's
#: python3) when the host has only `python3`, as images' `python` commands expect.
PYTHON_ALIAS_DIR = "/.porter-sandbox/bin"
#: At most this many processes (and threads) in one sandbox, where a pids cgroup can say so.
SANDBOX_PIDS_MAX = 4096
WORKSPACE = "/workspace"

INSTALL_HINT = (
    "the process runtime isolates sandboxes with bubblewrap, and `bwrap` is not on PATH: "
    "install it (`apt-get install bubblewrap`, `dnf install bubblewrap`) "
    "or pass `--isolation none` to run sandbox commands unisolated on this host"
)

# Top-level host directories a sandbox sees read-only: enough for the host's
# shells, coreutils and python3 to run.
_SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt")
# Files and directories under /etc that hold host secrets.
_ETC_SECRET_FILES = ("shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "security/opasswd")
_ETC_SECRET_DIRS = ("ssh", "ssl/private", "sudoers.d", "docker", "kubernetes", "wireguard")

# What the sandbox's python3 runs: read the agent's source from the control socket and run it.
# The first byte says how the rest comes: M, marshalled code (when the sandbox's
# python has the server's bytecode format: saves compiling at every start), or S, source.
_AGENT_BOOTSTRAP = (
    "import _socket,marshal,sys;c=_socket.socket(fileno=int(sys.argv[1]));s=c.recv(1<<20);c.detach();"
    "exec(marshal.loads(s[1:]) if s[:1]==b'M' else compile(s[1:],'porter-sandbox-agent','exec'))"
)
_READY_TIMEOUT = 30.0
_OUTPUT_GRACE = 0.5  # how long an exec waits for its pipes to close after it exited
_MAX_LINE = 64 * 1024  # a longer line without newline is reported in pieces
_SEND_TIMEOUT = 30.0
_SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)


def _exit_code(status: int) -> int:
    """A ``waitpid`` status as a shell reports it: the exit code, or 128 + signal."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


_NAMESPACE_ARGS = (
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",  # /proc/self/cgroup shows no host cgroup paths
    "--cap-drop",
    "ALL",
    "--as-pid-1",
)


def bwrap_argv(
    bwrap: str,
    spec: LaunchSpec,
    agent: Sequence[str],
    *,
    info_fd: int,
    hidden: Sequence[Path] = (),
) -> list[str]:
    """The ``bwrap`` command line that runs ``agent`` as PID 1 of ``spec``'s sandbox.

    ``hidden`` are host directories to cover with an empty tmpfs (the
    server's data directory, when a system directory contains it).
    """
    argv = [bwrap, *_NAMESPACE_ARGS, "--hostname", _hostname(spec.name)]
    argv += _system_binds()
    python = _python_alias_target()
    if python is not None:
        argv += ["--dir", PYTHON_ALIAS_DIR, "--symlink", python, f"{PYTHON_ALIAS_DIR}/python"]
    for path in hidden:
        argv += ["--tmpfs", str(path)]
    work = spec.work_dir
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(work / "tmp"),
        "/tmp",
        "--bind",
        str(work / "workspace"),
        WORKSPACE,
        "--bind",
        str(work / "home"),
        SANDBOX_HOME,
    ]
    # Parents before children, so a volume at /data/x lands inside one at /data.
    for mount_path, source in sorted(spec.mounts.items(), key=lambda item: item[0].count("/")):
        argv += ["--bind", str(source), mount_path]
    argv += ["--chdir", WORKSPACE, "--info-fd", str(info_fd), "--", *agent]
    return argv


@functools.lru_cache(maxsize=1)
def _system_binds() -> tuple[str, ...]:
    """The bwrap arguments for the host's system directories, read-only, with /etc's secrets masked."""
    argv: list[str] = []
    for name in _SYSTEM_DIRS:
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    etc = Path("/etc")
    for name in _ETC_SECRET_FILES:
        if (etc / name).is_file():
            argv += ["--ro-bind", "/dev/null", str(etc / name)]
    for name in _ETC_SECRET_DIRS:
        if (etc / name).is_dir() and not (etc / name).is_symlink():
            argv += ["--tmpfs", str(etc / name)]
    return tuple(argv)


@functools.lru_cache(maxsize=1)
def _system_roots() -> tuple[Path, ...]:
    return tuple(_resolved(Path("/", name)) for name in _SYSTEM_DIRS if Path("/", name).is_dir())


def hidden_dirs(paths: Sequence[Path]) -> list[Path]:
    """Which host directories to hide so that none of ``paths`` shows through a system directory.

    For each path below a directory bound read-only into sandboxes (``/opt``
    say), the top-most directory under it that contains the path
    (``/opt/porter`` for ``/opt/porter/data/sandboxes/x``).
    """
    roots = _system_roots()
    hide: set[Path] = set()
    for path in paths:
        real = _resolved(path)
        for root in roots:
            if real != root and real.is_relative_to(root):
                hide.add(root / real.relative_to(root).parts[0])
    return sorted(hide)


def _hostname(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9-]", "-", name).strip("-")[:63]
    return cleaned or "sandbox"


# --------------------------------------------------------------------- cgroups


@dataclass
class _Cgroups:
    """Where this server may create child cgroups for its sandboxes."""

    version: int  # 1 or 2
    memory: Path | None
    cpu: Path | None
    pids: Path | None = None

    @classmethod
    def discover(cls) -> _Cgroups | None:
        """The memory, CPU and pids cgroups this process may nest sandboxes in, or None."""
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        v1: dict[str, str] = {}
        v2_path: str | None = None
        for line in lines:
            _id, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            if controllers == "":
                v2_path = path
            for controller in controllers.split(","):
                v1[controller] = path
        base = Path("/sys/fs/cgroup")
        if "memory" in v1 or "cpu" in v1:
            memory = _usable_dir(base / "memory", v1.get("memory"))
            cpu = _usable_dir(base / "cpu", v1.get("cpu")) or _usable_dir(base / "cpu,cpuacct", v1.get("cpu"))
            pids = _usable_dir(base / "pids", v1.get("pids"))
            if memory or cpu or pids:
                return cls(1, memory, cpu, pids)
            return None
        if v2_path is not None and (base / "cgroup.controllers").exists():
            own = _usable_dir(base, v2_path)
            if own is None:
                return None
            try:
                enabled = (own / "cgroup.subtree_control").read_text().split()
                if not {"memory", "cpu", "pids"} <= set(enabled):
                    # Refused when this cgroup holds processes itself (v2's no-internal-processes rule).
                    (own / "cgroup.subtree_control").write_text("+memory +cpu +pids")
                enabled = (own / "cgroup.subtree_control").read_text().split()
            except OSError:
                return None

            def usable(controller: str) -> Path | None:
                return own if controller in enabled else None

            return cls(2, usable("memory"), usable("cpu"), usable("pids"))
        return None

    def remove_stale(self) -> None:
        """Remove empty cgroups left by servers that died (their pid is gone)."""
        for parent in {self.memory, self.cpu, self.pids} - {None}:
            assert parent is not None
            for child in parent.glob("porter-sandbox-*"):
                owner = child.name.split("-")[2]
                if owner.isdigit() and not Path("/proc", owner).exists():
                    with contextlib.suppress(OSError):
                        child.rmdir()


def _usable_dir(hierarchy: Path, own: str | None) -> Path | None:
    """The directory of our cgroup in ``hierarchy`` if we may create children in it."""
    if own is None or not hierarchy.is_dir():
        return None
    for candidate in (hierarchy / own.lstrip("/"), hierarchy):
        probe = candidate / f"porter-sandbox-{os.getpid()}-probe"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError:
            continue
        return candidate
    return None


@dataclass
class _SandboxCgroup:
    """The cgroup directories of one sandbox."""

    version: int
    dirs: list[Path]
    memory_dir: Path | None

    @classmethod
    def create(
        cls, cgroups: _Cgroups, sandbox_id: str, memory_bytes: int | None, cpu_millis: int | None, pids_max: int
    ) -> _SandboxCgroup:
        """Make the sandbox's cgroups and set its limits."""
        name = f"porter-sandbox-{os.getpid()}-{re.sub(r'[^A-Za-z0-9_.-]', '_', sandbox_id)}"
        dirs: list[Path] = []
        memory_dir: Path | None = None
        try:
            if memory_bytes is not None and cgroups.memory is not None:
                memory_dir = cgroups.memory / name
                memory_dir.mkdir(exist_ok=True)
                dirs.append(memory_dir)
                if cgroups.version == 1:
                    (memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
                    # Without swap accounting this file is absent; with it, no swapping past the limit.
                    with contextlib.suppress(OSError):
                        (memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
                else:
                    (memory_dir / "memory.max").write_text(str(memory_bytes))
                    with contextlib.suppress(OSError):
                        (memory_dir / "memory.swap.max").write_text("0")
            if cpu_millis is not None and cgroups.cpu is not None:
                cpu_dir = cgroups.cpu / name
                cpu_dir.mkdir(exist_ok=True)
                if cpu_dir not in dirs:
                    dirs.append(cpu_dir)
                period = 100_000
                quota = max(1_000, cpu_millis * period // 1000)
                if cgroups.version == 1:
                    (cpu_dir / "cpu.cfs_period_us").write_text(str(period))
                    (cpu_dir / "cpu.cfs_quota_us").write_text(str(quota))
                else:
                    (cpu_dir / "cpu.max").write_text(f"{quota} {period}")
            if cgroups.pids is not None:
                pids_dir = cgroups.pids / name
                pids_dir.mkdir(exist_ok=True)
                if pids_dir not in dirs:
                    dirs.append(pids_dir)
                (pids_dir / "pids.max").write_text(str(pids_max))
        except OSError as error:
            cls(cgroups.version, dirs, memory_dir).remove_now()
            raise LaunchFailed(f"could not set the sandbox's resource limits: {error}") from error
        return cls(cgroups.version, dirs, memory_dir)

    def add(self, pid: int) -> None:
        """Move a process (and so what it starts afterwards) into the sandbox's cgroups."""
        for directory in self.dirs:
            (directory / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """How many processes the kernel has killed for exceeding the memory limit."""
        if self.memory_dir is None:
            return 0
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.memory_dir / name).read_text()
        except OSError:
            return 0
        match = re.search(r"^oom_kill (\d+)$", text, re.MULTILINE)
        return int(match.group(1)) if match else 0

    def kill_all(self) -> None:
        """SIGKILL every process still in the sandbox's cgroups."""
        for directory in self.dirs:
            with contextlib.suppress(OSError):
                for pid in (directory / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGKILL)

    def remove_now(self) -> bool:
        """Try to remove the cgroups; False while processes remain in one."""
        done = True
        for directory in self.dirs:
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                done = False
        return done

    async def remove(self) -> None:
        """Remove the cgroups once their processes are gone (bounded wait)."""
        for _ in range(100):
            if self.remove_now():
                return
            self.kill_all()
            await asyncio.sleep(0.02)
        logger.warning("could not remove cgroups %s: processes remain in them", self.dirs)


# --------------------------------------------------------------------- output


class _OutputReader(asyncio.Protocol):
    """Reads one pipe: reports each line through ``events.log``, optionally keeps all of it."""

    def __init__(self, events: RuntimeEvents, sandbox_id: str, exec_id: str, stream: Stream, keep: bool) -> None:
        self._events = events
        self._sandbox_id = sandbox_id
        self._exec_id = exec_id
        self._stream = stream
        self._keep = keep
        self._chunks: list[bytes] = []
        self._partial = b""
        self.transport: asyncio.BaseTransport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's pipe transports are not asyncio.ReadTransport subclasses: keep the base type.
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._keep:
            self._chunks.append(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        while len(self._partial) > _MAX_LINE:
            lines.append(self._partial[:_MAX_LINE])
            self._partial = self._partial[_MAX_LINE:]
        for line in lines:
            self._emit(line[:-1] if line.endswith(b"\r") else line)

    def _emit(self, line: bytes) -> None:
        try:
            self._events.log(self._sandbox_id, self._exec_id, self._stream, line.decode("utf-8", "replace"))
        except Exception:  # the service's bug must not kill our reader
            logger.exception("events.log failed")

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = b""
        if not self.done.done():
            self.done.set_result(None)

    def text(self) -> str:
        """Everything read so far."""
        return b"".join(self._chunks).decode("utf-8", "replace")


async def _read_pipe(fd: int, reader: _OutputReader) -> None:
    """Feed ``reader`` from the pipe's read end ``fd``, which it now owns (closed on failure too)."""
    loop = asyncio.get_running_loop()
    pipe = open(fd, "rb", buffering=0)  # noqa: SIM115 (the transport owns it)
    try:
        await loop.connect_read_pipe(lambda: reader, pipe)
    except BaseException:
        pipe.close()
        raise


# --------------------------------------------------------------------- sandboxes


class _StderrReader(asyncio.Protocol):
    """Keeps the last few KiB that bwrap or the agent wrote; passes each chunk to ``listener``."""

    def __init__(self) -> None:
        self.tail = b""
        self.listener: Callable[[bytes], None] | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.tail = (self.tail + data)[-4096:]
        if self.listener is not None:
            self.listener(data)

    def eof_received(self) -> bool | None:
        return None  # close the transport (uvloop keeps it open on True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


class _Child:
    """The sandbox's ``bwrap`` (or agent) process: started by ``subprocess.Popen``, watched by a pidfd.

    Not ``loop.subprocess_exec``: uvloop forks the whole server for it, which costs
    milliseconds once the server is large, while ``Popen`` uses ``vfork``; and a pidfd
    needs no child watcher.
    """

    def __init__(self, popen: subprocess.Popen[bytes], stderr: _StderrReader) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stderr = stderr
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @classmethod
    async def start(cls, argv: Sequence[str], *, pass_fds: Sequence[int], cwd: str) -> _Child:
        """Start ``argv`` in a new session, stdout to /dev/null, stderr read by ``.stderr``."""
        loop = asyncio.get_running_loop()
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err_w,
                pass_fds=tuple(pass_fds),
                env={"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"},
                cwd=cwd,
                start_new_session=True,
            )
        except BaseException:
            os.close(err_r)
            raise
        finally:
            os.close(err_w)
        stderr = _StderrReader()
        child = cls(popen, stderr)
        child._watch()
        pipe = open(err_r, "rb", buffering=0)  # noqa: SIM115 (the transport owns it)
        try:
            await loop.connect_read_pipe(lambda: stderr, pipe)
        except BaseException:
            pipe.close()
            child.kill()
            raise
        return child

    def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:  # no pidfds (Linux < 5.3): a thread waits instead
            waiting = loop.run_in_executor(None, self._popen.wait)
            waiting.add_done_callback(lambda _: self._ended())
            return

        def readable() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            self._popen.wait()  # it has ended: this only reaps it
            self._ended()

        loop.add_reader(pidfd, readable)

    def _ended(self) -> None:
        if not self._exited.done():
            self._exited.set_result(self._popen.wait())

    @property
    def returncode(self) -> int | None:
        """The exit status once reaped (negative: killed by that signal), else None."""
        return self._popen.returncode

    async def wait(self) -> int:
        """Wait for the process to end; answer its ``returncode``."""
        return await asyncio.shield(self._exited)

    def kill(self) -> None:
        """SIGKILL it, unless it has been reaped (its pid could be another's by then)."""
        if self._popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


@dataclass
class _Sandbox:
    spec: LaunchSpec
    process: _Child
    control: socket.socket
    env: dict[str, str]
    cgroup: _SandboxCgroup | None
    rlimit_as: int
    ready: asyncio.Future[None]
    results: dict[int, asyncio.Future[tuple[bytes, bytes]]] = field(default_factory=dict)
    main_token: int | None = None
    main_started: asyncio.Future[None] | None = None
    main_readers: list[_OutputReader] = field(default_factory=list)
    stray_readers: set[_OutputReader] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    main_exited: bool = False
    stopping: bool = False
    finished: bool = False
    oom_seen: int = 0
    #: A pidfd of the sandbox's PID 1 (bubblewrap only): to kill it and know when all is gone.
    agent_pidfd: int | None = None
    #: launch returned: from now on an end is reported through ``exited``.
    launched: bool = False
    closed: bool = False


class ProcessRuntime(Runtime):
    """Runs each sandbox as a process tree on this host, isolated with bubblewrap (see the module doc)."""

    name = "process"

    def __init__(self, isolation: str = "auto") -> None:
        if isolation not in ("auto", "bwrap", "none"):
            raise ValueError(f"isolation must be auto, bwrap or none, not {isolation!r}")
        self.isolation = isolation
        self._bwrap: str | None = None
        self._python: str | None = None
        self._agent_payload = b""
        self._events: RuntimeEvents | None = None
        self._sandboxes: dict[str, _Sandbox] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._cgroups: _Cgroups | None = None
        self._tokens = 0
        self._told_image = False
        self._told_cpu = False
        self._opened = False

    @property
    def isolated(self) -> bool:
        """Whether sandboxes run under bubblewrap."""
        return self._bwrap is not None

    @property
    def memory_mechanism(self) -> str:
        """How memory limits are enforced here: ``cgroup v1``, ``cgroup v2`` or ``RLIMIT_AS``."""
        if self._cgroups is not None and self._cgroups.memory is not None:
            return f"cgroup v{self._cgroups.version}"
        return "RLIMIT_AS"

    async def open(self, events: RuntimeEvents) -> None:
        """Find bubblewrap and python3, probe cgroups; raise ``RuntimeUnavailable`` without bwrap."""
        self._events = events
        if self.isolation == "none":
            self._python = sys.executable
            logger.warning(
                "--isolation none: sandbox commands run UNISOLATED on this host, with the server's "
                "user and full view of its files; use it only for code you trust"
            )
        else:
            self._bwrap = shutil.which("bwrap")
            if self._bwrap is None:
                raise RuntimeUnavailable(INSTALL_HINT)
            self._python = _system_python()
            if self._python is None:
                raise RuntimeUnavailable(
                    "the process runtime runs a small agent with the host's python3 inside each sandbox, "
                    f"and none was found in {SANDBOX_PATH}: install python3 (`apt-get install python3`)"
                )
            await _probe_bwrap(self._bwrap, self._python)
        self._agent_payload = await _agent_payload(self._python)
        _raise_open_files_limit()
        self._cgroups = await asyncio.to_thread(_Cgroups.discover)
        if self._cgroups is not None:
            await asyncio.to_thread(self._cgroups.remove_stale)
        logger.info(
            "process runtime: isolation %s, memory limits by %s, CPU limits %s",
            "bubblewrap" if self._bwrap else "none",
            self.memory_mechanism,
            "by cgroup CPU quota" if self._cgroups and self._cgroups.cpu else "not enforced",
        )
        self._opened = True

    async def readiness(self) -> str | None:
        """``None`` once opened; sandboxes need nothing remote."""
        return None if self._opened else "the process runtime is not open"

    # ------------------------------------------------------------------ launch

    async def launch(self, spec: LaunchSpec) -> None:
        """Start the sandbox's agent (and main command) and return once it runs."""
        events = self._require_events()
        if spec.sandbox_id in self._sandboxes:
            raise LaunchFailed(f"sandbox {spec.sandbox_id} is already running")
        if not self._told_image:
            self._told_image = True
            logger.warning(
                "the process runtime runs no images: image %r (and any other) is recorded, not pulled; "
                "commands run from this host's system directories",
                spec.image,
            )
        # Args without a command run as the command: the host, our "image", has no entrypoint
        # (as an image without ENTRYPOINT runs its args).
        argv = [*(spec.command or ()), *(spec.args or ())]
        self._check_mounts(spec)
        _prepare_work_dir(spec.work_dir, unisolated=self._bwrap is None)  # a few mkdirs: not worth a thread
        env = self._base_env(spec)
        _check_no_nul([*argv, *(f"{k}={v}" for k, v in env.items())])

        cgroup: _SandboxCgroup | None = None
        rlimit_as = 0
        if spec.memory_bytes is not None and (self._cgroups is None or self._cgroups.memory is None):
            rlimit_as = spec.memory_bytes
        if spec.cpu_millis is not None and (self._cgroups is None or self._cgroups.cpu is None) and not self._told_cpu:
            self._told_cpu = True
            logger.warning("CPU limits are not enforced: this host lets the server create no CPU cgroup")
        if self._cgroups is not None:
            # A few writes to cgroupfs: quick enough for the event loop. The pids limit is always
            # there (a fork bomb in one sandbox must not take the host's pids).
            cgroup = _SandboxCgroup.create(
                self._cgroups, spec.sandbox_id, spec.memory_bytes, spec.cpu_millis, SANDBOX_PIDS_MAX
            )
            if not cgroup.dirs:
                cgroup = None

        # A keep-alive sandbox runs once its PID 1 exists: execs wait in the agent's socket while
        # its python starts (most of a launch). A main command must be seen to start (or not).
        sandbox = await self._spawn(spec, env, cgroup, rlimit_as, events, wait_ready=bool(argv))
        if argv:
            try:
                await self._start_main(sandbox, argv)
            except BaseException:
                await self._kill(sandbox)
                raise
        sandbox.launched = True
        if sandbox.closed:  # it ended while launch finished: report it, as _pump would have
            self._background(sandbox, self._agent_ended(sandbox, events))

    async def _spawn(
        self,
        spec: LaunchSpec,
        env: dict[str, str],
        cgroup: _SandboxCgroup | None,
        rlimit_as: int,
        events: RuntimeEvents,
        *,
        wait_ready: bool,
    ) -> _Sandbox:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        _allow_large_packets(ours)
        theirs.set_inheritable(True)
        assert self._python is not None
        agent = [self._python, "-I", "-S", "-c", _AGENT_BOOTSTRAP, str(theirs.fileno())]
        info_r, info_w = os.pipe2(os.O_CLOEXEC)
        try:
            if self._bwrap is not None:
                agent.append("bwrap")
                hidden = hidden_dirs([spec.work_dir, *spec.mounts.values()])
                argv = bwrap_argv(self._bwrap, spec, agent, info_fd=info_w, hidden=hidden)
                cwd = "/"
                pass_fds: tuple[int, ...] = (theirs.fileno(), info_w)
            else:
                agent.append("none")
                argv = agent
                cwd = str(spec.work_dir / "workspace")
                pass_fds = (theirs.fileno(),)
            try:
                process = await _Child.start(argv, pass_fds=pass_fds, cwd=cwd)
            except OSError as error:
                raise LaunchFailed(f"could not start the sandbox: {error}") from error
        except BaseException:
            os.close(info_r)
            ours.close()
            if cgroup is not None:
                await cgroup.remove()
            raise
        finally:
            os.close(info_w)
            theirs.close()

        sandbox = _Sandbox(
            spec=spec,
            process=process,
            control=ours,
            env=env,
            cgroup=cgroup,
            rlimit_as=rlimit_as,
            ready=loop.create_future(),
        )
        self._sandboxes[spec.sandbox_id] = sandbox
        # The agent's first read is its own source (keeps its command line short in `ps`).
        with contextlib.suppress(OSError):  # bwrap may have failed already: it says why on stderr
            ours.send(self._agent_payload)
        self._background(sandbox, self._pump(sandbox, events))
        process.stderr.listener = functools.partial(self._stderr_said, sandbox)
        waiter = asyncio.ensure_future(process.wait())
        try:
            if self._bwrap is not None:
                # bwrap names PID 1 right after cloning it, long before the agent runs.
                agent_pid = await _child_pid_or_exit(info_r, waiter)
                if agent_pid is None:
                    raise LaunchFailed(await self._refusal(sandbox))
                with contextlib.suppress(OSError):
                    sandbox.agent_pidfd = os.pidfd_open(agent_pid)
                # Were PID 1 gone and its pid reused already, we would signal and confine a stranger.
                if _parent_pid(agent_pid) != process.pid:
                    raise LaunchFailed(await self._refusal(sandbox))
            else:
                agent_pid = process.pid
            if cgroup is not None:
                # Before the agent starts anything: what it starts inherits the cgroups.
                try:
                    # In a thread: an attach can wait out an RCU grace period (10-15 ms on this cgroup v1
                    # host), which on the event loop stalled every other request for that long.
                    await asyncio.to_thread(cgroup.add, agent_pid)
                except ProcessLookupError:  # PID 1 is gone already: bwrap refused
                    raise LaunchFailed(await self._refusal(sandbox)) from None
            if wait_ready:
                first: list[asyncio.Future[Any]] = [sandbox.ready, waiter]
                await asyncio.wait(first, timeout=_READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
                if not sandbox.ready.done() or sandbox.ready.exception() is not None:
                    raise LaunchFailed(await self._refusal(sandbox))
        except BaseException:
            await self._kill(sandbox)
            raise
        finally:
            waiter.cancel()
            os.close(info_r)
        return sandbox

    async def _refusal(self, sandbox: _Sandbox) -> str:
        """Why the sandbox did not start, from what bwrap (or the agent) wrote on stderr."""
        # Its socket closes a moment before bwrap ends and its stderr with it: wait for both (bounded).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(sandbox.process.wait(), timeout=2.0)
        await asyncio.wait([sandbox.process.stderr.done], timeout=1.0)
        said = sandbox.process.stderr.tail.decode("utf-8", "replace").strip()
        return f"the sandbox did not start: {said or 'no answer from its init process'}"

    async def _start_main(self, sandbox: _Sandbox, argv: list[str]) -> None:
        loop = asyncio.get_running_loop()
        token = self._next_token()
        sandbox.main_token = token
        started: asyncio.Future[None] = loop.create_future()
        result: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        sandbox.main_started = started
        sandbox.results[token] = result
        sandbox.main_readers = await self._send_spawn(
            sandbox, token, b"main", argv, sandbox.env, keep=False, exec_id=""
        )
        either: list[asyncio.Future[Any]] = [started, result]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            return  # it runs (and may already have ended: _pump reports that)
        error = result.exception()
        if error is not None:
            raise LaunchFailed("the sandbox ended before its main process started") from error
        kind, payload = result.result()
        if kind == b"E":
            raise LaunchFailed(_spawn_error(payload)[1])

    # ------------------------------------------------------------------ exec

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        """Run ``command`` in the sandbox through its agent; see the module doc."""
        sandbox = self._live(sandbox_id)
        if not command:
            raise BadRequest("command is empty: give the program to run and its arguments")
        merged = {**sandbox.env, **env}
        _check_no_nul([*command, *(f"{k}={v}" for k, v in merged.items())])
        if not sandbox.ready.done():
            # A keep-alive sandbox's agent may still be starting: the exec would wait in its
            # socket anyway, but never longer than a launch may take.
            await asyncio.wait([sandbox.ready], timeout=_READY_TIMEOUT)
            if not sandbox.ready.done() or sandbox.ready.exception() is not None:
                raise SandboxGone(f"sandbox {sandbox_id} did not start")
        loop = asyncio.get_running_loop()
        token = self._next_token()
        result: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        sandbox.results[token] = result
        try:
            out, err = await self._send_spawn(
                sandbox, token, b"exec", list(command), merged, keep=True, exec_id=exec_id
            )
            kind, payload = await result
        finally:
            sandbox.results.pop(token, None)
        if kind == b"E":
            code, message = _spawn_error(payload)
            self._require_events().log(sandbox_id, exec_id, "stderr", message)
            for reader in (out, err):
                if reader.transport is not None:
                    reader.transport.close()
            return ExecOutput(stdout="", stderr=message + "\n", exit_code=code)
        status = int(payload)
        code = _exit_code(status)
        # Background processes may hold the pipes open: wait a moment, then leave them to drain.
        await asyncio.wait({out.done, err.done}, timeout=_OUTPUT_GRACE)
        for reader in (out, err):
            if not reader.done.done():
                sandbox.stray_readers.add(reader)
                reader.done.add_done_callback(functools.partial(_forget_reader, sandbox.stray_readers, reader))
        stderr = err.text()
        reason = self._oom_reason(sandbox, code)
        if reason is not None:
            self._require_events().log(sandbox_id, exec_id, "stderr", reason)
            stderr += ("" if not stderr or stderr.endswith("\n") else "\n") + reason + "\n"
        return ExecOutput(stdout=out.text(), stderr=stderr, exit_code=code)

    async def _send_spawn(
        self,
        sandbox: _Sandbox,
        token: int,
        kind: bytes,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        keep: bool,
        exec_id: str,
    ) -> list[_OutputReader]:
        events = self._require_events()
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        readers = [
            _OutputReader(events, sandbox.spec.sandbox_id, exec_id, "stdout", keep),
            _OutputReader(events, sandbox.spec.sandbox_id, exec_id, "stderr", keep),
        ]
        try:
            await _read_pipe(out_r, readers[0])
        except BaseException:
            for fd in (err_r, out_w, err_w):
                os.close(fd)
            raise
        try:
            await _read_pipe(err_r, readers[1])
        except BaseException:
            for fd in (out_w, err_w):
                os.close(fd)
            if readers[0].transport is not None:
                readers[0].transport.close()
            raise
        fields = [b"S", str(token).encode(), kind, str(sandbox.rlimit_as).encode(), str(len(argv)).encode()]
        fields += [os.fsencode(arg) for arg in argv]
        fields += [os.fsencode(f"{key}={value}") for key, value in env.items()]
        try:
            await self._send(sandbox, b"\0".join(fields), [out_w, err_w])
        except BaseException:
            for reader in readers:
                if reader.transport is not None:
                    reader.transport.close()
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        return readers

    async def _send(self, sandbox: _Sandbox, packet: bytes, fds: list[int]) -> None:
        loop = asyncio.get_running_loop()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        deadline = loop.time() + _SEND_TIMEOUT
        while True:
            try:
                sandbox.control.sendmsg([packet], ancillary)
                return
            except BlockingIOError:
                pass
            except OSError as error:
                if error.errno == 90:  # EMSGSIZE
                    raise BadRequest("the command and its environment are too large to run") from error
                raise SandboxGone(f"sandbox {sandbox.spec.sandbox_id} is no longer running") from error
            if loop.time() > deadline or sandbox.finished:
                raise SandboxGone(f"sandbox {sandbox.spec.sandbox_id} is not taking commands")
            writable = loop.create_future()
            loop.add_writer(sandbox.control.fileno(), writable.set_result, None)
            try:
                await asyncio.wait_for(writable, timeout=1.0)
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                pass
            finally:
                loop.remove_writer(sandbox.control.fileno())

    # ------------------------------------------------------------------ agent messages

    async def _pump(self, sandbox: _Sandbox, events: RuntimeEvents) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    packet = await loop.sock_recv(sandbox.control, 65536)
                except OSError:
                    packet = b""
                if not packet:
                    break
                kind, _, rest = packet.partition(b"\0")
                if kind == b"R":
                    if not sandbox.ready.done():
                        sandbox.ready.set_result(None)
                    continue
                token_text, _, payload = rest.partition(b"\0")
                if not token_text.isdigit() or (kind == b"X" and not payload.isdigit()):
                    # Sandboxed code runs as the agent's user: never trust a packet's shape.
                    logger.warning("sandbox %s: ignored a malformed agent message", sandbox.spec.sandbox_id)
                    continue
                token = int(token_text)
                if kind == b"P":
                    if sandbox.main_started is not None and not sandbox.main_started.done():
                        sandbox.main_started.set_result(None)
                    continue
                future = sandbox.results.get(token)
                if future is not None and not future.done():
                    future.set_result((kind, payload))
                if token == sandbox.main_token and kind == b"E":
                    sandbox.main_exited = True  # launch raises LaunchFailed; nothing to report
                if token == sandbox.main_token and kind == b"X":
                    sandbox.main_exited = True
                    self._background(sandbox, self._main_ended(sandbox, events, int(payload)))
        finally:
            sandbox.closed = True
            gone = SandboxGone(f"sandbox {sandbox.spec.sandbox_id} ended while the exec ran")
            for future in sandbox.results.values():
                if not future.done():
                    future.set_exception(gone)
            if not sandbox.ready.done():
                sandbox.ready.set_exception(LaunchFailed("the sandbox's init process ended"))
            # Never awaited when the sandbox ended before it was ready; mark them retrieved.
            outcomes: list[asyncio.Future[Any]] = [*sandbox.results.values(), sandbox.ready]
            for outcome in outcomes:
                if outcome.done() and not outcome.cancelled():
                    outcome.exception()
            if sandbox.launched and not sandbox.stopping and not sandbox.finished and not sandbox.main_exited:
                # The agent went away by itself: killed from outside, or it crashed.
                self._background(sandbox, self._agent_ended(sandbox, events))

    async def _main_ended(self, sandbox: _Sandbox, events: RuntimeEvents, status: int) -> None:
        code = _exit_code(status)
        await asyncio.wait([reader.done for reader in sandbox.main_readers], timeout=5.0)
        reason = self._oom_reason(sandbox, code)
        await self._report_exit(sandbox, events, code, reason)

    async def _agent_ended(self, sandbox: _Sandbox, events: RuntimeEvents) -> None:
        try:
            returncode = await asyncio.wait_for(sandbox.process.wait(), timeout=10.0)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            sandbox.process.kill()
            returncode = await sandbox.process.wait()
        code = returncode if returncode >= 0 else 128 - returncode
        if sandbox.main_readers:
            await asyncio.wait([reader.done for reader in sandbox.main_readers], timeout=1.0)
        reason = self._oom_reason(sandbox, code)
        if reason is None and sandbox.ready.exception() is not None:
            reason = await self._refusal(sandbox)
        elif reason is None and sandbox.main_token is not None:
            reason = f"the sandbox's init process ended unexpectedly (exit code {code})"
        await self._report_exit(sandbox, events, code, reason)

    async def _report_exit(self, sandbox: _Sandbox, events: RuntimeEvents, code: int, reason: str | None) -> None:
        if sandbox.stopping or sandbox.finished:
            return
        sandbox.finished = True
        if self._sandboxes.get(sandbox.spec.sandbox_id) is sandbox:
            del self._sandboxes[sandbox.spec.sandbox_id]
        try:
            events.exited(sandbox.spec.sandbox_id, code, reason)
        finally:
            await self._cleanup(sandbox)

    def _oom_reason(self, sandbox: _Sandbox, code: int) -> str | None:
        if sandbox.cgroup is None or code != 128 + signal.SIGKILL:
            return None
        kills = sandbox.cgroup.oom_kills()
        if kills <= sandbox.oom_seen:
            return None
        sandbox.oom_seen = kills
        return (
            f"killed by the kernel: the sandbox exceeded its memory limit of {sandbox.spec.memory_bytes} bytes "
            "(resources.memory)"
        )

    def _stderr_said(self, sandbox: _Sandbox, chunk: bytes) -> None:
        if sandbox.ready.done():
            # Only bwrap or the agent itself write here (before that, it is the launch's error): worth the log.
            logger.warning("sandbox %s: %s", sandbox.spec.sandbox_id, chunk.decode("utf-8", "replace").rstrip())

    # ------------------------------------------------------------------ stop

    async def stop(self, sandbox_id: str) -> None:
        """Kill the sandbox's whole process tree; a no-op when it is gone. Never calls ``exited``."""
        sandbox = self._sandboxes.pop(sandbox_id, None)
        if sandbox is None:
            return
        await self._kill(sandbox)

    async def _kill(self, sandbox: _Sandbox) -> None:
        sandbox.stopping = True
        if self._sandboxes.get(sandbox.spec.sandbox_id) is sandbox:
            del self._sandboxes[sandbox.spec.sandbox_id]
        process = sandbox.process
        if sandbox.agent_pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(sandbox.agent_pidfd, signal.SIGKILL)
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                if self._bwrap is None:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()  # and --die-with-parent takes the agent, PID 1, and so the sandbox
        if sandbox.cgroup is not None:
            sandbox.cgroup.kill_all()
        if sandbox.agent_pidfd is not None:
            # PID 1 has ended only once every other process of its namespace has.
            await _wait_readable(sandbox.agent_pidfd, timeout=10.0)
        elif self._bwrap is None:
            await _wait_group_gone(process.pid, timeout=10.0)
        await self._cleanup(sandbox)

    async def _cleanup(self, sandbox: _Sandbox) -> None:
        try:
            await asyncio.wait_for(sandbox.process.wait(), timeout=10.0)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            logger.warning("sandbox %s: its bwrap process did not end", sandbox.spec.sandbox_id)
        sandbox.control.close()
        if sandbox.agent_pidfd is not None:
            os.close(sandbox.agent_pidfd)
            sandbox.agent_pidfd = None
        for reader in [*sandbox.main_readers, *sandbox.stray_readers]:
            if reader.transport is not None:
                reader.transport.close()
        if sandbox.cgroup is not None:
            await sandbox.cgroup.remove()
        current = asyncio.current_task()
        for task in list(sandbox.tasks):
            if task is not current and not task.done():
                task.cancel()

    # ------------------------------------------------------------------ adopt / close

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        """Sandboxes die with the server (``--die-with-parent``): none to adopt."""
        return set()

    async def close(self, stop_sandboxes: bool) -> None:
        """Stop every sandbox when asked (they would die with the server anyway); finish cleaning up."""
        if stop_sandboxes:
            await asyncio.gather(*(self.stop(sandbox_id) for sandbox_id in list(self._sandboxes)))
        # Sandboxes that ended by themselves may still be cleaning up (cgroups, pipes).
        live = {task for sandbox in self._sandboxes.values() for task in sandbox.tasks}
        finishing = self._tasks - live - {asyncio.current_task()}
        if finishing:
            _done, pending = await asyncio.wait(finishing, timeout=10.0)
            for task in pending:
                task.cancel()
        self._opened = False

    # ------------------------------------------------------------------ small parts

    def _require_events(self) -> RuntimeEvents:
        if self._events is None:
            raise RuntimeUnavailable("the process runtime is not open")
        return self._events

    def _live(self, sandbox_id: str) -> _Sandbox:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None or sandbox.finished or sandbox.stopping or sandbox.closed:
            raise SandboxGone(f"sandbox {sandbox_id} is not running")
        return sandbox

    def _next_token(self) -> int:
        self._tokens += 1
        return self._tokens

    def _background(self, sandbox: _Sandbox, coroutine: object) -> asyncio.Task[None]:
        assert asyncio.iscoroutine(coroutine)
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        sandbox.tasks.add(task)
        self._tasks.add(task)
        task.add_done_callback(sandbox.tasks.discard)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    def _base_env(self, spec: LaunchSpec) -> dict[str, str]:
        if self._bwrap is not None:
            env = {
                "PATH": f"{SANDBOX_PATH}:{PYTHON_ALIAS_DIR}",
                "HOME": SANDBOX_HOME,
                "PWD": WORKSPACE,
                "TMPDIR": "/tmp",
            }
        else:
            env = {
                "PATH": f"{SANDBOX_PATH}:{spec.work_dir / 'bin'}",
                "HOME": str(spec.work_dir / "home"),
                "PWD": str(spec.work_dir / "workspace"),
                "TMPDIR": str(spec.work_dir / "tmp"),
            }
        env.update({"HOSTNAME": _hostname(spec.name), "LANG": "C.UTF-8"})
        env.update(spec.env)
        return env

    def _check_mounts(self, spec: LaunchSpec) -> None:
        for mount_path, source in spec.mounts.items():
            if not mount_path.startswith("/") or ".." in mount_path.split("/"):
                raise LaunchFailed(f"mount path {mount_path!r} must be absolute, without '..'")
            if not source.is_dir():
                raise LaunchFailed(f"volume directory {source} for {mount_path} does not exist")
            if self._bwrap is None:
                raise LaunchFailed(
                    f"cannot mount a volume at {mount_path} with --isolation none (nothing is isolated, so "
                    "nothing can be mounted); run the server with bubblewrap to use volumes"
                )
            top = Path(mount_path).parts[1] if len(Path(mount_path).parts) > 1 else ""
            if top in ("", "proc", "dev") or top in _SYSTEM_DIRS:
                raise LaunchFailed(f"cannot mount a volume at {mount_path}: it is a system directory in the sandbox")


async def _wait_group_gone(pgid: int, timeout: float) -> None:
    """Wait until every process of the group has ended (zombies count as ended: init reaps them late)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await asyncio.to_thread(_group_has_live_process, pgid):
            return
        await asyncio.sleep(0.005)
    logger.warning("processes of group %d did not end within %g s", pgid, timeout)


def _group_has_live_process(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == pgid:
            return True
    return False


async def _wait_readable(fd: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await asyncio.wait_for(readable, timeout)
    except asyncio.TimeoutError:  # not the builtin before Python 3.11
        logger.warning("a sandbox's init process did not end within %g s", timeout)
    finally:
        loop.remove_reader(fd)


def _spawn_error(payload: bytes) -> tuple[int, str]:
    """The exit code and message of an agent's ``E`` answer."""
    code, _, message = payload.partition(b"\0")
    return (int(code) if code.isdigit() else 127), message.decode("utf-8", "replace")


def _forget_reader(readers: set[_OutputReader], reader: _OutputReader, _done: asyncio.Future[None]) -> None:
    readers.discard(reader)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("process runtime task failed", exc_info=task.exception())


def _allow_large_packets(control: socket.socket) -> None:
    """Let one packet hold a command as large as ``execve`` takes (2 MiB of arguments and environment)."""
    wanted = 4 << 20
    try:
        control.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, wanted)  # root may pass wmem_max
    except OSError:
        with contextlib.suppress(OSError):
            control.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, wanted)


def _raise_open_files_limit() -> None:
    """Lift the soft limit on open files toward the hard one: each live sandbox holds about five."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _prepare_work_dir(work_dir: Path, unisolated: bool) -> None:
    for name in ("tmp", "workspace", "home"):
        (work_dir / name).mkdir(parents=True, exist_ok=True)
    (work_dir / "tmp").chmod(0o1777)
    python = _python_alias_target()
    if unisolated and python is not None:
        # Unisolated commands see the host's filesystem: their `python` lives in the work dir.
        (work_dir / "bin").mkdir(exist_ok=True)
        with contextlib.suppress(FileExistsError):
            (work_dir / "bin" / "python").symlink_to(python)


def _check_no_nul(values: Sequence[str]) -> None:
    if any("\0" in value for value in values):
        raise BadRequest("command arguments and environment values cannot contain NUL characters")


async def _child_pid_or_exit(info_fd: int, exited: asyncio.Future[int]) -> int | None:
    """The pid bwrap writes to ``--info-fd``, or None when bwrap ends without writing it."""
    pid = _child_pid(info_fd)
    if pid is not None:
        return pid
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(info_fd, ready)
    try:
        either: list[asyncio.Future[Any]] = [readable, exited]
        await asyncio.wait(either, timeout=_READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(info_fd)
        readable.cancel()
    if not readable.done() or readable.cancelled():
        return None
    return await asyncio.to_thread(_child_pid, info_fd, True)


def _parent_pid(pid: int) -> int | None:
    """The parent of ``pid`` from /proc, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rpartition(b")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _child_pid(info_fd: int, block: bool = False) -> int | None:
    """The host pid of the sandbox's PID 1, from what bwrap wrote to ``--info-fd``; None if not there yet."""
    os.set_blocking(info_fd, block)
    data = b""
    while b"}" not in data:
        try:
            chunk = os.read(info_fd, 4096)
        except BlockingIOError:
            if not data:
                return None
            os.set_blocking(info_fd, True)  # it is being written: the rest comes at once
            continue
        if not chunk:
            break
        data += chunk
    try:
        return int(json.loads(data)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=1)
def _python_alias_target() -> str | None:
    """The host's python3 when sandboxes would otherwise find no `python` on their PATH."""
    if shutil.which("python", path=SANDBOX_PATH) is not None:
        return None
    return _system_python()


def _system_python() -> str | None:
    """The host's python3 from a directory that sandboxes see (not a venv or ~/.pyenv)."""
    found = shutil.which("python3", path=SANDBOX_PATH)
    if found is None:
        return None
    real = _resolved(Path(found))
    if any(real.is_relative_to(root) for root in _system_roots()):
        return found
    return None


async def _probe_bwrap(bwrap: str, python: str) -> None:
    """Run an empty sandbox once, so that a bubblewrap that cannot work here stops the server at start."""
    argv = [
        bwrap,
        *_NAMESPACE_ARGS,
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        python,
        "-I",
        "-S",
        "-c",
        "import os,sys;sys.exit(0 if hasattr(os,'posix_spawn') else 97)",
    ]
    probe = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, said = await probe.communicate()
    if probe.returncode == 97:
        raise RuntimeUnavailable(
            f"the process runtime's agent needs Python 3.8 or newer as {python} on this host: "
            "install it, or pass `--isolation none` (which runs the agent with the server's own python)"
        )
    if probe.returncode != 0:
        raise RuntimeUnavailable(
            f"bubblewrap cannot create a sandbox on this host ({said.decode('utf-8', 'replace').strip()}); "
            "allow unprivileged user namespaces (or run the server as root), "
            "or pass `--isolation none` to run sandbox commands unisolated"
        )


async def _agent_payload(python: str) -> bytes:
    """What the agent's bootstrap reads first: its code, marshalled when ``python`` can load ours."""
    source = Path(__file__).with_name("sandbox_agent.py").read_bytes()
    if python != sys.executable:
        probe = await asyncio.create_subprocess_exec(
            python,
            "-I",
            "-S",
            "-c",
            "import importlib.util;print(importlib.util.MAGIC_NUMBER.hex())",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        magic, _ = await probe.communicate()
        if magic.decode().strip() != importlib.util.MAGIC_NUMBER.hex():
            return b"S" + source
    return b"M" + marshal.dumps(compile(source, "porter-sandbox-agent", "exec"))

"""The ``docker`` runtime: each sandbox is a container on a Docker engine.

The engine is the one ``DOCKER_HOST`` names (the ``docker`` package's rules:
``unix:///var/run/docker.sock`` when unset, ``DOCKER_TLS_VERIFY`` and
``DOCKER_CERT_PATH`` for TLS). Podman's Docker-compatible socket works the
same way (``DOCKER_HOST=unix:///run/podman/podman.sock``).

A sandbox's container:

- runs its image, pulled when the engine lacks it (progress in the server
  log); a pull that fails is a ``LaunchFailed`` carrying the registry's message;
- runs ``command`` as the entrypoint and ``args`` as the cmd, with ``env``;
- is labelled ``porter-sandbox.id``, ``porter-sandbox.name`` and
  ``porter-sandbox.tag.<key>`` and named ``porter-sandbox-<id>``, so a
  restarted server finds it again (``adopt``);
- joins the network given by ``--docker-network`` (the engine's default when
  not given);
- bind-mounts each volume's directory at its mount path, so what the sandbox
  writes there is the volume's files;
- has ``memory`` as its memory limit (with no swap beyond it), ``cpu`` as
  its CPU quota, and ``pids_max`` as its process limit;
- works in ``/workspace`` unless the image names its own working directory
  (the engine creates it; ``/workspace`` exists either way);
- is removed on ``stop``, and once it has ended by itself and its exit has been
  reported;
- with ``serve --pool N``, may be one started ahead for launches of its shape
  and renamed for it (see ``pool``): a restarted server finds it by its name.

Snapshots (``filesystem`` mode) are committed images (see ``snapshots``); a
sandbox started from one runs that image as if it were the original one.
Metrics: each container's CPU time and memory (page cache included) from its
cgroups, and its network bytes from its network namespace, read through its
main process when the engine runs on this host (a few file reads). With an
engine elsewhere, from the engine's one-shot stats instead, which wait for
its once-a-second collection (in a pool of their own, so sampling never holds
up launches and execs).

What a container may do (``hardening``): ``no-new-privileges`` (setuid and
file capabilities are inert, in volumes too), every capability dropped but
those a normal image's root uses on its own files (``CAPABILITIES``: no
``MKNOD``, ``NET_RAW``, ``SYS_CHROOT``, ``SETFCAP``...), the engine's default
seccomp profile and read-only ``/proc/sys``, a process limit and a sized
``/dev/shm``. With ``--docker-read-only-root`` its root filesystem is
read-only too: then ``/tmp`` (a tmpfs sized from its memory), ``/run``,
``/workspace``, the image's working directory and root's home are the
writable places, the last three as anonymous volumes on disk that go with
the container; a commit would hold none of that, so such a server takes no
snapshots. Who container root is on the host is the engine's business: host
root, unless the engine remaps users (``--userns-remap``) or is rootless.
``open`` says which in the log, and when the engine remaps, volumes are given
to the remapped root so that sandboxes can write them.

The idle keep-alive: a sandbox created without ``command`` stays ``running``
so it can be exec'd into, unless its image has a real program of its own to
run. The rule, decided from the image's configuration:

- ``command`` given, or ``args`` given: run exactly that; no keep-alive.
- Neither given: the image's own command runs, unless it would exit at once
  without a terminal, i.e. the image has neither ``Entrypoint`` nor ``Cmd``,
  or its ``Cmd`` is a lone interactive shell or interpreter (``sh``, ``bash``,
  ``python3``, ``node``, ``irb``... with at most option flags, such as the
  ``bash`` or ``python3`` default of most base images). Then the container's
  main process is ``/bin/sh -c 'while :; do sleep 3600; done'`` instead (the
  image must have ``/bin/sh``; without one, give a ``command``).

Output: one follower thread per container follows the engine's log of its
stdout and stderr (with timestamps) and reports each line through
``events.log`` as it is written and, when the container ends, its exit code
through ``events.exited`` (saying so when the kernel killed it for exceeding
its memory limit). When the engine goes away and comes back, the follower
resumes after the last line it reported: nothing lost, nothing twice. An
adopted container is followed from the moment of adoption: lines it wrote
while no server followed it are not in the logs, and none is reported twice.

The ``docker`` package blocks, so every engine call runs in this runtime's own
thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import docker
import docker.errors
import requests.exceptions
from docker.types.daemon import CancellableStream
from docker.utils import kwargs_from_env, parse_repository_tag

from ...volumes.hostdir import FileOwner, HostDirVolumes
from ..base import (
    Capabilities,
    CommandRefused,
    ExecOutput,
    ExitKind,
    LaunchFailed,
    LaunchSpec,
    Placement,
    Process,
    ProcessSpec,
    ResourceSample,
    Runtime,
    RuntimeEvents,
    RuntimeUnavailable,
    SandboxExit,
    SandboxGone,
    SnapshotFailed,
    Stream,
)
from ..cgroup_usage import CgroupUsage, network_bytes
from ..lines import LineSplitter
from ..output import CappedOutput, LogBudget
from ..pool import SandboxPool
from . import pool, snapshots
from .hardening import engine_users, hardening
from .images import KEEP_ALIVE, WORKSPACE, needs_keep_alive, workspace_archive
from .processes import EXEC_MARK, DockerProcess, signal_script, signalled_count
from .streams import HijackedStream, close_stream, frames, split_timestamp

__all__ = ["DockerRuntime"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

LABEL_ID = "porter-sandbox.id"
LABEL_NAME = "porter-sandbox.name"
LABEL_TAG_PREFIX = "porter-sandbox.tag."

#: The Engine API version spoken. Pinned, so that no call is needed before the
#: engine answers; Docker 20.10 and newer and Podman 3 and newer speak it.
API_VERSION = "1.41"


@dataclass
class _Container:
    """A sandbox this runtime follows."""

    sandbox_id: str
    container_id: str
    memory_bytes: int | None
    #: The id of the snapshot image it runs, to remove once it is gone if its snapshot was deleted.
    snapshot_image: str | None = None
    #: Where its counters are read on this host, once looked for (``usage_known``); None: ask the engine.
    usage: CgroupUsage | None = None
    main_pid: int = 0
    usage_known: bool = False
    stopping: bool = False
    #: The open log streams, closed to end the follower's reads from another thread.
    streams: list[CancellableStream[bytes]] = field(default_factory=list)
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Set when nobody needs the follower any more (stopped, or the runtime closed): it wakes and ends.
    done: threading.Event = field(default_factory=threading.Event)
    #: Per stream, the engine timestamp (ns) of the last line reported, to resume after a break.
    last_seen: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})


@dataclass
class _Create:
    """The engine's create call for a sandbox: its image, its arguments, and the image's configuration."""

    image: str
    #: The image's id: what ``image`` names now.
    image_id: str
    create: dict[str, Any]
    config: dict[str, Any]
    snapshot_image: str | None


def container_name(sandbox_id: str) -> str:
    """The name of a sandbox's container."""
    return "porter-sandbox-" + re.sub(r"[^a-zA-Z0-9_.-]", "_", sandbox_id)


def _engine_message(error: docker.errors.APIError) -> str:
    explanation = error.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or error)


_OCI_EXEC_FAILED = b"OCI runtime exec failed"
#: The engine's words for a container whose program it could not find (see ``_launch``).
_NOT_FOUND = ("executable file not found", "no such file or directory")
#: How often a reader held for the service's log backlog looks again.
_LOG_ROOM_RECHECK = 0.01
#: Bytes of an exec's output whose lines may wait for the service before its reader waits too.
_BACKLOG = 256 * 1024
#: Batches of output lines (one read each) that may wait for the event loop at once.
_MAX_POSTED_BATCHES = 256
_OCI_DETAIL = re.compile(r"unable to start container process: (.*?)(: unknown)?\s*$", re.S)


def is_start_failure(data: bytes) -> bool:
    """Whether the first output of an exec is the engine saying it could not start the program (on stdout)."""
    return data.startswith(_OCI_EXEC_FAILED)


def start_failure_of(program: str, data: bytes) -> tuple[int, str]:
    """The exit code (127: not found, 126: cannot run) and stderr line for the engine's start failure ``data``."""
    detail = data.decode("utf-8", "replace").strip()
    match = _OCI_DETAIL.search(detail)
    reason = match.group(1) if match else detail
    if "chdir to cwd" in reason:
        return 126, f"{program}: cannot run: {reason}"
    missing = "not found" in reason or "no such file" in reason
    return (127 if missing else 126), f"{program}: cannot run: {reason}"


def _exec_refused(entry: _Container, error: docker.errors.APIError) -> Exception:
    """What an exec the engine refused means: the sandbox gone, or the engine failing."""
    # Not running: a 409, or (the container ending between the exec's creation and its start) a 500.
    if isinstance(error, docker.errors.NotFound):
        return SandboxGone(f"sandbox {entry.sandbox_id}'s container is gone")
    if error.status_code == 409 or "is not running" in _engine_message(error):
        return SandboxGone(f"sandbox {entry.sandbox_id}'s container is not running")
    return RuntimeUnavailable(f"the Docker engine refused the exec: {_engine_message(error)}")


class DockerRuntime(Runtime):
    """Runs each sandbox as a container on the Docker engine ``DOCKER_HOST`` names.

    ``network`` is the network containers join (``--docker-network``); ``None``
    leaves the engine's default. ``docker_host`` overrides ``DOCKER_HOST``.
    ``read_only_root`` gives containers a read-only root filesystem with a few
    writable places (see the module doc); such a runtime takes no snapshots.
    """

    name = "docker"
    capabilities = Capabilities(
        outlives_server=True,
        volume_types=frozenset({"disk"}),
        snapshot_modes=frozenset({"filesystem"}),
        metrics=True,
        streaming_exec=True,
        terminal=True,
    )

    def __init__(
        self,
        data_dir: Path,
        network: str | None = None,
        *,
        docker_host: str | None = None,
        max_workers: int = 64,
        read_only_root: bool = False,
        pool_size: int = 0,
    ) -> None:
        self.volumes: HostDirVolumes = HostDirVolumes(data_dir / "volumes")
        self.data_dir = data_dir
        self._owner = ""
        self.network = network
        self.read_only_root = read_only_root
        if read_only_root:
            # A commit holds only the container's writable layer, where a read-only root writes nothing.
            self.capabilities = replace(type(self).capabilities, snapshot_modes=frozenset())
        #: Whether the engine's users were looked at (who container root is on the host).
        self._users_known = False
        self.base_url = docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        #: Why DOCKER_HOST (or the TLS settings beside it) cannot be used at all; ``open`` refuses then.
        self._config_error: str | None = None
        try:
            settings = kwargs_from_env()
            if docker_host is not None:
                settings["base_url"] = docker_host
            api = docker.APIClient(version=API_VERSION, timeout=60, max_pool_size=max_workers, **settings)
            #: A short timeout for readiness, so /readyz answers even when the engine hangs.
            ping_api = docker.APIClient(version=API_VERSION, timeout=5, **settings)
        except docker.errors.DockerException as error:
            self._config_error = (
                f"DOCKER_HOST={self.base_url} cannot be used: {error}; "
                "set DOCKER_HOST to the engine's socket, such as unix:///var/run/docker.sock"
            )
            # Placeholders that are never called: open() refuses to start.
            api = ping_api = docker.APIClient(version=API_VERSION)
        self._api = api
        self._ping_api = ping_api
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="docker-call")
        self._stats_pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="docker-stats")
        self._events: RuntimeEvents | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._containers: dict[str, _Container] = {}
        self._lock = threading.Lock()
        #: Batches of lines posted to the event loop and not yet reported there.
        self._posted = threading.BoundedSemaphore(_MAX_POSTED_BATCHES)
        self._closed = False
        #: Containers started ahead (``serve --pool``): the pool exists once open.
        self.pool_size = pool_size
        self.pool: SandboxPool[pool.PooledContainer] | None = None
        #: The last poolable launch and its create key: the shape the pool is filled with.
        self._pool_template: tuple[LaunchSpec, str] | None = None
        #: The pool's container starts under way (``close`` waits for them and removes what they made).
        self._pool_starting: set[concurrent.futures.Future[_Container]] = set()

    # Engine calls

    def _unreachable(self, error: BaseException) -> RuntimeUnavailable:
        return RuntimeUnavailable(
            f"the Docker engine at {self.base_url} (DOCKER_HOST) is unreachable: {error}; "
            "start the engine, or set DOCKER_HOST to the socket of one that runs"
        )

    async def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)

    # Reporting to the service, always on its event loop

    def _post(self, function: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or self._closed:
            return
        # A closed loop means the server is gone: nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(function, *args)

    def _post_lines(self, sandbox_id: str, exec_id: str, stream: Stream, lines: list[str]) -> None:
        """Report lines on the event loop; from reader threads only (it blocks while too many wait there)."""
        events = self._events
        if events is None or not lines:
            return
        # A reader faster than the loop would queue callbacks without end: at most so many wait.
        while not self._posted.acquire(timeout=1.0):
            if self._closed:
                return

        def report() -> None:
            try:
                for line in lines:
                    events.log(sandbox_id, exec_id, stream, line)
            finally:
                self._posted.release()

        loop = self._loop
        if loop is None or self._closed:
            self._posted.release()
            return
        try:
            loop.call_soon_threadsafe(report)
        except RuntimeError:  # the loop is closed: the server is gone
            self._posted.release()

    # Runtime

    async def open(self, events: RuntimeEvents) -> None:
        """Remember ``events``; an engine that is down now is reported by ``readiness``, not here.

        Raises ``RuntimeUnavailable`` only when ``DOCKER_HOST`` itself is unusable (a malformed address).
        """
        if self._config_error is not None:
            raise RuntimeUnavailable(self._config_error)
        self._events = events
        self._loop = asyncio.get_running_loop()
        self._owner = snapshots.owner_id(self.data_dir)
        reason = await self.readiness()
        if reason is None:
            logger.info("docker runtime: engine at %s answers", self.base_url)
            with contextlib.suppress(RuntimeUnavailable):
                await self._call(self._learn_engine_users)
        else:
            logger.warning("docker runtime: %s", reason)
        if self.pool_size:
            if reason is None:
                try:
                    await self._call(self._remove_pool_leftovers)
                except RuntimeUnavailable as error:
                    logger.warning("docker runtime: containers left in the pool stay: %s", error)
            self.pool = SandboxPool(self.pool_size, self._start_pooled, self._discard_pooled)

    async def readiness(self) -> str | None:
        """``None`` when the engine answers, else a message naming ``DOCKER_HOST``."""
        try:
            await self._call(self._ping_api.ping)
        except Exception as error:  # any failure to ping means "not ready", whatever its kind
            return str(self._unreachable(error))
        return None

    async def launch(self, spec: LaunchSpec) -> Placement:
        """Create and start the sandbox's container (pulling its image if needed); return once it runs.

        With a pool, a launch it fits takes a container started ahead instead (see ``pool``).
        """
        entry: _Container | None = None
        key: str | None = None
        args: _Create | None = None
        if self.pool is not None:
            args = await self._call(self._launch_args, spec)
            entry, key = await self._from_pool(spec, args)
        if entry is None:
            entry = await self._call(self._launch, spec, None, args)
            if key is not None:
                self._pool_shape(spec, key)
        with self._lock:
            self._containers[spec.sandbox_id] = entry
        self._start_follower(entry)
        return Placement()

    # The pool (``serve --pool``)

    async def _from_pool(self, spec: LaunchSpec, args: _Create) -> tuple[_Container | None, str | None]:
        """A pooled container renamed for ``spec``'s sandbox (or None), and the launch's create key if poolable."""
        if not pool.poolable(spec, args.config):
            return None, None
        key = pool.create_key(args.image_id, args.create)
        current = self.pool  # None once closed
        fits = current is not None and self._pool_for(key)
        pooled = current.take(lambda candidate: candidate.key == key) if current is not None and fits else None
        if pooled is None:
            return None, key
        try:
            await self._call(self._assign_pooled, pooled, spec.sandbox_id)
        except Exception as error:  # gone, ended, or the engine refused: a fresh container then
            logger.warning("docker runtime: a pooled container could not serve %s: %s", spec.sandbox_id, error)
            await self._discard_pooled(pooled)
            return None, key
        logger.info("sandbox %s: started from the pool (%s)", spec.sandbox_id, pooled.pooled_id)
        return _Container(spec.sandbox_id, pooled.container_id, spec.memory_bytes), key

    def _pool_for(self, key: str) -> bool:
        """Whether the pool (still open) holds containers of this shape."""
        return self.pool is not None and self._pool_template is not None and self._pool_template[1] == key

    def _pool_shape(self, spec: LaunchSpec, key: str) -> None:
        """After a poolable launch started: its shape becomes the pool's, which refills for it."""
        if self.pool is None or self._pool_for(key):
            return
        self._pool_template = (spec, key)
        self.pool.keep_only(lambda candidate: candidate.key == key)

    def _assign_pooled(self, pooled: pool.PooledContainer, sandbox_id: str) -> None:
        """Name a pooled container for ``sandbox_id``, if it still runs (an engine restart ends them)."""
        state = cast("dict[str, Any]", self._api.inspect_container(pooled.container_id))["State"]
        if not state.get("Running"):
            raise LaunchFailed(f"it ended while it waited (exit code {state.get('ExitCode')})")
        self._api.rename(pooled.container_id, container_name(sandbox_id))

    async def _start_pooled(self) -> pool.PooledContainer:
        """Start a container for the pool, of the shape of the last poolable launch."""
        while True:
            assert self._pool_template is not None
            template, key = self._pool_template
            pooled_id = pool.POOLED_PREFIX + secrets.token_hex(8)
            spec = replace(template, sandbox_id=pooled_id, name="pooled", tags={})
            # Followed to its end even when the pool closes meanwhile: ``close`` removes what it made.
            work = self._pool.submit(self._launch, spec, {pool.LABEL_POOL: self._owner})
            self._pool_starting.add(work)
            try:
                entry = await asyncio.wrap_future(work)
            finally:
                if work.done():  # else the pool is closing: ``_close_pool`` waits for it
                    self._pool_starting.discard(work)
            started = pool.PooledContainer(pooled_id, entry.container_id, key)
            if self._pool_for(key):
                return started
            await self._discard_pooled(started)  # launches changed shape meanwhile: one of the new shape

    async def _discard_pooled(self, pooled: pool.PooledContainer) -> None:
        with contextlib.suppress(RuntimeUnavailable):
            await self._call(self._remove, pooled.container_id)

    async def _close_pool(self) -> None:
        """Stop filling, remove the waiting containers and any a start still makes (bounded)."""
        if self.pool is None:
            return
        closing, self.pool = self.pool, None
        await closing.close()
        for work in list(self._pool_starting):
            if work.cancelled():
                continue
            try:
                entry = await asyncio.wait_for(asyncio.wrap_future(work), 60.0)
            except Exception:  # it failed, or the engine hangs: nothing to remove, or nothing to do
                continue
            with contextlib.suppress(RuntimeUnavailable):
                await self._call(self._remove, entry.container_id)
        self._pool_starting.clear()

    def _remove_pool_leftovers(self) -> None:
        """Remove the containers this data directory's server started for its pool and no launch took."""
        mine = {"label": f"{pool.LABEL_POOL}={self._owner}"}
        try:
            listed = cast("list[dict[str, Any]]", self._api.containers(all=True, filters=mine))
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error
        for container in listed:
            if pool.sandbox_of(container, container_name(pool.POOLED_PREFIX)) is not None:
                self._remove(str(container["Id"]))

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        """Run ``command`` through the engine's exec API; lines are reported as they come."""
        entry = self._containers.get(sandbox_id)
        if entry is None or entry.stopping:
            raise SandboxGone(f"sandbox {sandbox_id} has no container here")
        return await self._call(self._exec, entry, list(command), exec_id, dict(env))

    async def start_process(self, sandbox_id: str, spec: ProcessSpec, exec_id: str) -> Process:
        """Start ``spec`` as an engine exec, attached (see ``processes``); answer it once the engine started it."""
        entry = self._containers.get(sandbox_id)
        if entry is None or entry.stopping:
            raise SandboxGone(f"sandbox {sandbox_id} has no container here")
        if not spec.command:
            raise CommandRefused("command is empty: give the program to run and its arguments")
        opening = asyncio.ensure_future(self._call(self._open_exec, entry, spec, exec_id))
        try:
            engine_exec_id, sock = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # Its caller went away while the engine started it: it must not run on unseen.
            opening.add_done_callback(lambda done: self._abandon_exec(entry, exec_id, done))
            raise
        return DockerProcess(
            self,
            entry,
            engine_exec_id,
            sock,
            program=spec.command[0],
            mark=exec_id,
            terminal=spec.terminal is not None,
            stdin=spec.stdin or spec.terminal is not None,
        )

    def _abandon_exec(
        self, entry: _Container, exec_id: str, opened: asyncio.Future[tuple[str, HijackedStream]]
    ) -> None:
        if opened.cancelled() or opened.exception() is not None:
            return
        opened.result()[1].close()
        self._pool.submit(self._signal_quietly, entry, exec_id, signal.SIGKILL)

    def _open_exec(self, entry: _Container, spec: ProcessSpec, exec_id: str) -> tuple[str, HijackedStream]:
        env = {**spec.env, EXEC_MARK: exec_id}
        terminal = spec.terminal
        try:
            created = self._api.exec_create(
                entry.container_id,
                list(spec.command),
                environment=env,
                workdir=spec.cwd,
                tty=terminal is not None,
                stdin=spec.stdin or terminal is not None,
            )
            engine_exec_id = str(created["Id"])
            sock = HijackedStream(self._api.exec_start(engine_exec_id, socket=True, tty=terminal is not None))
            if terminal is not None:
                with contextlib.suppress(docker.errors.APIError):  # it may have ended already
                    self._api.exec_resize(engine_exec_id, height=terminal.rows, width=terminal.cols)
        except docker.errors.APIError as error:
            raise _exec_refused(entry, error) from error
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error
        return engine_exec_id, sock

    def _signal_marked(self, entry: _Container, mark: str, signum: int) -> None:
        """Send ``signum`` to every process of the container marked as exec ``mark``'s (see ``processes``)."""
        # A killed process's children may be forking: look again until none is left (a few rounds at most).
        for _ in range(5 if signum == signal.SIGKILL else 1):
            try:
                created = self._api.exec_create(entry.container_id, signal_script(signum, mark))
                output = self._api.exec_start(str(created["Id"]))
            except docker.errors.APIError as error:
                if error.status_code in (404, 409):
                    return  # the container is gone or stopped: so are its processes
                raise RuntimeUnavailable(f"the Docker engine refused the signal: {_engine_message(error)}") from error
            except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
                raise self._unreachable(error) from error
            if signalled_count(output if isinstance(output, bytes) else b"") == 0:
                return

    def _signal_quietly(self, entry: _Container, mark: str, signum: int) -> None:
        try:
            self._signal_marked(entry, mark, signum)
        except RuntimeUnavailable as error:
            logger.warning("docker runtime: %s", error)

    async def stop(self, sandbox_id: str) -> None:
        """Remove the sandbox's container (killing it); a no-op when it is gone."""
        with self._lock:
            entry = self._containers.pop(sandbox_id, None)
        if entry is not None:
            entry.stopping = True
        target = entry.container_id if entry is not None else container_name(sandbox_id)
        try:
            await self._call(self._remove, target)
        finally:
            if entry is not None:
                self._detach(entry)
        if entry is not None and entry.snapshot_image is not None:
            await self._call(self._drop_deleted_snapshot, entry.snapshot_image)

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        """Follow again the containers of ``live`` sandboxes that still run; remove those that ended."""
        if not live:
            return set()
        try:
            found = await self._call(self._find_containers)
        except RuntimeUnavailable as error:
            logger.warning("docker runtime: cannot adopt sandboxes: %s", error)
            return set()
        adopted: set[str] = set()
        entries: list[_Container] = []
        for spec in live:
            container = found.get(spec.sandbox_id)
            if container is None:
                continue
            if container.get("State") != "running":
                # It ended while no server followed it: its exit code and last
                # lines are unknown, so the service marks it backend_lost.
                await self._call(self._remove, str(container["Id"]))
                continue
            from_snapshot = snapshots.LABEL_SNAPSHOT in (container.get("Labels") or {})
            snapshot_image = str(container["ImageID"]) if from_snapshot else None
            entry = _Container(spec.sandbox_id, str(container["Id"]), spec.memory_bytes, snapshot_image)
            with self._lock:
                self._containers[spec.sandbox_id] = entry
            entries.append(entry)
            adopted.add(spec.sandbox_id)
        # Followers start once the service has recorded the adoption, so an
        # exit they see at once is not reported for a sandbox it does not track yet.
        # Lines written while no server followed them are not recovered; from now on none is missed.
        loop = asyncio.get_running_loop()
        now = time.time()
        for entry in entries:
            loop.call_soon(self._start_follower, entry, now)
        if adopted:
            logger.info("docker runtime: adopted %d running container(s)", len(adopted))
        return adopted

    async def close(self, stop_sandboxes: bool) -> None:
        """Stop following containers (removing them with ``stop_sandboxes``) and close the client.

        Containers waiting in the pool are removed either way.
        """
        await self._close_pool()
        if stop_sandboxes:
            ids = list(self._containers)
            results = await asyncio.gather(*(self.stop(sandbox_id) for sandbox_id in ids), return_exceptions=True)
            for sandbox_id, result in zip(ids, results, strict=True):
                if isinstance(result, BaseException):
                    logger.warning("docker runtime: could not remove sandbox %s: %s", sandbox_id, result)
        self._closed = True
        with self._lock:
            entries = list(self._containers.values())
            self._containers.clear()
        for entry in entries:
            self._detach(entry)
        threads = [entry.thread for entry in entries if entry.thread is not None]
        for thread in threads:
            await asyncio.to_thread(thread.join, 5.0)
        self._pool.shutdown(wait=False)
        self._stats_pool.shutdown(wait=False)
        self._api.close()
        self._ping_api.close()

    # Blocking parts, run in the pool

    def _inspect_image(self, image: str) -> dict[str, Any]:
        # The stubs leave inspect_image untyped; it answers the engine's JSON object.
        return cast("Callable[[str], dict[str, Any]]", self._api.inspect_image)(image)

    def _image(self, image: str) -> dict[str, Any]:
        """The engine's inspection of ``image``, pulled first when the engine lacks it."""
        try:
            return self._inspect_image(image)
        except docker.errors.ImageNotFound:
            self._pull(image)
            return self._inspect_image(image)

    def _pull(self, image: str) -> None:
        repository, tag = parse_repository_tag(image)
        logger.info("docker runtime: pulling %s", image)
        last: dict[str, str] = {}
        try:
            progress = cast(
                "Iterator[dict[str, Any]]",
                self._api.pull(repository, tag=tag or "latest", stream=True, decode=True),
            )
            for message in progress:
                if "error" in message:
                    raise LaunchFailed(f"pulling the image {image} failed: {message['error']}")
                status = str(message.get("status", ""))
                layer = str(message.get("id", ""))
                # One line per change of a layer's status, not one per progress tick.
                if status and last.get(layer) != status:
                    last[layer] = status
                    logger.info("docker runtime: pull %s: %s%s", image, f"{layer}: " if layer else "", status)
        except docker.errors.APIError as error:
            raise LaunchFailed(f"pulling the image {image} failed: {_engine_message(error)}") from error
        logger.info("docker runtime: pulled %s", image)

    def _learn_engine_users(self) -> None:
        """Look once at who container root is on the host; say it in the log; give volumes to a remapped root."""
        if self._users_known:
            return
        try:
            info = self._api.info()
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error
        self._users_known = True
        users = engine_users(info)
        if users.remapped_root is not None:
            self.volumes.claim(FileOwner(*users.remapped_root))
        (logger.info if users.safe else logger.warning)("docker runtime: %s", users.describe())

    @contextlib.contextmanager
    def _launch_errors(self) -> Iterator[None]:
        """The engine's errors as a launch reports them: ``LaunchFailed``, or ``RuntimeUnavailable``."""
        try:
            yield
        except (LaunchFailed, RuntimeUnavailable):
            raise
        except docker.errors.APIError as error:
            raise LaunchFailed(_engine_message(error)) from error
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error

    def _launch_args(self, spec: LaunchSpec) -> _Create:
        with self._launch_errors():
            return self._create_args(spec)

    def _launch(
        self, spec: LaunchSpec, labels: Mapping[str, str] | None = None, args: _Create | None = None
    ) -> _Container:
        """Create and start ``spec``'s container (with ``labels`` added; from ``args`` when already made)."""
        with self._launch_errors():
            self._learn_engine_users()
            try:
                return self._create_and_start(spec, labels, args)
            except docker.errors.APIError as error:
                # An engine under load now and then fails to start a container whose program is there
                # ("executable file not found", "stat /bin/sh: no such file or directory": a rootfs it had
                # not finished preparing); a program that is really missing fails the same way again, one
                # container later.
                if not any(words in _engine_message(error) for words in _NOT_FOUND):
                    raise
                logger.info("docker runtime: %s: %s; starting it again", spec.sandbox_id, _engine_message(error))
                return self._create_and_start(spec, labels, args)

    def _create_args(self, spec: LaunchSpec) -> _Create:
        """What the engine's create call gets for ``spec`` (the image's configuration looked up, pulled if missing)."""
        image = spec.image
        environment: dict[str, str] | list[str] = dict(spec.env)
        snapshot_image: str | None = None
        if spec.snapshot_id is None:
            inspected = self._image(image)
            config = cast("dict[str, Any]", inspected.get("Config") or {})
        else:
            image = snapshots.image_ref(spec.snapshot_id)
            try:
                inspected = self._inspect_image(image)
            except docker.errors.ImageNotFound as error:
                raise LaunchFailed(f"snapshot {spec.snapshot_id} is gone from the Docker engine ({image})") from error
            snapshot_image = str(inspected["Id"])
            committed = cast("dict[str, Any]", inspected.get("Config") or {})
            config = snapshots.base_config(committed)
            environment = snapshots.restore_environment(committed, config, spec.env)
        entrypoint: list[str] | None = None
        cmd: list[str] | None = None
        if spec.command is not None:
            entrypoint = list(spec.command)
            cmd = list(spec.args) if spec.args is not None else None
        elif needs_keep_alive(config.get("Entrypoint"), config.get("Cmd")) and spec.args is None:
            entrypoint = KEEP_ALIVE
        elif snapshot_image is not None and config.get("Entrypoint"):
            # Given explicitly, so the command the snapshot image took from its container is not used.
            entrypoint = list(config["Entrypoint"])
            cmd = list(spec.args) if spec.args is not None else list(config.get("Cmd") or []) or None
        elif spec.args is not None:
            cmd = list(spec.args)
        working_dir = str(config.get("WorkingDir") or "") or WORKSPACE

        labels = {LABEL_ID: spec.sandbox_id, LABEL_NAME: spec.name}
        labels.update({LABEL_TAG_PREFIX + key: value for key, value in spec.tags.items()})
        binds: dict[str, Mapping[str, str]] = {
            str(self.volumes.host_path(mount.volume_id)): {"bind": mount.path, "mode": "rw"} for mount in spec.mounts
        }
        host_config = self._api.create_host_config(
            binds=binds or None,
            network_mode=self.network,
            mem_limit=spec.memory_bytes,
            # The same as the memory limit: no swap beyond it, so a process over it is killed.
            memswap_limit=spec.memory_bytes,
            nano_cpus=spec.cpu_millis * 1_000_000 if spec.cpu_millis else None,
            **hardening(spec, config, working_dir, read_only_root=self.read_only_root),
        )
        create: dict[str, Any] = {
            "command": cmd,
            "entrypoint": entrypoint,
            "environment": environment,
            "labels": labels,
            "working_dir": working_dir,
            "host_config": host_config,
            "name": container_name(spec.sandbox_id),
        }
        return _Create(image, str(inspected["Id"]), create, config, snapshot_image)

    def _create_and_start(
        self, spec: LaunchSpec, labels: Mapping[str, str] | None = None, args: _Create | None = None
    ) -> _Container:
        args = args or self._create_args(spec)
        if labels:
            args.create["labels"].update(labels)
        created = cast("dict[str, Any]", self._api.create_container(args.image, **args.create))
        container_id = str(created["Id"])
        entry = _Container(spec.sandbox_id, container_id, spec.memory_bytes, args.snapshot_image)
        try:
            if args.create["working_dir"] != WORKSPACE and not self.read_only_root:
                # (A read-only root has /workspace as a volume of its own.)
                self._api.put_archive(container_id, "/", workspace_archive())
            self._api.start(container_id)
        except BaseException:
            self._remove(container_id)
            raise
        return entry

    def _detach(self, entry: _Container) -> None:
        entry.done.set()
        with entry.lock:
            streams, entry.streams = entry.streams, []
        for stream in streams:
            # Only shut down: the reading thread wakes up and frees the stream itself.
            with contextlib.suppress(Exception):
                stream.close()

    def _remove(self, container_id: str) -> None:
        try:
            self._api.remove_container(container_id, v=True, force=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as error:
            if error.status_code == 409:  # removal already in progress
                return
            raise RuntimeUnavailable(
                f"removing container {container_id[:12]} failed: {_engine_message(error)}"
            ) from error
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error

    def _find_containers(self) -> dict[str, dict[str, Any]]:
        try:
            listed = cast("list[dict[str, Any]]", self._api.containers(all=True, filters={"label": LABEL_ID}))
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error
        found = {str(item["Labels"][LABEL_ID]): item for item in listed}
        # A container of this server's pool keeps the labels it was started with: its name says whose it is now.
        for item in listed:
            if item["Labels"].get(pool.LABEL_POOL) == self._owner:
                sandbox_id = pool.sandbox_of(item, container_name(""))
                if sandbox_id is not None:
                    found.setdefault(sandbox_id, item)
        return found

    def _exec(self, entry: _Container, command: list[str], exec_id: str, env: dict[str, str]) -> ExecOutput:
        try:
            return self._run_exec(entry, command, exec_id, env)
        except docker.errors.APIError as error:
            raise _exec_refused(entry, error) from error
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error

    def _run_exec(self, entry: _Container, command: list[str], exec_id: str, env: dict[str, str]) -> ExecOutput:
        sandbox_id = entry.sandbox_id
        started = time.time()
        created = self._api.exec_create(entry.container_id, command, environment=env or None)
        engine_exec_id = str(created["Id"])
        sock = HijackedStream(self._api.exec_start(engine_exec_id, socket=True))
        limits = self.output_limits
        out, err = CappedOutput("stdout", limits.exec_answer_bytes), CappedOutput("stderr", limits.exec_answer_bytes)
        budget = LogBudget(limits)
        splitters = {1: LineSplitter(), 2: LineSplitter()}
        answers = {1: out, 2: err}
        names: dict[int, Stream] = {1: "stdout", 2: "stderr"}
        # Lines wait here while the service takes none; past _BACKLOG bytes, reading waits too.
        held: list[tuple[Stream, list[str]]] = []
        held_bytes = 0
        start_failure: bytes | None = None
        try:
            for number, data in frames(sock):
                if number not in answers:
                    continue
                if number == 1 and not out.written and start_failure is None and is_start_failure(data):
                    # Docker reports a program it cannot start on stdout; it is kept
                    # apart and reported on stderr, as a shell would.
                    start_failure = data
                    continue
                answers[number].add(data)
                if budget.spent():
                    continue  # past the log budget: read at stream speed, drop
                held.append((names[number], self._budgeted(splitters[number].feed(data), budget)))
                held_bytes += len(data)
                if held_bytes > _BACKLOG:
                    self._wait_for_log_room(entry)
                if self._events is not None and self._events.accepting_logs():
                    for stream, lines in held:
                        self._post_lines(sandbox_id, exec_id, stream, lines)
                    held, held_bytes = [], 0
        finally:
            sock.close()
        for number, splitter in splitters.items():
            held.append((names[number], self._budgeted(splitter.flush(), budget)))
        for stream, lines in held:  # at most _BACKLOG: the answer does not wait for the logs
            self._post_lines(sandbox_id, exec_id, stream, lines)
        exit_code = self._exec_exit_code(engine_exec_id)
        extra = ""
        if start_failure is not None:
            exit_code, message = start_failure_of(command[0], start_failure)
            extra = message + "\n"
        elif exit_code == 137 and entry.memory_bytes and self._oom_killed(entry.container_id, started):
            extra = f"killed: the sandbox exceeded its memory limit of {entry.memory_bytes} bytes (out of memory)\n"
        stderr = err.text()
        if extra:
            stderr += ("" if not stderr or stderr.endswith("\n") else "\n") + extra
            self._post_lines(sandbox_id, exec_id, "stderr", extra.rstrip("\n").split("\n"))
        return ExecOutput(
            stdout=out.text(),
            stderr=stderr,
            exit_code=exit_code,
            stdout_truncated=out.truncated,
            stderr_truncated=err.truncated,
        )

    @staticmethod
    def _budgeted(lines: list[str], budget: LogBudget) -> list[str]:
        """An exec's lines its log budget allows; past it, one line that says the rest is not logged."""
        allowed = []
        for line in lines:
            if not budget.take(line):
                note = budget.note()
                if note is not None:
                    allowed.append(note)
                break
            allowed.append(line)
        return allowed

    def _wait_for_log_room(self, entry: _Container) -> None:
        """Hold this reader (and so the process writing) while the service's log backlog is full."""
        events = self._events
        while events is not None and not events.accepting_logs() and not (entry.stopping or self._closed):
            time.sleep(_LOG_ROOM_RECHECK)

    def _exec_exit_code(self, engine_exec_id: str) -> int:
        # The stream can end a moment before the engine records the exit code.
        for _ in range(200):
            inspected = self._api.exec_inspect(engine_exec_id)
            code = inspected.get("ExitCode")
            if code is not None and not inspected.get("Running"):
                return int(code)
            time.sleep(0.005)
        return -1

    def _oom_killed(self, container_id: str, since: float) -> bool:
        # The engine sets State.OOMKilled only when the main process dies; an
        # exec's process killed for memory shows up as an "oom" event instead,
        # which a busy engine records a moment after the exec's stream ended.
        for _ in range(5):  # (an exec killed otherwise waits this half second more for its answer)
            if self._oom_event(container_id, since):
                return True
            time.sleep(0.1)
        return False

    def _oom_event(self, container_id: str, since: float) -> bool:
        try:
            events = self._api.events(
                since=int(since) - 1,
                # Now, to the nanosecond (the engine takes "seconds.nanoseconds"),
                # so the engine answers at once instead of waiting for the next second.
                until=cast(Any, f"{time.time():.9f}"),
                filters={"container": container_id, "event": "oom"},
                decode=True,
            )
            return any(event.get("Action", event.get("status")) == "oom" for event in events)
        except (requests.exceptions.RequestException, docker.errors.DockerException):
            return False

    # Following a container's output and exit

    def _start_follower(self, entry: _Container, since: float | None = None) -> None:
        if self._closed or entry.stopping:
            return
        thread = threading.Thread(
            target=self._follow,
            args=(entry, since),
            name=f"docker-follow-{entry.sandbox_id}",
            daemon=True,
        )
        entry.thread = thread
        thread.start()

    def _follow(self, entry: _Container, since: float | None) -> None:
        """Report the container's lines, then its exit, until it ends or is stopped.

        Lines come from the engine's log of the container, followed with
        timestamps: after a break (the engine went away) it is read again from
        the last line reported, so no line is lost or reported twice.
        """
        delay = 0.2
        while not (entry.stopping or self._closed):
            self._read_logs(entry, since)
            since = None
            if entry.stopping or self._closed:
                return
            try:
                state = cast("dict[str, Any]", self._api.inspect_container(entry.container_id))["State"]
            except docker.errors.NotFound:
                self._report_exit(
                    entry,
                    SandboxExit(
                        ExitKind.LOST, None, "the container was removed from the Docker engine by someone else"
                    ),
                )
                return
            except (requests.exceptions.RequestException, docker.errors.DockerException):
                # The engine went away; follow again once it answers.
                entry.done.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            if state.get("Running"):
                continue  # the stream broke but the container runs: follow again
            # A following reader can end before the engine has written the last
            # lines (a final line without a newline, say); read what is left.
            self._read_logs(entry, None, follow=False)
            code = int(state.get("ExitCode") or 0)
            end = SandboxExit(ExitKind.EXITED, code)
            if state.get("OOMKilled"):
                limit = f" of {entry.memory_bytes} bytes" if entry.memory_bytes else ""
                reason = f"killed: the sandbox exceeded its memory limit{limit} (out of memory)"
                end = SandboxExit(ExitKind.OUT_OF_MEMORY, code, reason)
            self._report_exit(entry, end)
            return

    def _read_logs(self, entry: _Container, since: float | None, follow: bool = True) -> None:
        """Follow both output streams until they end (the container stopped, or the connection broke).

        Lines already reported (by their engine timestamps) are skipped.
        """
        resume = [value for value in entry.last_seen.values() if value]
        if since is None and resume:
            # A little before the earlier stream's last line; lines already seen are skipped.
            since = max(min(resume) / 1e9 - 0.001, 1e-9)
        streams: dict[Stream, CancellableStream[bytes]] = {}
        try:
            for name in ("stdout", "stderr"):
                streams[name] = self._api.logs(
                    entry.container_id,
                    stdout=name == "stdout",
                    stderr=name == "stderr",
                    stream=True,
                    follow=follow,
                    timestamps=True,
                    since=since,
                )
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            for stream in streams.values():
                close_stream(stream)
            # An error answer (the engine going away mid-reply) keeps its connection open.
            response = getattr(error, "response", None)
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
            return  # the state of the container says what to do next
        with entry.lock:
            entry.streams = list(streams.values())
            if entry.stopping:
                for stream in streams.values():
                    close_stream(stream)
                return
        errors = threading.Thread(target=self._read_stream, args=(entry, "stderr", streams.get("stderr")), daemon=True)
        errors.start()
        self._read_stream(entry, "stdout", streams.get("stdout"))
        errors.join()
        with entry.lock:
            entry.streams = []  # each reader closed its own

    def _read_stream(self, entry: _Container, name: Stream, stream: CancellableStream[bytes] | None) -> None:
        if stream is None:
            return
        splitter = LineSplitter()
        try:
            for frame in stream:
                stamp, payload = split_timestamp(frame)
                if stamp:
                    if stamp <= entry.last_seen[name]:
                        continue  # reported before the break
                    entry.last_seen[name] = stamp
                self._wait_for_log_room(entry)
                self._post_lines(entry.sandbox_id, "", name, splitter.feed(payload))
        except Exception:
            pass  # however the stream broke, _follow looks at the container and goes on
        finally:
            self._post_lines(entry.sandbox_id, "", name, splitter.flush())
            close_stream(stream)

    def _report_exit(self, entry: _Container, end: SandboxExit) -> None:
        with self._lock:
            if self._containers.get(entry.sandbox_id) is not entry or entry.stopping:
                return
            entry.stopping = True
            del self._containers[entry.sandbox_id]
        events = self._events
        if events is not None:
            self._post(events.exited, entry.sandbox_id, end)
        # Its output is in the logs now; the container itself is not needed.
        try:
            self._remove(entry.container_id)
        except RuntimeUnavailable as error:
            logger.warning("docker runtime: %s", error)
        if entry.snapshot_image is not None:
            self._drop_deleted_snapshot(entry.snapshot_image)

    # Snapshots and metrics

    async def snapshot(self, sandbox_id: str, snapshot_id: str, mode: str) -> int:
        """Commit the sandbox's container (paused meanwhile) to its snapshot image; answer the size of its changes."""
        entry = self._containers.get(sandbox_id)
        if entry is None or entry.stopping:
            raise SandboxGone(f"sandbox {sandbox_id} has no container here")
        if mode != "filesystem":
            raise SnapshotFailed(f"the docker runtime takes filesystem snapshots only, not {mode!r}")
        return await self._call(self._snapshot, entry, snapshot_id)

    def _snapshot(self, entry: _Container, snapshot_id: str) -> int:
        try:
            container = cast("dict[str, Any]", self._api.inspect_container(entry.container_id))
            image = self._inspect_image(container["Image"])
            config = snapshots.commit_config(image.get("Config") or {}, snapshot_id, self._owner)
            committed = self._api.commit(
                entry.container_id, repository=snapshots.REPOSITORY, tag=snapshot_id, conf=config, pause=True
            )
            # The stubs leave history untyped; it answers the engine's JSON list, newest layer first.
            history = cast("Callable[[str], list[dict[str, Any]]]", self._api.history)(committed["Id"])
        except docker.errors.NotFound as error:
            raise SandboxGone(f"sandbox {entry.sandbox_id}'s container is gone") from error
        except docker.errors.APIError as error:
            raise SnapshotFailed(
                f"the Docker engine could not commit the container: {_engine_message(error)}"
            ) from error
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise SnapshotFailed(str(self._unreachable(error))) from error
        # The newest layer holds what the sandbox changed.
        return int(history[0].get("Size") or 0) if history else 0

    async def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove the snapshot's image; while a sandbox from it runs, untag it and remove it after that sandbox."""
        await self._call(self._delete_snapshot, snapshots.image_ref(snapshot_id))

    def _delete_snapshot(self, ref: str) -> None:
        try:
            try:
                self._api.remove_image(ref)
            except docker.errors.APIError as error:
                if error.status_code != 409:
                    raise
                # A container runs it: untag now, remove the image once that container is gone.
                self._api.remove_image(ref, force=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as error:
            raise RuntimeUnavailable(f"removing the image {ref} failed: {_engine_message(error)}") from error
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error

    def _drop_deleted_snapshot(self, image_id: str) -> None:
        """Remove a snapshot image whose snapshot was deleted, once no container runs it."""
        try:
            tags = self._inspect_image(image_id).get("RepoTags") or []
            if not any(str(tag).startswith(snapshots.REPOSITORY + ":") for tag in tags):
                self._api.remove_image(image_id)
        except (requests.exceptions.RequestException, docker.errors.DockerException):
            pass  # gone already, or another sandbox still runs it: that one's end removes it

    async def prune_snapshots(self, keep: set[str]) -> None:
        """Remove this server's snapshot images whose snapshots the store does not know (never another server's)."""
        try:
            await self._call(self._prune_snapshots, keep)
        except RuntimeUnavailable as error:
            logger.warning("docker runtime: cannot remove stale snapshot images: %s", error)

    def _prune_snapshots(self, keep: set[str]) -> None:
        try:
            mine = {"label": f"{snapshots.LABEL_OWNER}={self._owner}"}
            images = cast("list[dict[str, Any]]", self._api.images(all=True, filters=mine))
        except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
            raise self._unreachable(error) from error
        for image in images:
            if (image.get("Labels") or {}).get(snapshots.LABEL_SNAPSHOT) in keep:
                continue
            for tag in image.get("RepoTags") or []:
                if str(tag).startswith(snapshots.REPOSITORY + ":"):
                    with contextlib.suppress(RuntimeUnavailable):
                        self._delete_snapshot(str(tag))
            self._drop_deleted_snapshot(str(image["Id"]))

    async def sample(self, sandbox_ids: Sequence[str]) -> dict[str, ResourceSample]:
        """Each running container's counters: from its cgroups on this host, else from the engine's stats."""
        entries = [entry for sandbox_id in sandbox_ids if (entry := self._containers.get(sandbox_id)) is not None]
        unknown = [entry for entry in entries if not entry.usage_known]
        if unknown:
            await asyncio.gather(*(self._call(self._find_usage, entry) for entry in unknown))
        local = [entry for entry in entries if entry.usage is not None]
        found = await asyncio.to_thread(_read_local, local) if local else {}
        remote = [entry for entry in entries if entry.usage is None]
        loop = asyncio.get_running_loop()
        readings = await asyncio.gather(
            *(loop.run_in_executor(self._stats_pool, self._stats, entry) for entry in remote)
        )
        found.update({entry.sandbox_id: reading for entry, reading in zip(remote, readings, strict=True) if reading})
        return found

    def _find_usage(self, entry: _Container) -> None:
        try:
            state = cast("dict[str, Any]", self._api.inspect_container(entry.container_id))["State"]
        except (requests.exceptions.RequestException, docker.errors.DockerException):
            return  # looked for again at the next sampling
        entry.main_pid = int(state.get("Pid") or 0)
        if entry.main_pid:
            entry.usage = CgroupUsage.of_process(entry.main_pid, entry.container_id)
        entry.usage_known = True

    def _stats(self, entry: _Container) -> ResourceSample | None:
        try:
            stats = cast("dict[str, Any]", self._api.stats(entry.container_id, stream=False, one_shot=True))
            read_at = time.time()
        except (requests.exceptions.RequestException, docker.errors.DockerException):
            return None
        cpu = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
        memory = (stats.get("memory_stats") or {}).get("usage")
        if cpu is None or memory is None:
            return None  # not running (any more)
        networks = stats.get("networks")
        rx = tx = None
        if networks:
            rx = sum(int(network.get("rx_bytes") or 0) for network in networks.values())
            tx = sum(int(network.get("tx_bytes") or 0) for network in networks.values())
        return ResourceSample(int(cpu) / 1e9, int(memory), rx, tx, read_at)


def _read_local(entries: Sequence[_Container]) -> dict[str, ResourceSample]:
    """The counters of containers whose cgroups this host shows, read in one go (in a thread)."""
    found: dict[str, ResourceSample] = {}
    for entry in entries:
        assert entry.usage is not None
        usage = entry.usage.read()
        if usage is None:
            continue  # ended
        network = network_bytes(entry.main_pid)
        rx, tx = network if network is not None else (None, None)
        found[entry.sandbox_id] = ResourceSample(usage[0], usage[1], rx, tx, time.time())
    return found

"""The ``kubernetes`` runtime: each sandbox is a pod, each volume a PersistentVolumeClaim.

The cluster is the one ``KUBECONFIG`` names (or ``~/.kube/config``; inside a
pod, its service account), the namespace ``--kube-namespace`` (else the
pod's own, else the kubeconfig context's, else ``default``). Everything goes
through the API server; the server never needs to reach a node or a pod.

- **launch** creates the pod (``pods.sandbox_pod``: labels, security, limits,
  claims) and returns once its container runs, with the pod's IP as the
  internal address. A container that can never run (image missing, program
  missing, refused by a security rule) or a pod not running within
  ``launch_timeout`` is a ``LaunchFailed`` with Kubernetes' own words, and its
  pod is deleted.
- **exec** runs through the ``pods/exec`` subresource (``kube.channels``):
  stdout and stderr apart, the exit code from the status channel. The API has
  no per-exec environment: variables that differ from the pod's are passed
  through ``env`` (so the image needs an ``env`` program for those only).
- **logs**: one follow of the pod's log per sandbox, with timestamps, reported
  as they come; after a break (the API server away) it resumes after the last
  line reported. Kubernetes merges a container's stdout and stderr into one
  log, so the main process's lines are all reported as stdout
  (``Capabilities.separate_main_streams`` is false); execs keep them apart.
- **ends**: one watch over this server's pods (label ``porter-sandbox/server``)
  keeps each pod's latest status. A terminated container is an exit (its
  code; ``OOMKilled`` is out of memory); an evicted pod, or one deleted by
  someone else, is lost. Once its exit is reported, the pod is deleted.
- **stop** deletes the pod (grace period 1 s). **adopt** finds the pods of the
  sandboxes the store says are live, by label, and follows those still
  running (their lines from the moment of adoption).
- **readiness** lists one pod of the namespace: an API server that does not
  answer, or credentials that may not list pods, is a message (503).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from ...kube import JSON, KubeClient, KubeConfigError, KubeError, KubeUnreachable, SharedClient, start_exec
from ...volumes.claims.backend import ClaimVolumes
from ...volumes.claims.objects import ClaimSettings
from ..base import (
    Capabilities,
    ExecOutput,
    ExitKind,
    LaunchFailed,
    LaunchSpec,
    Placement,
    Runtime,
    RuntimeEvents,
    RuntimeUnavailable,
    SandboxExit,
    SandboxGone,
    Stream,
)
from ..lines import LineSplitter
from ..output import CappedOutput, LogBudget
from . import pods
from .pods import CONTAINER, LABEL_ID, LABEL_SERVER, pod_name

__all__ = ["KubernetesRuntime"]

logger = logging.getLogger(__name__)

#: How long a pod may take to run (scheduling, pulling its image) before its launch fails.
DEFAULT_LAUNCH_TIMEOUT = 300.0
#: The file in the data directory that holds this server's label value.
_INSTANCE_FILE = "kubernetes-server-id"
_OCI_EXEC_FAILED = b"OCI runtime exec failed"
#: How many pods a launch tries when the engine fails to start the container's program.
_START_ATTEMPTS = 2
#: How long a launch waits for a pod it deleted to go, before it starts the sandbox's pod again.
_GONE_TIMEOUT = 30.0
#: How often a reader held back by a full log backlog looks again.
_LOG_ROOM_RECHECK = 0.01
#: How much output one reader holds back while the service takes no lines, before it stops reading.
_BACKLOG = 256 * 1024


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


@dataclass
class _Pod:
    """A sandbox this runtime follows, and the latest status the watch saw of its pod."""

    sandbox_id: str
    name: str
    env: dict[str, str]
    memory_bytes: int | None
    pod: JSON | None = None
    #: Deleted from the API (by us or by someone else).
    gone: bool = False
    stopping: bool = False
    #: Set at every change the watch sees; waiters clear it.
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    follower: asyncio.Task[None] | None = None
    #: The latest timestamp (ns since the epoch) of a log line reported, to resume after a break.
    last_stamp: int = 0
    #: Lines stamped before this are not reported (after an adoption: the previous server reported them).
    report_from: int = 0
    #: ``(stamp, hash of the line)`` of the lines reported in the whole second of ``last_stamp``: a
    #: resumed read returns that second again. Stamps alone do not order the lines: the engine
    #: copies stdout and stderr separately, so a stderr line can follow a later-stamped stdout line.
    recent: set[tuple[int, int]] = field(default_factory=set)


_SECOND = 1_000_000_000


def _stamp_ns(text: bytes) -> int:
    """An RFC 3339 timestamp with nanoseconds (``2024-01-02T03:04:05.123456789Z``) as ns since the epoch."""
    raw = text.decode("ascii", "replace").rstrip("Z")
    whole, _, fraction = raw.partition(".")
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(seconds) * _SECOND + int((fraction or "0")[:9].ljust(9, "0"))


def _since_time(stamp_ns: int) -> str:
    """``sinceTime`` for a log request: the whole second of ``stamp_ns`` (the API takes no finer)."""
    return datetime.fromtimestamp(stamp_ns // _SECOND, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubernetesRuntime(Runtime):
    """Runs each sandbox as a pod in one namespace of a Kubernetes cluster."""

    name = "kubernetes"
    capabilities = Capabilities(
        outlives_server=True,
        volume_types=frozenset({"disk"}),
        separate_main_streams=False,
    )

    def __init__(
        self,
        data_dir: Path,
        *,
        namespace: str | None = None,
        image_pull_policy: str | None = None,
        claims: ClaimSettings | None = None,
        launch_timeout: float = DEFAULT_LAUNCH_TIMEOUT,
    ) -> None:
        self.data_dir = data_dir
        self.image_pull_policy = image_pull_policy
        self.launch_timeout = launch_timeout
        self._shared = SharedClient(namespace)
        self.volumes: ClaimVolumes = ClaimVolumes(self._shared, claims or ClaimSettings(), image_pull_policy)
        self._client: KubeClient | None = None
        self._events: RuntimeEvents | None = None
        self._pods: dict[str, _Pod] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._closed = False
        #: This server's value of the ``porter-sandbox/server`` label, kept in the data directory.
        self.server_id = ""

    # Set-up

    @property
    def client(self) -> KubeClient:
        """The API client (once opened)."""
        if self._client is None:
            raise RuntimeUnavailable("the kubernetes runtime is not open")
        return self._client

    def _load_server_id(self) -> str:
        path = self.data_dir / _INSTANCE_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            value = f"srv-{secrets.token_hex(6)}"
            path.write_text(value + "\n")
            return value

    async def open(self, events: RuntimeEvents) -> None:
        """Load the cluster configuration and start watching this server's pods.

        Raises ``RuntimeUnavailable`` when there is no usable configuration; an
        API server that is merely down now is reported by ``readiness``.
        """
        try:
            self._client = await self._shared.get()
        except KubeConfigError as error:
            raise RuntimeUnavailable(str(error)) from error
        self.server_id = self._load_server_id()
        self.volumes.server_id = self.server_id
        self._events = events
        self._watcher = asyncio.ensure_future(self._watch())
        reason = await self.readiness()
        if reason is None:
            logger.info(
                "kubernetes runtime: API server at %s answers; sandboxes run in namespace %s",
                self.client.host,
                self.client.namespace,
            )
        else:
            logger.warning("kubernetes runtime: %s", reason)

    async def readiness(self) -> str | None:
        """``None`` when this server may list pods in its namespace now, else why not."""
        client = self.client
        try:
            await client.request("GET", client.namespaced("pods"), query={"limit": "1"}, timeout=5)
        except KubeUnreachable as error:
            return f"{error}; check KUBECONFIG (or the in-cluster service account) and that the cluster runs"
        except KubeError as error:
            return self._refusal(error)
        return None

    def _refusal(self, error: KubeError) -> str:
        client = self.client
        if error.status in (401, 403):
            return (
                f"the Kubernetes API server refused this server's credentials ({error.status}): {error.message}; "
                f"grant it the role in the README (pods, pods/exec, pods/log, persistentvolumeclaims in namespace "
                f"{client.namespace})"
            )
        if error.status == 404:
            return f"the namespace {client.namespace} does not exist: create it, or pass --kube-namespace"
        return f"the Kubernetes API server answered {error}"

    # The watch: the latest status of every pod of this server

    async def _watch(self) -> None:
        client = self.client
        selector = {"labelSelector": f"{LABEL_SERVER}={self.server_id},{LABEL_ID}"}
        delay = 0.2
        while not self._closed:
            try:
                listing = await client.request("GET", client.namespaced("pods"), query=selector)
                seen = {}
                for item in listing.get("items") or []:
                    seen[(item.get("metadata") or {}).get("name")] = item
                for entry in list(self._pods.values()):
                    item = seen.get(entry.name)
                    if item is None:
                        if entry.pod is not None:  # it existed and is gone now
                            self._update(entry, None)
                    else:
                        self._update(entry, item)
                version = str((listing.get("metadata") or {}).get("resourceVersion") or "")
                query = {**selector, "resourceVersion": version, "allowWatchBookmarks": "true", "timeoutSeconds": "300"}
                delay = 0.2
                async for event in client.watch(client.namespaced("pods"), query):
                    kind = event.get("type")
                    item = event.get("object") or {}
                    if kind == "ERROR":
                        break  # too old a version (410): list again
                    if kind not in ("ADDED", "MODIFIED", "DELETED"):
                        continue
                    watched = self._by_pod_name(str((item.get("metadata") or {}).get("name") or ""))
                    if watched is not None:
                        self._update(watched, None if kind == "DELETED" else item)
            except asyncio.CancelledError:
                raise
            except (KubeUnreachable, KubeError, ValueError) as error:
                logger.debug("kubernetes runtime: the pod watch broke: %s", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                logger.exception("kubernetes runtime: the pod watch failed")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _by_pod_name(self, name: str) -> _Pod | None:
        sandbox_id = name.removeprefix("porter-sandbox-")
        entry = self._pods.get(sandbox_id)
        return entry if entry is not None and entry.name == name else None

    @staticmethod
    def _update(entry: _Pod, pod: JSON | None) -> None:
        if pod is None:
            entry.gone = True
        else:
            entry.pod = pod
        entry.changed.set()

    async def _refresh(self, entry: _Pod) -> None:
        """Read the pod directly (when the watch may be behind or down)."""
        client = self.client
        try:
            self._update(entry, await client.request("GET", client.namespaced("pods", entry.name), timeout=10))
        except KubeError as error:
            if error.status == 404:
                self._update(entry, None)
        except KubeUnreachable:
            pass

    async def _changed(self, entry: _Pod, timeout: float) -> None:
        """Wait up to ``timeout`` for the watch to see a change of the pod; then read it directly."""
        try:
            await asyncio.wait_for(entry.changed.wait(), timeout)
        except asyncio.TimeoutError:
            await self._refresh(entry)
        entry.changed.clear()

    # Runtime

    async def launch(self, spec: LaunchSpec) -> Placement:
        """Create the sandbox's pod and return once its container runs."""
        claims = {mount.volume_id: self.volumes.claim_name(mount.volume_id) for mount in spec.mounts}
        manifest = pods.sandbox_pod(
            spec, server=self.server_id, claim_of=claims, image_pull_policy=self.image_pull_policy
        )
        entry = _Pod(spec.sandbox_id, pod_name(spec.sandbox_id), {"HOME": "/workspace", **spec.env}, spec.memory_bytes)
        self._pods[spec.sandbox_id] = entry
        try:
            for attempt in range(_START_ATTEMPTS):
                await self._create_pod(manifest)
                try:
                    await self._wait_started(entry)
                    break
                except LaunchFailed:
                    # An engine under load now and then fails to start a container whose program is there
                    # ("executable file not found" on a rootfs it had not finished preparing); a program
                    # that is really missing fails the same way again, one pod later.
                    if attempt + 1 == _START_ATTEMPTS or entry.pod is None or not pods.never_ran(entry.pod):
                        raise
                    logger.info(
                        "kubernetes runtime: %s: %s; starting it again", entry.name, pods.launch_failure(entry.pod)
                    )
                    await self._delete(entry.name)
                    await self._wait_gone(entry)
        except BaseException:
            self._pods.pop(spec.sandbox_id, None)
            entry.stopping = True
            with contextlib.suppress(Exception):
                await self._delete(entry.name)
            raise
        pod = entry.pod or {}
        self._start_follower(entry)
        return Placement(host="", internal_address=(pod.get("status") or {}).get("podIP") or None)

    async def _create_pod(self, manifest: JSON) -> None:
        client = self.client
        try:
            await client.request("POST", client.namespaced("pods"), body=manifest)
        except KubeUnreachable as error:
            raise RuntimeUnavailable(str(error)) from error
        except KubeError as error:
            if error.status in (401, 403, 404):
                raise LaunchFailed(self._refusal(error)) from error
            raise LaunchFailed(f"the API server refused the pod: {error.message}") from error

    async def _wait_gone(self, entry: _Pod) -> None:
        """Wait until the deleted pod of ``entry`` is gone from the API, then forget what was seen of it."""
        deadline = time.monotonic() + _GONE_TIMEOUT
        while not entry.gone:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LaunchFailed(f"pod {entry.name} did not go away within {_GONE_TIMEOUT:g}s to be started again")
            await self._changed(entry, min(remaining, 1.0))
        entry.pod = None
        entry.gone = False
        entry.changed.clear()

    async def _wait_started(self, entry: _Pod) -> None:
        deadline = time.monotonic() + self.launch_timeout
        while True:
            pod = entry.pod
            if entry.gone:
                raise LaunchFailed("the pod was deleted before it started")
            if pod is not None:
                failure = pods.launch_failure(pod)
                if failure is not None:
                    raise LaunchFailed(failure)
                if pods.is_running(pod) or pods.ended(pod, entry.memory_bytes) is not None:
                    return  # an exit right away is reported by the follower
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LaunchFailed(
                    f"the pod did not run within {self.launch_timeout:g}s: {pods.pending_reason(entry.pod)}"
                )
            # The watch usually tells first; a direct read every few seconds covers a watch that is down.
            await self._changed(entry, min(remaining, 3.0))

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        """Run ``command`` through ``pods/exec``; lines are reported as they come."""
        entry = self._pods.get(sandbox_id)
        if entry is None or entry.stopping or entry.gone:
            raise SandboxGone(f"sandbox {sandbox_id} has no pod here")
        argv = list(command)
        extra = {key: value for key, value in env.items() if entry.env.get(key) != value}
        if extra:
            argv = ["env", *(f"{key}={value}" for key, value in extra.items()), *argv]
        try:
            session = await start_exec(self.client, entry.name, CONTAINER, argv)
        except KubeUnreachable as error:
            raise RuntimeUnavailable(str(error)) from error
        except KubeError as error:
            if error.status in (400, 404):  # no such pod, or its container is not running
                raise SandboxGone(f"sandbox {sandbox_id}'s pod is not running: {error.message}") from error
            raise RuntimeUnavailable(f"the API server refused the exec: {error}") from error
        limits = self.output_limits
        out, err = CappedOutput("stdout", limits.exec_answer_bytes), CappedOutput("stderr", limits.exec_answer_bytes)
        budget = LogBudget(limits)
        splitters = {1: LineSplitter(), 2: LineSplitter()}
        answers = {1: out, 2: err}
        names: dict[int, Stream] = {1: "stdout", 2: "stderr"}
        start_failure: bytes | None = None
        # Lines wait here while the service takes none; past _BACKLOG bytes, reading waits too.
        held: list[tuple[Stream, list[str]]] = []
        held_bytes = 0
        try:
            while (frame := await session.next_frame()) is not None:
                channel, data = frame
                if channel == 1 and not out.written and start_failure is None and data.startswith(_OCI_EXEC_FAILED):
                    # Docker (under the kubelet's dockershim) reports a program it cannot start
                    # on stdout; it is kept apart and said on stderr, as a shell would.
                    start_failure = data
                    continue
                answers[channel].add(data)
                if budget.spent():
                    continue  # past the log budget: read at stream speed, drop
                held.append((names[channel], _budgeted(splitters[channel].feed(data), budget)))
                held_bytes += len(data)
                if held_bytes > _BACKLOG:
                    await self._log_room(entry)
                if self._events is not None and self._events.accepting_logs():
                    for stream, lines in held:
                        self._report(sandbox_id, exec_id, stream, lines)
                    held, held_bytes = [], 0
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise RuntimeUnavailable(f"the exec's connection to the API server broke: {error}") from error
        finally:
            await session.close()
        for channel, splitter in splitters.items():
            held.append((names[channel], _budgeted(splitter.flush(), budget)))
        for stream, lines in held:  # at most _BACKLOG: the answer does not wait for the logs
            self._report(sandbox_id, exec_id, stream, lines)
        status = session.status
        extra_err = ""
        if start_failure is not None:
            reason = start_failure.decode("utf-8", "replace").strip()
            missing = "not found" in reason or "no such file" in reason.lower()
            exit_code = 127 if missing else 126
            extra_err = f"{command[0]}: cannot run: {reason}\n"
        elif status is None:
            if entry.stopping or entry.gone:
                raise SandboxGone(f"sandbox {sandbox_id} ended during the exec")
            raise RuntimeUnavailable("the exec ended without an exit status from the API server")
        elif status.exit_code is None:
            # A runtime that reports a program it cannot start in the status instead (containerd, CRI-O).
            lowered = status.message.lower()
            if "not found" in lowered and ("container" in lowered and "executable" not in lowered):
                raise SandboxGone(f"sandbox {sandbox_id}'s container is gone: {status.message}")
            exit_code = 127 if ("not found" in lowered or "no such file" in lowered) else 126
            extra_err = f"{command[0]}: cannot run: {status.message}\n"
        else:
            exit_code = status.exit_code
        stderr = err.text()
        if extra_err:
            stderr += ("" if not stderr or stderr.endswith("\n") else "\n") + extra_err
            self._report(sandbox_id, exec_id, "stderr", extra_err.rstrip("\n").split("\n"))
        return ExecOutput(
            stdout=out.text(),
            stderr=stderr,
            exit_code=exit_code,
            stdout_truncated=out.truncated,
            stderr_truncated=err.truncated,
        )

    async def _log_room(self, entry: _Pod) -> None:
        """Hold this reader (and so, through the connection, the process writing) while the service's log backlog is full."""
        events = self._events
        while events is not None and not events.accepting_logs() and not (entry.stopping or self._closed):
            await asyncio.sleep(_LOG_ROOM_RECHECK)

    def _report(self, sandbox_id: str, exec_id: str, stream: Stream, lines: list[str]) -> None:
        events = self._events
        if events is not None and not self._closed:
            for line in lines:
                events.log(sandbox_id, exec_id, stream, line)

    async def stop(self, sandbox_id: str) -> None:
        """Delete the sandbox's pod; a no-op when it is gone."""
        entry = self._pods.pop(sandbox_id, None)
        if entry is not None:
            entry.stopping = True
            self._stop_follower(entry)
        await self._delete(pod_name(sandbox_id))

    async def _delete(self, name: str) -> None:
        client = self.client
        try:
            await client.request(
                "DELETE",
                client.namespaced("pods", name),
                body={"gracePeriodSeconds": 1, "propagationPolicy": "Background"},
            )
        except KubeError as error:
            if error.status != 404:
                raise RuntimeUnavailable(f"deleting pod {name} failed: {error}") from error
        except KubeUnreachable as error:
            raise RuntimeUnavailable(str(error)) from error

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        """Follow again the pods of ``live`` sandboxes that still run; delete those that ended."""
        if not live:
            return set()
        client = self.client
        try:
            listing = await client.request(
                "GET", client.namespaced("pods"), query={"labelSelector": f"{LABEL_SERVER}={self.server_id},{LABEL_ID}"}
            )
        except (KubeUnreachable, KubeError) as error:
            logger.warning("kubernetes runtime: cannot adopt sandboxes: %s", error)
            return set()
        found = {str((item.get("metadata") or {}).get("name")): item for item in listing.get("items") or []}
        adopted: set[str] = set()
        entries: list[_Pod] = []
        now = time.time_ns()
        for spec in live:
            name = pod_name(spec.sandbox_id)
            pod = found.get(name)
            if pod is None:
                continue
            if not pods.is_running(pod) or pods.is_deleting(pod):
                # It ended while no server followed it: the service marks it backend_lost.
                with contextlib.suppress(RuntimeUnavailable):
                    await self._delete(name)
                continue
            entry = _Pod(spec.sandbox_id, name, {"HOME": "/workspace", **spec.env}, spec.memory_bytes, pod=pod)
            entry.last_stamp = entry.report_from = now  # lines written while no server followed are lost
            self._pods[spec.sandbox_id] = entry
            entries.append(entry)
            adopted.add(spec.sandbox_id)
        # Followers start once the service has recorded the adoption, so an exit
        # they see at once is not reported for a sandbox it does not track yet.
        loop = asyncio.get_running_loop()
        for entry in entries:
            loop.call_soon(self._start_follower, entry)
        if adopted:
            logger.info("kubernetes runtime: adopted %d running pod(s)", len(adopted))
        return adopted

    async def close(self, stop_sandboxes: bool) -> None:
        """Stop following pods (deleting them with ``stop_sandboxes``) and close the client."""
        if stop_sandboxes and self._client is not None:
            ids = list(self._pods)
            results = await asyncio.gather(*(self.stop(sandbox_id) for sandbox_id in ids), return_exceptions=True)
            for sandbox_id, result in zip(ids, results, strict=True):
                if isinstance(result, BaseException):
                    logger.warning("kubernetes runtime: could not delete sandbox %s: %s", sandbox_id, result)
        self._closed = True
        tasks = [entry.follower for entry in self._pods.values() if entry.follower is not None]
        for entry in list(self._pods.values()):
            self._stop_follower(entry)
        self._pods.clear()
        if self._watcher is not None:
            tasks.append(self._watcher)
            self._watcher.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._shared.close()

    # Following a pod's log and its end

    def _start_follower(self, entry: _Pod) -> None:
        if self._closed or entry.stopping:
            return
        entry.follower = asyncio.ensure_future(self._follow(entry))

    @staticmethod
    def _stop_follower(entry: _Pod) -> None:
        follower, entry.follower = entry.follower, None
        if follower is not None and follower is not asyncio.current_task():
            follower.cancel()

    async def _follow(self, entry: _Pod) -> None:
        """Report the pod's log lines, then its end, until it ends or is stopped."""
        delay = 0.2
        while not (entry.stopping or self._closed):
            try:
                await self._read_log(entry, follow=True)
                delay = 0.2
            except (KubeUnreachable, aiohttp.ClientError, asyncio.TimeoutError, OSError):
                await asyncio.sleep(delay)  # the API server went away; follow again once it answers
                delay = min(delay * 2, 5.0)
            except KubeError as error:
                if error.status != 400:  # 400: the container is not running yet or any more
                    logger.debug("kubernetes runtime: log of %s: %s", entry.name, error)
            if entry.stopping or self._closed:
                return
            end = await self._end_of(entry)
            if end is None:
                continue  # the stream broke but the container runs: follow again
            if not entry.gone:
                # A following reader can stop before the last lines are in the log; read what is left.
                with contextlib.suppress(
                    KubeUnreachable, KubeError, aiohttp.ClientError, asyncio.TimeoutError, OSError
                ):
                    await self._read_log(entry, follow=False)
            await self._report_exit(entry, end)
            return

    async def _end_of(self, entry: _Pod) -> SandboxExit | None:
        """How the pod ended, or ``None`` when it still runs (after a short wait for the watch to catch up)."""
        for _ in range(3):
            if entry.gone or (entry.pod is not None and pods.is_deleting(entry.pod)):
                # Not by us (``stop`` ends the follower first): whatever its container said on the way out.
                return SandboxExit(ExitKind.LOST, None, "the pod was deleted by someone else")
            if entry.pod is not None:
                end = pods.ended(entry.pod, entry.memory_bytes)
                if end is not None:
                    if end.kind is ExitKind.EXITED and end.exit_code == 137 and entry.memory_bytes:
                        return await self._oom_or(entry, end)
                    return end
            await self._changed(entry, 1.0)
        return None

    async def _oom_or(self, entry: _Pod, end: SandboxExit) -> SandboxExit:
        """A kill (137) under a memory limit: the engine may mark it ``OOMKilled`` a moment after the exit."""
        for _ in range(3):
            await self._changed(entry, 1.0)
            again = pods.ended(entry.pod or {}, entry.memory_bytes)
            if again is not None and again.kind is ExitKind.OUT_OF_MEMORY:
                return again
        return end

    async def _read_log(self, entry: _Pod, follow: bool) -> None:
        """Read the container's log (following it until it ends), reporting lines not reported before."""
        client = self.client
        query = {"container": CONTAINER, "timestamps": "true", "follow": "true" if follow else "false"}
        if entry.last_stamp:
            query["sinceTime"] = _since_time(entry.last_stamp)
        response = await client.open_stream(client.namespaced("pods", entry.name, "log"), query)
        splitter = LineSplitter()
        try:
            partial = b""
            async for chunk in response.content.iter_any():
                pieces = (partial + chunk).split(b"\n")
                partial = pieces.pop()
                for piece in pieces:
                    self._log_line(entry, piece, splitter)
                if self._events is not None and not self._events.accepting_logs():
                    await self._log_room(entry)  # the follow's connection then holds the writer back
            if partial:
                self._log_line(entry, partial, splitter)
        finally:
            response.release()

    def _log_line(self, entry: _Pod, raw: bytes, splitter: LineSplitter) -> None:
        stamp, _, content = raw.partition(b" ")
        try:
            value = _stamp_ns(stamp)
        except ValueError:
            # Every line the container wrote has a timestamp; this is the kubelet's own complaint
            # (the container went away mid-follow), not the sandbox's output.
            logger.debug("kubernetes runtime: log of %s: %s", entry.name, raw[:200])
            return
        if value < entry.report_from:
            return
        second = entry.last_stamp - entry.last_stamp % _SECOND
        if value >= second:
            key = (value, hash(content))
            if key in entry.recent:
                return  # reported before the break
            entry.recent.add(key)
        if value > entry.last_stamp:
            entry.last_stamp = value
            if value - second >= _SECOND:  # a new second: what a resumed read can return again moves on
                floor = value - value % _SECOND
                entry.recent = {key for key in entry.recent if key[0] >= floor}
        self._report(entry.sandbox_id, "", "stdout", splitter.feed(content + b"\n"))

    async def _report_exit(self, entry: _Pod, end: SandboxExit) -> None:
        if self._pods.get(entry.sandbox_id) is not entry or entry.stopping:
            return
        entry.stopping = True
        del self._pods[entry.sandbox_id]
        if self._events is not None and not self._closed:
            self._events.exited(entry.sandbox_id, end)
        # Its output is in the logs now; the pod itself is not needed.
        if not entry.gone:
            try:
                await self._delete(entry.name)
            except RuntimeUnavailable as error:
                logger.warning("kubernetes runtime: %s", error)

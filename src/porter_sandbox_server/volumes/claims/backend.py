"""``ClaimVolumes``: each volume is a PersistentVolumeClaim, its files served by a helper pod that mounts it.

Why a helper pod per volume, reached by exec, rather than an exec into a
sandbox that mounts the claim: the files API must work when no sandbox
mounts the volume, and a sandbox is the one place we cannot trust (its
programs are the attacker's, so the answers would be too). The helper runs
our own image (``--kube-helper-image``: one with ``porter-sandbox[server]``),
mounts only its one claim, runs as the sandboxes' non-root user with every
capability dropped and a read-only root, and serves each request with the
host-directory backend's own path code (``agent``): the same rules, the same
code. It lives as long as the volume (``restartPolicy: Always``); creating
it also binds claims whose storage class waits for a first consumer.

A volume is ``ready`` once its helper runs (the claim is then bound and
mounted). With ``host_path_dir`` (clusters without a provisioner, such as a
bare test cluster) the backend also makes a hostPath PersistentVolume bound
in advance to each claim, and empties it before deleting it (hostPath has no
deleter).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import aiohttp
import anyio

from ... import errors
from ...kube import JSON, ExecSession, KubeClient, KubeError, KubeUnreachable, SharedClient, start_exec
from ..base import FileEntry, Listing, VolumeBackend, VolumePhase
from ..hostdir.paths import split_path
from . import objects
from .objects import AGENT, HELPER_CONTAINER, ClaimSettings, object_name
from .protocol import ABORT, COMMIT, DATA, LENGTH, QUIT, error_from, frame, read_request

__all__ = ["ClaimFileReader", "ClaimFileWriter", "ClaimVolumes"]

#: The largest piece of an upload sent in one frame.
_UPLOAD_FRAME = 1024 * 1024
#: How long a new claim may take to bind before its helper pod is made anyway; in host-path mode
#: (a PersistentVolume made for it, so it binds for sure) as long as the controller takes.
_BIND_WAIT = 5.0
_HOST_PATH_BIND_WAIT = 60.0
#: How much of the agent's stderr is kept for a message.
_STDERR_KEPT = 4096


class _Agent:
    """One exec of the file agent: its stdout read as lines and exact byte counts, its stderr kept."""

    def __init__(self, session: ExecSession) -> None:
        self._session = session
        self._buffer = bytearray()
        self.stderr = bytearray()

    async def _fill(self, size: int | None = None) -> bool:
        """Read one more stdout chunk (or until ``size`` bytes are buffered); ``False`` once the agent ended."""
        while size is None or len(self._buffer) < size:
            frame_read = await self._session.next_frame()
            if frame_read is None:
                return False
            channel, data = frame_read
            if channel == 1:
                self._buffer += data
                if size is None:
                    return True
            elif len(self.stderr) < _STDERR_KEPT:
                self.stderr += data[: _STDERR_KEPT - len(self.stderr)]
        return True

    async def header(self) -> dict[str, Any]:
        """The next header line, raised as its API error when it carries one."""
        while b"\n" not in self._buffer:
            if not await self._fill():
                raise self._silent()
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        answer = json.loads(line)
        if not isinstance(answer, dict):
            raise self._silent()
        failure = error_from(answer)
        if failure is not None:
            raise failure
        return answer

    async def exact(self, size: int) -> bytes:
        """Exactly ``size`` bytes of stdout."""
        if not await self._fill(size):
            raise self._silent()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def send(self, data: bytes) -> None:
        """Write to the agent's stdin."""
        await self._session.send(data)

    async def close(self) -> None:
        """End the exec."""
        await self._session.close()

    def _silent(self) -> errors.ApiError:
        said = self.stderr.decode("utf-8", "replace").strip()
        status = self._session.status
        detail = said or (status.message if status is not None else "") or "no answer"
        return errors.Unavailable(
            f"the volume's file agent did not answer ({detail[-500:]}); the helper image (--kube-helper-image) "
            "must have porter-sandbox[server] installed"
        )


class ClaimFileReader:
    """A volume file opened by the agent; each read is one request over the same exec."""

    def __init__(self, agent: _Agent, size: int, modified_at: float) -> None:
        self._agent = agent
        self._size = size
        self._modified_at = modified_at
        self._closed = False

    @property
    def size(self) -> int:
        """Its size in bytes when it was opened."""
        return self._size

    @property
    def modified_at(self) -> float:
        """When it was last written, in seconds since the epoch."""
        return self._modified_at

    async def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset``."""
        await self._agent.send(read_request(offset, length))
        (size,) = LENGTH.unpack(await self._agent.exact(LENGTH.size))
        return await self._agent.exact(size)

    async def close(self) -> None:
        """Tell the agent to stop and end the exec; runs even when cancelled."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(Exception):
                await self._agent.send(frame(QUIT))
            with contextlib.suppress(Exception):
                await self._agent.close()


class ClaimFileWriter:
    """An upload into a claim: the agent writes a temporary file beside the target and renames it on commit."""

    def __init__(self, agent: _Agent, path: str) -> None:
        self._agent = agent
        self._path = path
        self._done = False

    @property
    def path(self) -> str:
        """The file being written, from the volume root."""
        return self._path

    async def write(self, data: bytes) -> None:
        """Send ``data`` to the upload."""
        for start in range(0, len(data), _UPLOAD_FRAME):
            await self._agent.send(frame(DATA, data[start : start + _UPLOAD_FRAME]))

    async def commit(self) -> None:
        """Ask the agent to rename the upload into place; raises the agent's error when it cannot."""
        if self._done:
            raise RuntimeError("this upload is already finished")
        self._done = True
        try:
            await self._agent.send(frame(COMMIT))
            await self._agent.header()
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self._agent.close()

    async def abort(self) -> None:
        """Drop the upload (the agent removes its temporary file); a no-op once committed or aborted."""
        if self._done:
            return
        self._done = True
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(Exception):
                await self._agent.send(frame(ABORT))
            with contextlib.suppress(Exception):
                await self._agent.close()


def _entry(item: dict[str, Any]) -> FileEntry:
    return FileEntry(
        name=str(item["name"]),
        is_directory=bool(item["dir"]),
        size_bytes=int(item["size"]),
        modified_at=datetime.fromtimestamp(float(item["mtime"]), tz=timezone.utc),
        truncated=bool(item.get("truncated", False)),
        entries=[_entry(child) for child in item.get("entries") or []],
    )


class ClaimVolumes(VolumeBackend):
    """Volumes as PersistentVolumeClaims in the runtime's namespace, their files served by helper pods."""

    kind = "pvc"

    def __init__(self, shared: SharedClient, settings: ClaimSettings, image_pull_policy: str | None) -> None:
        self._shared = shared
        self.settings = settings
        self.image_pull_policy = image_pull_policy
        #: The ``porter-sandbox/server`` label value of this server (set by the runtime when it opens).
        self.server_id = "unset"
        #: Volumes whose helper was seen running: their files can be reached.
        self._ready: set[str] = set()

    @staticmethod
    def claim_name(volume_id: str) -> str:
        """The name of the volume's PersistentVolumeClaim, which sandbox pods mount."""
        return object_name(volume_id)

    async def _client(self) -> KubeClient:
        return await self._shared.get()

    async def open(self) -> None:
        """Nothing to clear: an upload cut off by a server stop is aborted by its agent when its exec ends."""

    # Objects

    async def create(self, volume_id: str) -> VolumePhase:
        """Make the claim (and its PersistentVolume in host-path mode) and the helper pod; wait until it runs."""
        image = self._helper_image()
        client = await self._client()
        name = object_name(volume_id)
        made: list[str] = []
        try:
            if self.settings.host_path_dir is not None:
                body = objects.persistent_volume(volume_id, self.server_id, client.namespace, self.settings)
                await client.request("POST", "/api/v1/persistentvolumes", body=body)
                made.append("pv")
                await self._wait_phase(client, f"/api/v1/persistentvolumes/{name}", {"Available", "Bound"})
            await client.request(
                "POST",
                client.namespaced("persistentvolumeclaims"),
                body=objects.claim(volume_id, self.server_id, self.settings),
            )
            made.append("pvc")
            await self._wait_phase(client, client.namespaced("persistentvolumeclaims", name), {"Bound"})
            await client.request(
                "POST",
                client.namespaced("pods"),
                body=objects.helper_pod(volume_id, self.server_id, image, self.image_pull_policy),
            )
        except (KubeError, KubeUnreachable) as error:
            with contextlib.suppress(KubeError, KubeUnreachable):
                await self._delete_objects(client, name, made)
            raise self._unavailable(f"creating the volume's claim failed: {error}") from error
        return await self._wait_ready(client, volume_id, self.settings.ready_timeout)

    async def _wait_phase(self, client: KubeClient, path: str, phases: set[str]) -> None:
        """Give a new PersistentVolume or claim a moment to reach one of ``phases``.

        The volume controller binds a claim only once it has seen its
        PersistentVolume (else at its next resync, 15 s later), and the
        scheduler sets aside a pod whose claim is unbound, trying it again
        only after a back-off of many seconds: so each step waits for the one
        before. A storage class that binds only for a first consumer leaves
        the claim unbound: after ``_BIND_WAIT`` the helper pod is made anyway,
        and is that consumer.
        """
        wait = _HOST_PATH_BIND_WAIT if self.settings.host_path_dir is not None else _BIND_WAIT
        deadline = time.monotonic() + wait
        delay = 0.02
        while time.monotonic() < deadline:
            answer = await client.request("GET", path)
            if (answer.get("status") or {}).get("phase") in phases:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def delete(self, volume_id: str) -> None:
        """Empty the volume (host-path mode), then delete its helper pod, claim and PersistentVolume."""
        client = await self._client()
        if self.settings.host_path_dir is not None:
            try:
                agent = await self._agent(volume_id, ["wipe"], ready_timeout=30)
                try:
                    await agent.header()
                finally:
                    await agent.close()
            except errors.ApiError:
                pass  # its files stay in the node's directory; the claim still goes
        self._ready.discard(volume_id)
        kinds = ["pod", "pvc", "pv"] if self.settings.host_path_dir is not None else ["pod", "pvc"]
        try:
            await self._delete_objects(client, object_name(volume_id), kinds)
        except (KubeError, KubeUnreachable) as error:
            raise self._unavailable(f"deleting the volume's claim failed: {error}") from error

    async def _delete_objects(self, client: KubeClient, name: str, kinds: Sequence[str]) -> None:
        paths = {
            "pod": client.namespaced("pods", name),
            "pvc": client.namespaced("persistentvolumeclaims", name),
            "pv": f"/api/v1/persistentvolumes/{name}",
        }
        for kind in kinds:
            try:
                body = {"gracePeriodSeconds": 0} if kind == "pod" else None
                await client.request("DELETE", paths[kind], body=body)
            except KubeError as error:
                if error.status != 404:
                    raise

    async def phase(self, volume_id: str) -> VolumePhase:
        """``ready`` once the helper pod runs, ``pending`` before, ``failed`` when it cannot run."""
        if volume_id in self._ready:
            return "ready"
        client = await self._client()
        try:
            pod = await client.request("GET", client.namespaced("pods", object_name(volume_id)), timeout=10)
        except KubeError as error:
            return "failed" if error.status == 404 else "pending"
        except KubeUnreachable:
            return "pending"
        return self._phase_of(volume_id, pod)

    def _phase_of(self, volume_id: str, pod: JSON) -> VolumePhase:
        status = pod.get("status") or {}
        if status.get("phase") == "Running" and all(
            item.get("ready") for item in status.get("containerStatuses") or [{"ready": False}]
        ):
            self._ready.add(volume_id)
            return "ready"
        if status.get("phase") == "Failed":
            return "failed"
        return "pending"

    async def _wait_ready(self, client: KubeClient, volume_id: str, timeout: float) -> VolumePhase:
        deadline = time.monotonic() + timeout
        phase: VolumePhase = "pending"
        delay = 0.05
        while time.monotonic() < deadline:
            try:
                pod = await client.request("GET", client.namespaced("pods", object_name(volume_id)), timeout=10)
            except KubeError as error:
                if error.status == 404:
                    return "failed"
            except KubeUnreachable:
                pass
            else:
                phase = self._phase_of(volume_id, pod)
                if phase != "pending":
                    return phase
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        return phase

    def _helper_image(self) -> str:
        if not self.settings.helper_image:
            raise errors.Unavailable(
                "volumes on the kubernetes runtime need a helper image to serve their files: restart the server "
                "with --kube-helper-image IMAGE (an image with porter-sandbox[server] installed)"
            )
        return self.settings.helper_image

    @staticmethod
    def _unavailable(message: str) -> errors.Unavailable:
        return errors.Unavailable(f"{message}; retry later", headers={"Retry-After": "5"})

    # The file agent

    async def _agent(self, volume_id: str, operation: list[str], *, ready_timeout: float | None = None) -> _Agent:
        """Start the file agent in the volume's helper pod (waiting for the helper when it is not running yet)."""
        client = await self._client()
        if volume_id not in self._ready:
            phase = await self._wait_ready(client, volume_id, ready_timeout or self.settings.ready_timeout)
            if phase != "ready":
                raise self._unavailable(
                    f"the volume {volume_id} is {phase}: its claim is not bound or its helper pod does not run"
                )
        try:
            session = await start_exec(
                client, object_name(volume_id), HELPER_CONTAINER, [*AGENT, *operation], stdin=True
            )
        except KubeUnreachable as error:
            raise self._unavailable(str(error)) from error
        except KubeError as error:
            self._ready.discard(volume_id)  # the helper went away; the next call waits for it again
            raise self._unavailable(f"the volume's helper pod cannot be reached: {error.message}") from error
        return _Agent(session)

    async def _call(self, volume_id: str, operation: list[str]) -> dict[str, Any]:
        agent = await self._agent(volume_id, operation)
        try:
            return await agent.header()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise self._unavailable(f"the connection to the volume's helper broke: {error}") from error
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await agent.close()

    async def list_files(self, volume_id: str, path: str, search: str | None) -> Listing:
        """The nested tree under ``path``, listed by the agent with the host backend's rules."""
        split_path(path)  # a 400 before any exec
        answer = await self._call(volume_id, ["list", path, search or ""])
        return Listing(
            path=str(answer["path"]),
            entries=[_entry(item) for item in answer.get("entries") or []],
            truncated=bool(answer.get("truncated")),
        )

    async def open_file(self, volume_id: str, path: str) -> ClaimFileReader:
        """Open the file at ``path`` in the agent; reads go over the same exec."""
        split_path(path)
        agent = await self._agent(volume_id, ["read", path])
        try:
            answer = await agent.header()
        except BaseException:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await agent.close()
            raise
        return ClaimFileReader(agent, int(answer["size"]), float(answer["mtime"]))

    async def begin_write(self, volume_id: str, path: str) -> ClaimFileWriter:
        """Start an atomic upload to ``path`` (the agent checks the path before any byte is sent)."""
        split_path(path)
        agent = await self._agent(volume_id, ["write", path])
        try:
            await agent.header()
        except BaseException:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await agent.close()
            raise
        return ClaimFileWriter(agent, path)

    async def move(self, volume_id: str, source: str, destination: str) -> None:
        """Move ``source`` to ``destination`` inside the volume; never overwrites."""
        split_path(source)
        split_path(destination)
        await self._call(volume_id, ["move", source, destination])

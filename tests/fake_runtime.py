"""A runtime that runs nothing, for what a real runtime cannot produce on demand, and a clock tests move by hand.

Real runtimes are tested for real (``tests/conformance``, the server and
end-to-end suites). This one exists for the service's rules around faults
that cannot be caused at will: a launch held half-way, a backend that is
down, a sandbox that outlives its server, a TTL that runs out while the
server is down. Its volumes are real directories (``HostDirVolumes``).

    runtime = FakeRuntime(tmp_path)
    service, client = await serve(tmp_path, runtime)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from porter_sandbox_server.core.service import SandboxService
from porter_sandbox_server.http.app import create_app
from porter_sandbox_server.runtimes.base import (
    Capabilities,
    ExecOutput,
    LaunchFailed,
    LaunchSpec,
    Placement,
    Runtime,
    RuntimeEvents,
    SandboxExit,
    SandboxGone,
)
from porter_sandbox_server.volumes.hostdir import HostDirVolumes


class FakeRuntime(Runtime):
    """Pretends to run sandboxes. Knobs: ``down``, ``gate``, ``fail_images``, ``adopts``, ``placement``.

    - ``down``: a reason readiness answers (the backend is unreachable); nothing may launch then.
    - ``gate``: each launch waits until it is set (set from the start unless ``held``).
    - ``fail_images``: images whose launch fails (after the gate).
    - ``adopts``: at start-up, take back every sandbox the store says is live (a backend whose
      sandboxes outlive the server).
    - ``placement``: what each launch answers.

    An exec answers its command, joined by spaces, on stdout (and logs it); ``end`` reports a
    sandbox's end as a real runtime would.
    """

    name = "fake"

    def __init__(
        self,
        data_dir: Path,
        *,
        down: str | None = None,
        held: bool = False,
        fail_images: Sequence[str] = (),
        adopts: bool = False,
        placement: Placement | None = None,
    ) -> None:
        self.volumes = HostDirVolumes(data_dir / "volumes")
        self.capabilities = Capabilities(outlives_server=adopts)
        self.down = down
        self.gate = asyncio.Event()
        if not held:
            self.gate.set()
        self.launching = asyncio.Event()
        self.fail_images = set(fail_images)
        self.adopts = adopts
        self.placement = placement or Placement()
        self.running: set[str] = set()
        self.events: RuntimeEvents | None = None

    async def open(self, events: RuntimeEvents) -> None:
        self.events = events

    async def readiness(self) -> str | None:
        return self.down

    async def launch(self, spec: LaunchSpec) -> Placement:
        assert self.down is None, "nothing may launch while the runtime is down"
        self.launching.set()
        await self.gate.wait()
        if spec.image in self.fail_images:
            raise LaunchFailed(f"image {spec.image!r} has no such entrypoint")
        self.running.add(spec.sandbox_id)
        return self.placement

    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        if sandbox_id not in self.running:
            raise SandboxGone(f"sandbox {sandbox_id} is not running")
        assert self.events is not None
        self.events.log(sandbox_id, exec_id, "stdout", " ".join(command))
        return ExecOutput(" ".join(command) + "\n", "", 0)

    def end(self, sandbox_id: str, end: SandboxExit) -> None:
        """Report that a sandbox ended by itself."""
        self.running.discard(sandbox_id)
        assert self.events is not None
        self.events.exited(sandbox_id, end)

    async def stop(self, sandbox_id: str) -> None:
        self.running.discard(sandbox_id)

    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        self.running = {spec.sandbox_id for spec in live} if self.adopts else set()
        return set(self.running)

    async def close(self, stop_sandboxes: bool) -> None:
        if stop_sandboxes:
            self.running.clear()


class ManualClock:
    """The service's clock, moved only by ``advance``: timers fire then, in deadline order."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(callback)
        heapq.heappush(self._timers, (self.now + max(delay, 0.0), next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, firing every timer that falls due (also those armed meanwhile)."""
        target = self.now + seconds
        while self._timers and self._timers[0][0] <= target:
            due, _, timer = heapq.heappop(self._timers)
            self.now = max(self.now, due)
            timer.fire()
        self.now = target


class _Timer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self._callback = None

    def fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()


async def serve(
    data_dir: Path, runtime: Runtime, clock: ManualClock | None = None
) -> tuple[SandboxService, httpx.AsyncClient]:
    """A started service over ``runtime``, and an httpx client calling its app in-process."""
    service = SandboxService(data_dir, runtime, clock=clock)
    await service.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(service)), base_url="http://127.0.0.1")
    return service, client

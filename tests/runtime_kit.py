"""One opened runtime under test (``Kit``), for the conformance suite and any test that drives a runtime directly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime_events import Recorder

from porter_sandbox_server.runtimes.base import LaunchSpec, Runtime, VolumeMount


def build_runtime(kind: str, data_dir: Path) -> Runtime:
    """A runtime of ``kind`` keeping its data in ``data_dir`` (not opened)."""
    if kind in ("docker", "docker-pool"):
        from porter_sandbox_server.runtimes.docker import DockerRuntime

        return DockerRuntime(data_dir, network="none", pool_size=2 if kind == "docker-pool" else 0)
    if kind == "kubernetes":
        from runtimes import KUBE_HELPER_IMAGE, KUBE_HOST_PATH_DIR, KUBE_NAMESPACE

        from porter_sandbox_server.runtimes.kubernetes import KubernetesRuntime
        from porter_sandbox_server.volumes.claims.objects import ClaimSettings

        claims = ClaimSettings(host_path_dir=KUBE_HOST_PATH_DIR, helper_image=KUBE_HELPER_IMAGE)
        return KubernetesRuntime(data_dir, namespace=KUBE_NAMESPACE, image_pull_policy="Never", claims=claims)
    from porter_sandbox_server.runtimes.process import ProcessRuntime
    from porter_sandbox_server.runtimes.process.pool import PoolSettings

    if kind == "process-pool":
        return ProcessRuntime(data_dir, "bwrap", pool=PoolSettings(size=2))
    return ProcessRuntime(data_dir, "bwrap")


@dataclass
class Kit:
    """One opened runtime under test, with what it reported."""

    kind: str
    runtime: Runtime
    events: Recorder
    data_dir: Path
    image: str
    run_tag: dict[str, str]

    def spec(self, command: Sequence[str] | None = None, **fields: Any) -> LaunchSpec:
        """A launch spec for this runtime's test image; ``fields`` override the defaults."""
        sandbox_id = fields.pop("sandbox_id", f"sb-{uuid.uuid4().hex[:12]}")
        values: dict[str, Any] = {
            "sandbox_id": sandbox_id,
            "name": f"c-{sandbox_id}",
            "image": self.image,
            "command": command,
            "args": None,
            "env": {},
            "tags": dict(self.run_tag),
        }
        values.update(fields)
        return LaunchSpec(**values)

    async def launch(self, command: Sequence[str] | None = None, **fields: Any) -> str:
        """Launch a sandbox; answer its id."""
        spec = self.spec(command, **fields)
        await self.runtime.launch(spec)
        return spec.sandbox_id

    async def sh(self, sandbox_id: str, script: str, env: dict[str, str] | None = None) -> tuple[str, str, int]:
        """Run a shell script in the sandbox: ``(stdout, stderr, exit code)``."""
        output = await self.runtime.exec(sandbox_id, ["sh", "-c", script], f"ex-{uuid.uuid4().hex[:8]}", env or {})
        return output.stdout, output.stderr, output.exit_code

    async def volume(self) -> str:
        """A new, empty volume in the runtime's backend; answer its id."""
        volume_id = f"vol-{uuid.uuid4().hex[:12]}"
        assert await self.runtime.volumes.create(volume_id) == "ready"
        return volume_id

    @staticmethod
    def mount(path: str, volume_id: str) -> tuple[VolumeMount, ...]:
        """One volume mount, as ``LaunchSpec.mounts`` takes it."""
        return (VolumeMount(path, volume_id),)

    async def reopen(self) -> Kit:
        """A new runtime of the same kind on the same data (as a restarted server has); the old one is not stopped."""
        runtime = build_runtime(self.kind, self.data_dir)
        events = Recorder()
        await runtime.volumes.open()
        await runtime.open(events)
        return Kit(self.kind, runtime, events, self.data_dir, self.image, self.run_tag)

"""Per-sandbox cgroups: memory, CPU and process limits, usage counters, freezing, and out-of-memory kills.

Each sandbox gets child cgroups of the server's own when the host lets us
create them (cgroup v1, or v2 with the controllers delegated): memory
(``memory.limit_in_bytes`` / ``memory.max``; the kernel kills a process over
it), CPU as a CFS quota, and a cap on processes (``pids.max``). Every sandbox
also gets a memory and a CPU-accounting cgroup (limited or not), whose
counters its metrics are sampled from, and a freezer, which holds it still
while a snapshot copies its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..base import LaunchFailed
from ..cgroup_usage import CgroupUsage

logger = logging.getLogger(__name__)


@dataclass
class Cgroups:
    """Where this server may create child cgroups for its sandboxes."""

    version: int  # 1 or 2
    memory: Path | None
    cpu: Path | None
    pids: Path | None = None
    #: Where CPU time is counted: cgroup v1's ``cpuacct`` (often the same directory as ``cpu``); v2's own.
    cpuacct: Path | None = None
    freezer: Path | None = None

    @classmethod
    def discover(cls) -> Cgroups | None:
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
            cpuacct = _usable_dir(base / "cpuacct", v1.get("cpuacct")) or _usable_dir(
                base / "cpu,cpuacct", v1.get("cpuacct")
            )
            freezer = _usable_dir(base / "freezer", v1.get("freezer"))
            if memory or cpu or pids or cpuacct or freezer:
                return cls(1, memory, cpu, pids, cpuacct, freezer)
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

            # cpu.stat and cgroup.freeze are in every v2 cgroup, whatever its controllers.
            return cls(2, usable("memory"), usable("cpu"), usable("pids"), own, own)
        return None

    def remove_stale(self) -> None:
        """Remove the cgroups left by servers that died (their pid is gone), ending what is left in them.

        A server that died while a snapshot held its sandbox frozen leaves
        processes that cannot die of their SIGKILL until they are thawed.
        """
        for parent in {self.memory, self.cpu, self.pids, self.cpuacct, self.freezer} - {None}:
            assert parent is not None
            for child in parent.glob("porter-sandbox-*"):
                owner = child.name.split("-")[2]
                if owner.isdigit() and not Path("/proc", owner).exists():
                    stale = SandboxCgroup(self.version, [child], None, freezer_dir=child)
                    stale.kill_all()
                    stale.thaw()
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


def cgroup_name(sandbox_id: str) -> str:
    """The name of a sandbox's cgroup in each hierarchy (``remove_stale`` knows this server's by the pid)."""
    return f"porter-sandbox-{os.getpid()}-{re.sub(r'[^A-Za-z0-9_.-]', '_', sandbox_id)}"


@dataclass
class SandboxCgroup:
    """The cgroup directories of one sandbox."""

    version: int
    dirs: list[Path]
    #: Its memory cgroup when it has a memory limit (where out-of-memory kills are counted).
    memory_dir: Path | None
    #: Where its memory use and CPU time are read, and where it is frozen.
    memory_usage_dir: Path | None = None
    cpuacct_dir: Path | None = None
    freezer_dir: Path | None = None

    @classmethod
    def create(
        cls, cgroups: Cgroups, sandbox_id: str, memory_bytes: int | None, cpu_millis: int | None, pids_max: int
    ) -> SandboxCgroup:
        """Make the sandbox's cgroups and set its limits."""
        name = cgroup_name(sandbox_id)
        dirs: list[Path] = []
        memory_dir: Path | None = None
        made = cls(cgroups.version, dirs, None)

        def make(parent: Path) -> Path:
            directory = parent / name
            if directory not in dirs:
                directory.mkdir(exist_ok=True)
                dirs.append(directory)
            return directory

        try:
            if cgroups.memory is not None:
                # Always: its memory use is sampled from here, limited or not.
                made.memory_usage_dir = make(cgroups.memory)
            if memory_bytes is not None and made.memory_usage_dir is not None:
                memory_dir = made.memory_dir = made.memory_usage_dir
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
                cpu_dir = make(cgroups.cpu)
                period = 100_000
                quota = max(1_000, cpu_millis * period // 1000)
                if cgroups.version == 1:
                    (cpu_dir / "cpu.cfs_period_us").write_text(str(period))
                    (cpu_dir / "cpu.cfs_quota_us").write_text(str(quota))
                else:
                    (cpu_dir / "cpu.max").write_text(f"{quota} {period}")
            if cgroups.pids is not None:
                (make(cgroups.pids) / "pids.max").write_text(str(pids_max))
            if cgroups.cpuacct is not None:
                made.cpuacct_dir = make(cgroups.cpuacct)
            if cgroups.freezer is not None:
                made.freezer_dir = make(cgroups.freezer)
        except OSError as error:
            made.remove_now()
            raise LaunchFailed(f"could not set the sandbox's resource limits: {error}") from error
        return made

    def rename(self, sandbox_id: str) -> None:
        """Give the cgroups the name of ``sandbox_id`` (cgroup v1 only: v2 refuses renames).

        For a pre-started sandbox handed to a launch: its processes stay where
        they are, and ``/proc/self/cgroup`` inside names the new sandbox.
        """
        name = cgroup_name(sandbox_id)
        for index, directory in enumerate(self.dirs):
            target = directory.with_name(name)
            directory.rename(target)
            self.dirs[index] = target
            for attribute in ("memory_dir", "memory_usage_dir", "cpuacct_dir", "freezer_dir"):
                if getattr(self, attribute) == directory:
                    setattr(self, attribute, target)

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

    def usage(self) -> tuple[float, int] | None:
        """CPU seconds used since the cgroups were made, and memory in use now (page cache included).

        ``None`` when either cannot be read here.
        """
        if self.cpuacct_dir is None or self.memory_usage_dir is None:
            return None
        return CgroupUsage(self.version, self.cpuacct_dir, self.memory_usage_dir).read()

    def freeze(self, timeout: float = 5.0) -> bool:
        """Stop every process of the sandbox where it stands; True once all are frozen.

        Blocks (call it in a thread). False, with the sandbox thawed again, when
        there is no freezer or it did not settle within ``timeout``.
        """
        directory = self.freezer_dir
        if directory is None:
            return False
        try:
            if self.version == 1:
                (directory / "freezer.state").write_text("FROZEN")
            else:
                (directory / "cgroup.freeze").write_text("1")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.version == 1:
                    frozen = (directory / "freezer.state").read_text().strip() == "FROZEN"
                else:
                    frozen = (
                        re.search(r"^frozen 1$", (directory / "cgroup.events").read_text(), re.MULTILINE) is not None
                    )
                if frozen:
                    return True
                time.sleep(0.001)
        except OSError:
            pass
        self.thaw()
        return False

    def thaw(self) -> None:
        """Let the sandbox's processes run again (a no-op when they are not frozen or are gone)."""
        if self.freezer_dir is None:
            return
        state, wanted = ("freezer.state", "THAWED") if self.version == 1 else ("cgroup.freeze", "0")
        with contextlib.suppress(OSError):
            (self.freezer_dir / state).write_text(wanted)

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

"""Reading what a group of processes used: a cgroup's CPU time and memory, a network namespace's bytes.

Both runtimes sample sandboxes from these files (a few reads per sandbox,
far cheaper than asking the Docker engine, whose stats wait for its own
once-a-second collection): the process runtime from the cgroups it made, the
Docker runtime from a container's cgroups, found through its main process
when the engine runs on this host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CgroupUsage:
    """Where one cgroup's CPU time and memory use are read."""

    version: int
    #: v1: its ``cpuacct`` directory; v2: the cgroup's directory.
    cpu_dir: Path
    #: v1: its ``memory`` directory; v2: the cgroup's directory.
    memory_dir: Path

    def read(self) -> tuple[float, int] | None:
        """CPU seconds used since the cgroup was made, and memory in use now (page cache included); ``None`` when gone."""
        try:
            if self.version == 1:
                cpu_seconds = int((self.cpu_dir / "cpuacct.usage").read_text()) / 1e9
                memory = int((self.memory_dir / "memory.usage_in_bytes").read_text())
            else:
                match = re.search(r"^usage_usec (\d+)$", (self.cpu_dir / "cpu.stat").read_text(), re.MULTILINE)
                if match is None:
                    return None
                cpu_seconds = int(match.group(1)) / 1e6
                memory = int((self.memory_dir / "memory.current").read_text())
        except (OSError, ValueError):
            return None
        return cpu_seconds, memory

    @classmethod
    def of_process(cls, pid: int, must_contain: str) -> CgroupUsage | None:
        """The cgroups process ``pid`` is in, if their paths hold ``must_contain`` (a container's id) and can be read."""
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            return None
        v1: dict[str, Path] = {}
        for line in lines:
            _id, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            if must_contain not in path:
                continue
            if controllers == "":
                unified = CGROUP_ROOT / path.lstrip("/")
                if (unified / "cpu.stat").exists() and (unified / "memory.current").exists():
                    return cls(2, unified, unified)
                continue
            for controller in controllers.split(","):
                for mount in (CGROUP_ROOT / controllers, CGROUP_ROOT / controller):
                    if (mount / path.lstrip("/")).is_dir():
                        v1[controller] = mount / path.lstrip("/")
                        break
        if "cpuacct" in v1 and "memory" in v1:
            found = cls(1, v1["cpuacct"], v1["memory"])
            return found if found.read() is not None else None
        return None


def network_bytes(pid: int) -> tuple[int, int] | None:
    """Bytes received and sent on every interface but loopback of process ``pid``'s network; ``None`` without one."""
    try:
        lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    except OSError:
        return None
    rx = tx = 0
    found = False
    for line in lines:
        name, _, counters = line.partition(":")
        if name.strip() == "lo":
            continue
        fields = counters.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
            found = True
    return (rx, tx) if found else None

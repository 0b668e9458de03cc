"""Host-wide numbers the process runtime sizes its limits from, and the process budget bwrap starts under."""

from __future__ import annotations

import contextlib
import functools
import resource
from collections.abc import Iterator
from pathlib import Path


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def default_total_pids() -> int:
    """Half of the processes the host's kernel allows (``kernel.pid_max``, ``kernel.threads-max``).

    The other half stays for the host: however many sandboxes fork at once, the server, its shell
    and its sshd can still start processes.
    """
    limits = [
        value for value in (_read_int("/proc/sys/kernel/pid_max"), _read_int("/proc/sys/kernel/threads-max")) if value
    ]
    return max(min(limits, default=32768) // 2, 64)


@functools.lru_cache(maxsize=1)
def host_memory_bytes() -> int:
    """The host's memory (``MemTotal``), for sizing a sandbox that has no memory limit."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 30


@contextlib.contextmanager
def process_limit_for_children(count: int) -> Iterator[None]:
    """Start children under a soft ``RLIMIT_NPROC`` of ``count``: they inherit it, this process keeps its own.

    A user namespace keeps the ``RLIMIT_NPROC`` of the process that made it as the limit on the
    processes of that process's uid, counted across the host: bwrap started under it makes the
    sandbox's namespace with it, and no process inside can raise it. Only the soft limit is
    lowered, for the moment of one ``vfork`` and ``exec``, so it can be restored.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft <= wanted:
        yield
        return
    resource.setrlimit(resource.RLIMIT_NPROC, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NPROC, (soft, hard))

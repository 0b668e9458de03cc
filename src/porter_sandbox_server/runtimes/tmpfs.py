"""How large a sandbox's memory-backed directories may grow: one rule for every runtime.

``/dev/shm`` is one on every runtime; ``/tmp`` is one only under a Docker
container's read-only root (elsewhere it is on disk, in the scratch space or
the container's writable layer).
"""

from __future__ import annotations

#: The smallest size either gets, however small the memory limit.
MIN_TMPFS_BYTES = 1 << 20


def tmpfs_sizes(memory_bytes: int) -> tuple[int, int]:
    """The sizes of ``/tmp`` and ``/dev/shm`` for a sandbox whose memory is bounded by ``memory_bytes``.

    A tmpfs holds its files in memory charged to the sandbox, where no kill can free them: were it
    allowed to fill the limit, the kernel would kill process after process, PID 1 at last. Half and
    a quarter of the limit leave a quarter for processes, so filling both fails with ENOSPC inside
    and the sandbox lives on.
    """
    return max(memory_bytes // 2, MIN_TMPFS_BYTES), max(memory_bytes // 4, MIN_TMPFS_BYTES)

"""The limits every sandbox gets unless it asks for its own: ``serve --default-memory`` and ``--max-pids``."""

from __future__ import annotations

from dataclasses import dataclass

#: A sandbox that names no ``resources.memory`` gets this much.
DEFAULT_MEMORY_BYTES = 1 << 30
#: At most this many processes (and threads) at once in one sandbox.
DEFAULT_MAX_PIDS = 1024


@dataclass(frozen=True)
class SandboxLimits:
    """What the service puts in each sandbox's launch spec when its request says nothing."""

    #: Memory of a sandbox without ``resources.memory``; None: no limit.
    default_memory_bytes: int | None = DEFAULT_MEMORY_BYTES
    #: Processes (and threads) of each sandbox at once.
    max_pids: int = DEFAULT_MAX_PIDS

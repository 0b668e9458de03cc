"""The records the server keeps: sandboxes, volumes, log lines, and the filters that select sandboxes."""

from __future__ import annotations

from dataclasses import dataclass, field

TERMINAL_PHASES = ("succeeded", "failed", "terminated")

#: A log line as stored: (sandbox_id, timestamp, line, level, exec_id).
LogRow = tuple[str, float, str, str, str]


@dataclass(frozen=True)
class LogPage:
    """Some of a sandbox's log lines, oldest first, as ``(timestamp, line, level, exec_id)``."""

    rows: list[tuple[float, str, str, str]]
    #: Whether lines that match were left out to keep the page bounded.
    truncated: bool


@dataclass(frozen=True)
class LogUsage:
    """What one sandbox's log holds."""

    lines: int
    #: Bytes of line text (UTF-8).
    bytes: int
    #: The newest line's time; ``None`` for an empty log.
    newest: float | None


@dataclass
class SandboxRecord:
    """One sandbox as the store keeps it; times are seconds since the epoch."""

    id: str
    name: str
    image: str
    tags: dict[str, str]
    command: list[str] | None
    args: list[str] | None
    env: dict[str, str]
    volume_mounts: dict[str, str]
    memory_bytes: int | None
    cpu_millis: int | None
    ttl_seconds: int | None
    phase: str
    created_at: float
    exit_code: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    termination_reason: str | None = None
    ttl_deadline: float | None = None
    #: What the runtime assigned at launch: the public hostname ("" when nothing is exposed).
    host: str = ""
    internal_address: str | None = None

    @property
    def terminal(self) -> bool:
        """Whether the sandbox reached a terminal phase."""
        return self.phase in TERMINAL_PHASES


@dataclass
class VolumeRecord:
    """One existing volume."""

    id: str
    name: str
    created_at: float


@dataclass
class SandboxFilter:
    """The list and counts filters; ``None`` or empty means no filter."""

    search: str | None = None
    #: ``(key, value)`` pairs that must all match; a ``None`` value matches any value of the key.
    tags: list[tuple[str, str | None]] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    image: str | None = None
    start: float | None = None
    end: float | None = None

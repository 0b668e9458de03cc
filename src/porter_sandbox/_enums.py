"""The API's enumerations, under the names Porter's published client gives them: ``str`` enums.

Each member is a ``str`` equal to its value, so ``sandbox.phase == "running"``
and ``"running" in TERMINAL_PHASES`` hold, ``str()``, f-strings and JSON give
the bare value, and code written for the published client keeps reading
``sandbox.phase.value``.

A value this client does not know yet in a server's answer (a newer server's
phase, say) is kept, never refused: :func:`member` answers a member outside
the listed ones whose ``value`` is, say, ``"paused"``. What the caller passes
is checked strictly instead (the enum itself, :func:`check_member`), so a typo
fails before anything is sent.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

__all__ = [
    "FilterValuesResponsePhases",
    "LogLineLevel",
    "SandboxDomainSpecVisibility",
    "SandboxMetric",
    "SandboxesPhase",
    "SandboxesSource",
    "SnapshotMode",
    "SnapshotStatus",
    "StatusResponsePhase",
    "StatusResponseTerminationReason",
    "VolumeFileEntryType",
    "VolumeObjectSpecAccess",
    "VolumeObjectSpecMode",
    "VolumePhase",
    "VolumeSpecType",
    "VolumeType",
    "check_member",
    "member",
]

E = TypeVar("E", bound="ApiEnum")


class ApiEnum(str, Enum):
    """A ``str`` enum of the API that keeps values it does not list."""

    def __str__(self) -> str:
        return str(self.value)

    def __hash__(self) -> int:
        # Equal to its value, so it must hash as its value does (in sets and dict keys of plain strings).
        return str.__hash__(self)

    @classmethod
    def _unknown(cls: type[E], value: str) -> E:
        """A member for a value this client does not list (not registered: each call answers a new one)."""
        unknown = str.__new__(cls, value)
        unknown._name_ = value.upper()
        unknown._value_ = value
        return unknown

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The values this client knows, in the API's order."""
        return tuple(item.value for item in cls)


def member(kind: type[E], value: object) -> E:
    """A value of a server's answer (a string, a member of another enum) as a member of ``kind``; unknown ones kept."""
    if isinstance(value, kind):
        return value
    plain = str(value.value if isinstance(value, Enum) else value)
    try:
        return kind(plain)
    except ValueError:
        return kind._unknown(plain)


def check_member(kind: type[E], value: object, what: str) -> E:
    """What a caller passed, as a member of ``kind``: a member, or one of its values; ``ValueError`` otherwise."""
    if isinstance(value, kind):
        return value
    known = kind.values()
    plain = value.value if isinstance(value, Enum) else value
    if not isinstance(plain, str) or plain not in known:
        raise ValueError(f"{what} must be one of {', '.join(repr(v) for v in known)}, not {value!r}")
    return kind(plain)


class StatusResponsePhase(ApiEnum):
    """A sandbox's phase: ``queued`` -> ``creating`` -> ``running`` -> ``succeeded``, ``failed`` or ``terminated``."""

    QUEUED = "queued"
    CREATING = "creating"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TERMINATED = "terminated"


class SandboxesPhase(ApiEnum):
    """A phase to filter ``sandboxes.list()`` by (the same values as :class:`StatusResponsePhase`)."""

    QUEUED = "queued"
    CREATING = "creating"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TERMINATED = "terminated"


class FilterValuesResponsePhases(ApiEnum):
    """A phase among a listing's filter values (the same values as :class:`StatusResponsePhase`)."""

    QUEUED = "queued"
    CREATING = "creating"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TERMINATED = "terminated"


class StatusResponseTerminationReason(ApiEnum):
    """Why a sandbox ended."""

    DASHBOARD = "dashboard"
    CLI = "cli"
    SDK = "sdk"
    TTL_EXPIRED = "ttl_expired"
    WORKLOAD_EXITED = "workload_exited"
    BACKEND_LOST = "backend_lost"
    LAUNCH_FAILED = "launch_failed"
    USER_TERMINATED = "user_terminated"


class SandboxesSource(ApiEnum):
    """Who terminated a sandbox, when not the SDK: the ``source`` of a terminate request."""

    DASHBOARD = "dashboard"
    CLI = "cli"


class LogLineLevel(ApiEnum):
    """A log line's level: ``info`` for standard output, ``error`` for standard error."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class SandboxMetric(ApiEnum):
    """A metric of ``sandbox.metrics()``."""

    CPU_USAGE = "cpu_usage"
    CPU_RESERVED = "cpu_reserved"
    MEMORY_USAGE = "memory_usage"
    MEMORY_RESERVED = "memory_reserved"
    NETWORK_RX = "network_rx"
    NETWORK_TX = "network_tx"


class SnapshotMode(ApiEnum):
    """What a snapshot captures: ``filesystem`` (the sandbox's writable files) or ``full`` (its memory too)."""

    FILESYSTEM = "filesystem"
    FULL = "full"


class SnapshotStatus(ApiEnum):
    """Where a snapshot's capture is: ``pending``, then ``ready`` or ``failed``."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class SandboxDomainSpecVisibility(ApiEnum):
    """Which ingress serves a sandbox's domain."""

    PUBLIC = "public"
    PRIVATE = "private"


class VolumeType(ApiEnum):
    """What backs a volume: ``disk`` (a directory of files) or ``object`` (a bucket)."""

    DISK = "disk"
    OBJECT = "object"


class VolumeSpecType(ApiEnum):
    """The kind of volume to create (the same values as :class:`VolumeType`)."""

    DISK = "disk"
    OBJECT = "object"


class VolumePhase(ApiEnum):
    """A volume's phase: ``pending``, ``ready`` or ``failed``."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class VolumeFileEntryType(ApiEnum):
    """What an entry of a volume is: a ``file`` or a ``directory``."""

    FILE = "file"
    DIRECTORY = "directory"


class VolumeObjectSpecAccess(ApiEnum):
    """How sandboxes may use an object volume's bucket."""

    READ_WRITE = "read_write"
    READ_ONLY = "read_only"
    WRITE_ONLY_NEW_FILES = "write_only_new_files"


class VolumeObjectSpecMode(ApiEnum):
    """How sandboxes mount an object volume's bucket: as objects, or as a file system."""

    OBJECT = "object"
    FILESYSTEM = "filesystem"

"""Python SDK for the Porter Sandbox API.

::

    from porter_sandbox import Porter

    with Porter() as porter:
        sandbox = porter.sandboxes.create(image="python:3.12-slim")
        print(sandbox.exec(["python", "-c", "print('hi')"]).stdout)
        sandbox.terminate()

``AsyncPorter`` is the same surface, awaitable. Every error is a
``SandboxError``; ``help(porter_sandbox.SandboxError)`` draws the tree of
them. The local server (``porter-sandbox serve``) and the test kit
(``porter_sandbox.testing``, and its pytest fixtures) come with the
``server`` extra.
"""

from ._client import AsyncPorter, Porter
from ._config import NOT_GIVEN, NotGiven
from ._enums import (
    FilterValuesResponsePhases,
    LogLineLevel,
    SandboxDomainSpecVisibility,
    SandboxesPhase,
    SandboxesSource,
    SandboxMetric,
    SnapshotMode,
    SnapshotStatus,
    StatusResponsePhase,
    StatusResponseTerminationReason,
    VolumeFileEntryType,
    VolumeObjectSpecAccess,
    VolumeObjectSpecMode,
    VolumePhase,
    VolumeSpecType,
    VolumeType,
)
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CommandError,
    CommandTimeoutError,
    ConfigurationError,
    ConflictError,
    InvalidNameError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteNotFoundError,
    SandboxEndedError,
    SandboxError,
    SandboxTimeoutError,
    ServerError,
    SnapshotFailedError,
    UnsupportedByServerError,
)
from ._exec_stream import AsyncExecStream, ExecStream
from ._health import AsyncHealthz, AsyncReadyz, Healthz, Readyz
from ._log_stream import AsyncLogStream, LogStream
from ._metrics import (
    MetricSummaryResponse,
    SandboxMetricsPoint,
    SandboxMetricsResponse,
    SandboxMetricsResult,
    SandboxMetricsSeries,
)
from ._models import (
    CountPoint,
    ExecEvent,
    ExecResponse,
    ExecResult,
    ExecTarget,
    FilterValuesResponse,
    Health,
    HealthResponse,
    LogLine,
    ProcessOutput,
    Readiness,
    ReadinessResponse,
    SandboxCounts,
    SandboxPage,
    VolumeFile,
)
from ._processes import AsyncProcess, Process
from ._raw import BoundOperations
from ._sandboxes import TERMINAL_PHASES, AsyncSandbox, AsyncSandboxes, Sandbox, Sandboxes, SandboxPhase, WaitPhase
from ._snapshots import AsyncSnapshot, AsyncSnapshots, Snapshot, SnapshotListResponse, Snapshots
from ._specs import (
    SandboxDomainSpec,
    SandboxEgressSpec,
    SandboxNetworkingSpec,
    SandboxResourcesSpec,
    SnapshotSpec,
    VolumeObjectSpec,
)
from ._version import __version__
from ._volumes import AsyncObjectVolume, AsyncVolume, AsyncVolumes, ObjectVolume, Volume, Volumes

__all__ = [
    "NOT_GIVEN",
    "TERMINAL_PHASES",
    "APIConnectionError",
    "APIStatusError",
    "AsyncExecStream",
    "AsyncHealthz",
    "AsyncLogStream",
    "AsyncObjectVolume",
    "AsyncPorter",
    "AsyncProcess",
    "AsyncReadyz",
    "AsyncSandbox",
    "AsyncSandboxes",
    "AsyncSnapshot",
    "AsyncSnapshots",
    "AsyncVolume",
    "AsyncVolumes",
    "AuthenticationError",
    "BadRequestError",
    "BoundOperations",
    "CommandError",
    "CommandTimeoutError",
    "ConfigurationError",
    "ConflictError",
    "CountPoint",
    "ExecEvent",
    "ExecResponse",
    "ExecResult",
    "ExecStream",
    "ExecTarget",
    "FilterValuesResponse",
    "FilterValuesResponsePhases",
    "Health",
    "HealthResponse",
    "Healthz",
    "InvalidNameError",
    "LogLine",
    "LogLineLevel",
    "LogStream",
    "MetricSummaryResponse",
    "NotFoundError",
    "NotGiven",
    "ObjectVolume",
    "PermissionDeniedError",
    "Porter",
    "Process",
    "ProcessOutput",
    "RateLimitError",
    "Readiness",
    "ReadinessResponse",
    "Readyz",
    "RouteNotFoundError",
    "Sandbox",
    "SandboxCounts",
    "SandboxDomainSpec",
    "SandboxDomainSpecVisibility",
    "SandboxEgressSpec",
    "SandboxEndedError",
    "SandboxError",
    "SandboxMetric",
    "SandboxMetricsPoint",
    "SandboxMetricsResponse",
    "SandboxMetricsResult",
    "SandboxMetricsSeries",
    "SandboxNetworkingSpec",
    "SandboxPage",
    "SandboxPhase",
    "SandboxResourcesSpec",
    "SandboxTimeoutError",
    "Sandboxes",
    "SandboxesPhase",
    "SandboxesSource",
    "ServerError",
    "Snapshot",
    "SnapshotFailedError",
    "SnapshotListResponse",
    "SnapshotMode",
    "SnapshotSpec",
    "SnapshotStatus",
    "Snapshots",
    "StatusResponsePhase",
    "StatusResponseTerminationReason",
    "UnsupportedByServerError",
    "Volume",
    "VolumeFile",
    "VolumeFileEntryType",
    "VolumeObjectSpec",
    "VolumeObjectSpecAccess",
    "VolumeObjectSpecMode",
    "VolumePhase",
    "VolumeSpecType",
    "VolumeType",
    "Volumes",
    "WaitPhase",
    "__version__",
]

# Errors show in tracebacks as porter_sandbox.NotFoundError, not as the private module they live in.
# (Only errors: other classes keep their module, so typing.get_type_hints() can resolve their fields.)
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and issubclass(_value, Exception):
        _value.__module__ = __name__
del _name, _value

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

import importlib
from typing import TYPE_CHECKING

from . import _exceptions
from ._client import AsyncPorter, Porter
from ._config import NOT_GIVEN, NotGiven
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
from ._version import __version__

if TYPE_CHECKING:
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
    from ._volumes import AsyncObjectVolume, AsyncVolume, AsyncVolumes, ObjectVolume, Volume, Volumes

#: What the package exports beyond the client and its errors, and the module each comes from: imported on
#: first use (PEP 562), so that ``import porter_sandbox`` loads only what a client needs to start.
_LAZY: dict[str, str] = {
    "FilterValuesResponsePhases": "._enums",
    "LogLineLevel": "._enums",
    "SandboxDomainSpecVisibility": "._enums",
    "SandboxesPhase": "._enums",
    "SandboxesSource": "._enums",
    "SandboxMetric": "._enums",
    "SnapshotMode": "._enums",
    "SnapshotStatus": "._enums",
    "StatusResponsePhase": "._enums",
    "StatusResponseTerminationReason": "._enums",
    "VolumeFileEntryType": "._enums",
    "VolumeObjectSpecAccess": "._enums",
    "VolumeObjectSpecMode": "._enums",
    "VolumePhase": "._enums",
    "VolumeSpecType": "._enums",
    "VolumeType": "._enums",
    "AsyncExecStream": "._exec_stream",
    "ExecStream": "._exec_stream",
    "AsyncHealthz": "._health",
    "AsyncReadyz": "._health",
    "Healthz": "._health",
    "Readyz": "._health",
    "AsyncLogStream": "._log_stream",
    "LogStream": "._log_stream",
    "MetricSummaryResponse": "._metrics",
    "SandboxMetricsPoint": "._metrics",
    "SandboxMetricsResponse": "._metrics",
    "SandboxMetricsResult": "._metrics",
    "SandboxMetricsSeries": "._metrics",
    "CountPoint": "._models",
    "ExecEvent": "._models",
    "ExecResponse": "._models",
    "ExecResult": "._models",
    "ExecTarget": "._models",
    "FilterValuesResponse": "._models",
    "Health": "._models",
    "HealthResponse": "._models",
    "LogLine": "._models",
    "ProcessOutput": "._models",
    "Readiness": "._models",
    "ReadinessResponse": "._models",
    "SandboxCounts": "._models",
    "SandboxPage": "._models",
    "VolumeFile": "._models",
    "AsyncProcess": "._processes",
    "Process": "._processes",
    "BoundOperations": "._raw",
    "TERMINAL_PHASES": "._sandboxes",
    "AsyncSandbox": "._sandboxes",
    "AsyncSandboxes": "._sandboxes",
    "Sandbox": "._sandboxes",
    "Sandboxes": "._sandboxes",
    "SandboxPhase": "._sandboxes",
    "WaitPhase": "._sandboxes",
    "AsyncSnapshot": "._snapshots",
    "AsyncSnapshots": "._snapshots",
    "Snapshot": "._snapshots",
    "SnapshotListResponse": "._snapshots",
    "Snapshots": "._snapshots",
    "SandboxDomainSpec": "._specs",
    "SandboxEgressSpec": "._specs",
    "SandboxNetworkingSpec": "._specs",
    "SandboxResourcesSpec": "._specs",
    "SnapshotSpec": "._specs",
    "VolumeObjectSpec": "._specs",
    "AsyncObjectVolume": "._volumes",
    "AsyncVolume": "._volumes",
    "AsyncVolumes": "._volumes",
    "ObjectVolume": "._volumes",
    "Volume": "._volumes",
    "Volumes": "._volumes",
}

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


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# Errors show in tracebacks as porter_sandbox.NotFoundError, not as the private module they live in.
# (Only errors: other classes keep their module, so typing.get_type_hints() can resolve their fields.)
for _name in _exceptions.__all__:
    globals()[_name].__module__ = __name__
del _name

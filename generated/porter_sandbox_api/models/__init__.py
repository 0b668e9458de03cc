"""Contains all the data models used in inputs/outputs"""

from .capabilities import Capabilities
from .command_request import CommandRequest
from .command_request_output_encoding import CommandRequestOutputEncoding
from .command_result import CommandResult
from .command_result_output_encoding import CommandResultOutputEncoding
from .count_point import CountPoint
from .counts_response import CountsResponse
from .create_response import CreateResponse
from .create_volume_request import CreateVolumeRequest
from .error import Error
from .exec_request import ExecRequest
from .exec_response import ExecResponse
from .exec_stream_event import ExecStreamEvent
from .exec_stream_event_type import ExecStreamEventType
from .exec_target import ExecTarget
from .file_type import FileType
from .filter_values import FilterValues
from .health_response import HealthResponse
from .kill_request import KillRequest
from .kill_request_signal import KillRequestSignal
from .list_sandboxes_response import ListSandboxesResponse
from .list_volumes_response import ListVolumesResponse
from .log_entry import LogEntry
from .log_level import LogLevel
from .log_stream_event import LogStreamEvent
from .log_stream_event_type import LogStreamEventType
from .logs_response import LogsResponse
from .lookup_response import LookupResponse
from .metric_summary_response import MetricSummaryResponse
from .move_file_request import MoveFileRequest
from .output_slice import OutputSlice
from .pagination import Pagination
from .process_info import ProcessInfo
from .process_list import ProcessList
from .process_output import ProcessOutput
from .process_status import ProcessStatus
from .ready_response import ReadyResponse
from .resources import Resources
from .sandbox_domain_spec import SandboxDomainSpec
from .sandbox_domain_spec_visibility import SandboxDomainSpecVisibility
from .sandbox_egress_spec import SandboxEgressSpec
from .sandbox_metric import SandboxMetric
from .sandbox_metrics_point import SandboxMetricsPoint
from .sandbox_metrics_response import SandboxMetricsResponse
from .sandbox_metrics_result import SandboxMetricsResult
from .sandbox_metrics_series import SandboxMetricsSeries
from .sandbox_networking_spec import SandboxNetworkingSpec
from .sandbox_phase import SandboxPhase
from .sandbox_spec import SandboxSpec
from .snapshot import Snapshot
from .snapshot_list_response import SnapshotListResponse
from .snapshot_mode import SnapshotMode
from .snapshot_spec import SnapshotSpec
from .snapshot_status import SnapshotStatus
from .status_response import StatusResponse
from .string_map import StringMap
from .termination_reason import TerminationReason
from .termination_source import TerminationSource
from .volume import Volume
from .volume_file_entry import VolumeFileEntry
from .volume_files_response import VolumeFilesResponse
from .volume_object_spec import VolumeObjectSpec
from .volume_object_spec_access import VolumeObjectSpecAccess
from .volume_object_spec_mode import VolumeObjectSpecMode
from .volume_phase import VolumePhase
from .volume_type import VolumeType

__all__ = (
    "Capabilities",
    "CommandRequest",
    "CommandRequestOutputEncoding",
    "CommandResult",
    "CommandResultOutputEncoding",
    "CountPoint",
    "CountsResponse",
    "CreateResponse",
    "CreateVolumeRequest",
    "Error",
    "ExecRequest",
    "ExecResponse",
    "ExecStreamEvent",
    "ExecStreamEventType",
    "ExecTarget",
    "FileType",
    "FilterValues",
    "HealthResponse",
    "KillRequest",
    "KillRequestSignal",
    "ListSandboxesResponse",
    "ListVolumesResponse",
    "LogEntry",
    "LogLevel",
    "LogsResponse",
    "LogStreamEvent",
    "LogStreamEventType",
    "LookupResponse",
    "MetricSummaryResponse",
    "MoveFileRequest",
    "OutputSlice",
    "Pagination",
    "ProcessInfo",
    "ProcessList",
    "ProcessOutput",
    "ProcessStatus",
    "ReadyResponse",
    "Resources",
    "SandboxDomainSpec",
    "SandboxDomainSpecVisibility",
    "SandboxEgressSpec",
    "SandboxMetric",
    "SandboxMetricsPoint",
    "SandboxMetricsResponse",
    "SandboxMetricsResult",
    "SandboxMetricsSeries",
    "SandboxNetworkingSpec",
    "SandboxPhase",
    "SandboxSpec",
    "Snapshot",
    "SnapshotListResponse",
    "SnapshotMode",
    "SnapshotSpec",
    "SnapshotStatus",
    "StatusResponse",
    "StringMap",
    "TerminationReason",
    "TerminationSource",
    "Volume",
    "VolumeFileEntry",
    "VolumeFilesResponse",
    "VolumeObjectSpec",
    "VolumeObjectSpecAccess",
    "VolumeObjectSpecMode",
    "VolumePhase",
    "VolumeType",
)

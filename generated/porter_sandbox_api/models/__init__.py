"""Contains all the data models used in inputs/outputs"""

from .count_point import CountPoint
from .counts_response import CountsResponse
from .create_response import CreateResponse
from .create_volume_request import CreateVolumeRequest
from .error import Error
from .exec_request import ExecRequest
from .exec_response import ExecResponse
from .exec_target import ExecTarget
from .file_type import FileType
from .filter_values import FilterValues
from .health_response import HealthResponse
from .list_sandboxes_response import ListSandboxesResponse
from .list_volumes_response import ListVolumesResponse
from .log_entry import LogEntry
from .log_level import LogLevel
from .logs_response import LogsResponse
from .lookup_response import LookupResponse
from .move_file_request import MoveFileRequest
from .object_store import ObjectStore
from .pagination import Pagination
from .ready_response import ReadyResponse
from .resources import Resources
from .sandbox_phase import SandboxPhase
from .sandbox_spec import SandboxSpec
from .status_response import StatusResponse
from .string_map import StringMap
from .termination_reason import TerminationReason
from .termination_source import TerminationSource
from .volume import Volume
from .volume_file_entry import VolumeFileEntry
from .volume_files_response import VolumeFilesResponse
from .volume_phase import VolumePhase
from .volume_type import VolumeType

__all__ = (
    "CountPoint",
    "CountsResponse",
    "CreateResponse",
    "CreateVolumeRequest",
    "Error",
    "ExecRequest",
    "ExecResponse",
    "ExecTarget",
    "FileType",
    "FilterValues",
    "HealthResponse",
    "ListSandboxesResponse",
    "ListVolumesResponse",
    "LogEntry",
    "LogLevel",
    "LogsResponse",
    "LookupResponse",
    "MoveFileRequest",
    "ObjectStore",
    "Pagination",
    "ReadyResponse",
    "Resources",
    "SandboxPhase",
    "SandboxSpec",
    "StatusResponse",
    "StringMap",
    "TerminationReason",
    "TerminationSource",
    "Volume",
    "VolumeFileEntry",
    "VolumeFilesResponse",
    "VolumePhase",
    "VolumeType",
)

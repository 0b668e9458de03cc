"""The server's records, in SQLite: ``Store`` and the record types it reads and writes."""

from __future__ import annotations

from .metrics import MetricRow, MetricsTable
from .records import TERMINAL_PHASES, LogPage, LogRow, LogUsage, SandboxFilter, SandboxRecord, VolumeRecord
from .snapshots import SnapshotRecord, SnapshotTable
from .sqlite import NameTaken, Store, StoreFull

__all__ = [
    "TERMINAL_PHASES",
    "LogPage",
    "LogRow",
    "LogUsage",
    "MetricRow",
    "MetricsTable",
    "NameTaken",
    "SandboxFilter",
    "SandboxRecord",
    "SnapshotRecord",
    "SnapshotTable",
    "Store",
    "StoreFull",
    "VolumeRecord",
]

"""The server's records, in SQLite: ``Store`` and the record types it reads and writes."""

from __future__ import annotations

from .metrics import MetricRow, MetricsTable
from .records import TERMINAL_PHASES, LogRow, SandboxFilter, SandboxRecord, VolumeRecord
from .snapshots import SnapshotRecord, SnapshotTable
from .sqlite import NameTaken, Store

__all__ = [
    "TERMINAL_PHASES",
    "LogRow",
    "MetricRow",
    "MetricsTable",
    "NameTaken",
    "SandboxFilter",
    "SandboxRecord",
    "SnapshotRecord",
    "SnapshotTable",
    "Store",
    "VolumeRecord",
]

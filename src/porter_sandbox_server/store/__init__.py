"""The server's records, in SQLite: ``Store`` and the record types it reads and writes."""

from __future__ import annotations

from .records import TERMINAL_PHASES, LogRow, SandboxFilter, SandboxRecord, VolumeRecord
from .sqlite import NameTaken, Store

__all__ = ["TERMINAL_PHASES", "LogRow", "NameTaken", "SandboxFilter", "SandboxRecord", "Store", "VolumeRecord"]

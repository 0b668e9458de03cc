"""The host-directory volume backend: a directory per volume on this host, reached only by safe paths."""

from __future__ import annotations

from .backend import FileOwner, HostDirVolumes
from .listing import list_files
from .paths import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_SCANNED, TEMP_PREFIX, display_path, split_path
from .reading import OpenFile, open_file
from .writing import PendingWrite, begin_write, clear_staging, move, write_file

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_SCANNED",
    "TEMP_PREFIX",
    "FileOwner",
    "HostDirVolumes",
    "OpenFile",
    "PendingWrite",
    "begin_write",
    "clear_staging",
    "display_path",
    "list_files",
    "move",
    "open_file",
    "split_path",
    "write_file",
]

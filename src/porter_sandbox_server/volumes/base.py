"""The volume backend interface: where volumes live, and how their files are reached.

A backend creates and deletes a volume's storage, says its phase, and serves
the volume files API (list, read, write, move) on it. The service records
volumes and their attachments; the runtime mounts them into sandboxes from
the backend it names (``Runtime.volumes``). Two kinds exist or are planned:

- ``hostdir``: a directory per volume under the server's data directory,
  bind-mounted into sandboxes (the process and Docker runtimes);
- a cluster's PersistentVolumeClaims, reached through a helper pod (a
  Kubernetes runtime).

Every backend keeps the same path rules (see ``hostdir.paths``): paths are
relative to the volume root, ``..`` is refused, and nothing a sandbox planted
(a symbolic link, a fifo) leads outside the volume. Failures are raised as
``errors.ApiError`` whose message says what to do: these are the API's own
rules about paths, the same whatever stores the files.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

VolumePhase = str  # "pending" | "ready" | "failed"


@dataclass
class FileEntry:
    """A file or directory found by a listing; a directory carries what it holds."""

    name: str
    is_directory: bool
    size_bytes: int
    modified_at: datetime
    #: For a directory: whether some of its entries were left out.
    truncated: bool = False
    #: For a directory: what it holds, directories first then files, each by name.
    entries: list[FileEntry] = field(default_factory=list)

    def sort_key(self) -> tuple[bool, str]:
        """Directories first, then files, each by name."""
        return (not self.is_directory, self.name)


@dataclass
class Listing:
    """The nested tree under a directory of a volume."""

    #: The directory listed, from the volume root (``/`` for the root).
    path: str
    entries: list[FileEntry]
    #: Whether the walk stopped at its budget before the whole tree was listed.
    truncated: bool


class FileReader(Protocol):
    """A regular file of a volume, opened for reading."""

    @property
    def size(self) -> int:
        """Its size in bytes when it was opened."""

    @property
    def modified_at(self) -> float:
        """When it was last written, in seconds since the epoch."""

    async def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer only at the end of the file)."""

    async def close(self) -> None:
        """Free it; closing twice is harmless."""


class FileWriter(Protocol):
    """An upload in progress: nothing changes in the volume until ``commit``."""

    @property
    def path(self) -> str:
        """The file being written, from the volume root."""

    async def write(self, data: bytes) -> None:
        """Append ``data`` to the upload."""

    async def commit(self) -> None:
        """Make the upload the file's content, atomically."""

    async def abort(self) -> None:
        """Drop the upload; the old content stays. A no-op once committed or aborted."""


class VolumeBackend(abc.ABC):
    """Stores volumes and serves their files. One instance serves the whole server."""

    #: What kind of storage this is: ``hostdir``, ``pvc``.
    kind: str

    @abc.abstractmethod
    async def open(self) -> None:
        """Get ready; clear what a server that stopped mid-request left behind (upload temp files)."""

    @abc.abstractmethod
    async def create(self, volume_id: str) -> VolumePhase:
        """Make the volume's (empty) storage; answer its phase."""

    @abc.abstractmethod
    async def delete(self, volume_id: str) -> None:
        """Remove the volume's storage and every file in it; a no-op when it is gone."""

    @abc.abstractmethod
    async def phase(self, volume_id: str) -> VolumePhase:
        """``ready`` once the volume can be mounted and its files reached; ``pending`` before, ``failed`` if never."""

    @abc.abstractmethod
    async def list_files(self, volume_id: str, path: str, search: str | None) -> Listing:
        """The nested tree under ``path``, breadth-first up to an entry budget; with ``search``, matches only."""

    @abc.abstractmethod
    async def open_file(self, volume_id: str, path: str) -> FileReader:
        """Open the regular file at ``path`` for reading. The caller closes it."""

    @abc.abstractmethod
    async def begin_write(self, volume_id: str, path: str) -> FileWriter:
        """Start replacing (or creating) the file at ``path``, creating parent directories on commit's way."""

    @abc.abstractmethod
    async def move(self, volume_id: str, source: str, destination: str) -> None:
        """Move a file or directory inside the volume; never overwrites, never creates parents."""

"""``HostDirVolumes``: each volume is a directory on this host, bind-mounted into sandboxes.

The directories live under one root (``<data dir>/volumes/<volume id>``).
Every file operation runs in a worker thread (the filesystem blocks) and
walks paths safely (``paths``). A cancelled request never strands what a
thread opened: the thread's work finishes, then its descriptor or temporary
file is freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import anyio
import anyio.to_thread

from ..base import Listing, VolumeBackend, VolumePhase
from .listing import list_files
from .reading import OpenFile, open_file
from .writing import PendingWrite, begin_write, clear_staging, move

#: A deleted volume's directory is renamed to this prefix + its id first, then removed.
_DELETED_PREFIX = ".deleted-"
#: Where uploads wait until they are renamed into their volume (beside the volumes, never inside one).
STAGING = ".uploads"


class FileOwner(NamedTuple):
    """The uid and gid that files created in volumes are given to."""

    uid: int
    gid: int


class HostFileReader:
    """A volume file opened for reading; reads run in a worker thread."""

    def __init__(self, opened: OpenFile) -> None:
        self._opened = opened

    @property
    def size(self) -> int:
        """Its size in bytes when it was opened."""
        return self._opened.size

    @property
    def modified_at(self) -> float:
        """When it was last written, in seconds since the epoch."""
        return self._opened.modified_at

    async def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset``."""
        # Not abandoned on cancel (anyio's default): the descriptor is closed only after the read returns.
        return await anyio.to_thread.run_sync(self._opened.read, offset, length)

    async def close(self) -> None:
        """Close the descriptor."""
        self._opened.close()


class HostFileWriter:
    """An upload into a volume directory: a temporary file in the staging directory, renamed into place on commit."""

    def __init__(self, pending: PendingWrite) -> None:
        self._pending = pending

    @property
    def path(self) -> str:
        """The file being written, from the volume root."""
        return self._pending.path

    async def write(self, data: bytes) -> None:
        """Append ``data`` to the temporary file."""
        await anyio.to_thread.run_sync(self._pending.write, data)

    async def commit(self) -> None:
        """Rename the temporary file into place."""
        await anyio.to_thread.run_sync(self._pending.commit)

    async def abort(self) -> None:
        """Remove the temporary file (and the directories this upload made); runs even when cancelled."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._pending.abort)


class HostDirVolumes(VolumeBackend):
    """Volumes as directories under ``root`` on this host.

    ``owner`` is who the runtime's sandboxes run as, when that is not the server's own user (a
    root server's sandbox uid, see ``runtimes.process.identity``): the directories and files the
    server creates in volumes are given to it, so what the volume file API writes stays writable
    from the sandboxes, as what they write stays writable from the API (the server is root).
    """

    kind = "hostdir"

    def __init__(self, root: Path, owner: FileOwner | None = None) -> None:
        self.root = root
        #: Uploads in flight (``writing``); emptied at start.
        self.staging = root / STAGING
        self.owner = owner

    def claim(self, owner: FileOwner) -> None:
        """From now on, give what the server creates to ``owner``; give it every volume that is not yet its own.

        A volume that sandboxes running as another uid filled (root sandboxes of an older server, say)
        holds files they alone could change. Links are changed themselves, never followed; ``chown``
        also clears the setuid and setgid bits of the files it gives away. Blocking: call it in a thread.
        """
        self.owner = owner
        if not self.root.is_dir():
            return
        for volume in self.root.iterdir():
            if volume.name.startswith(".") or volume.is_symlink() or not volume.is_dir():
                continue
            if (volume.lstat().st_uid, volume.lstat().st_gid) == owner:
                continue
            os.lchown(volume, *owner)
            for folder, directories, files in os.walk(volume):
                for name in [*directories, *files]:
                    with contextlib.suppress(OSError):
                        os.lchown(os.path.join(folder, name), *owner)

    def host_path(self, volume_id: str) -> Path:
        """The directory that holds the volume's files (what a runtime bind-mounts)."""
        return self.root / volume_id

    async def open(self) -> None:
        """Make the root; finish removing volumes a stopped server left half-deleted, and its cut-off uploads."""
        self.root.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(clear_staging, self.staging)
        for entry in self.root.iterdir():
            if entry.name.startswith(_DELETED_PREFIX):
                await asyncio.to_thread(shutil.rmtree, entry, True)

    async def create(self, volume_id: str) -> VolumePhase:
        """Make the volume's empty directory (the ``owner``'s)."""
        directory = self.host_path(volume_id)
        directory.mkdir(parents=True, exist_ok=True)
        if self.owner is not None:
            os.chown(directory, *self.owner)
        return "ready"

    async def delete(self, volume_id: str) -> None:
        """Remove the directory and its files; the id is gone at once even if removing takes a while."""
        doomed = self.root / f"{_DELETED_PREFIX}{volume_id}"
        with contextlib.suppress(FileNotFoundError):
            self.host_path(volume_id).rename(doomed)
            await asyncio.to_thread(shutil.rmtree, doomed, True)

    async def phase(self, volume_id: str) -> VolumePhase:
        """Always ``ready``: a directory can be used as soon as it exists."""
        return "ready"

    async def list_files(self, volume_id: str, path: str, search: str | None) -> Listing:
        """The nested tree under ``path`` (see ``listing.list_files``)."""
        root = self.host_path(volume_id)
        return await anyio.to_thread.run_sync(lambda: list_files(root, path, search=search))

    async def open_file(self, volume_id: str, path: str) -> HostFileReader:
        """Open the file at ``path`` for reading."""
        with anyio.CancelScope(shield=True):  # a cancel must not lose the descriptor the thread opened
            opened = await anyio.to_thread.run_sync(open_file, self.host_path(volume_id), path)
        return HostFileReader(opened)

    async def begin_write(self, volume_id: str, path: str) -> HostFileWriter:
        """Start an atomic upload to ``path``."""
        with anyio.CancelScope(shield=True):  # a cancel must not lose the temporary file the thread made
            pending = await anyio.to_thread.run_sync(
                begin_write, self.host_path(volume_id), path, self.staging, self.owner
            )
        return HostFileWriter(pending)

    async def move(self, volume_id: str, source: str, destination: str) -> None:
        """Move ``source`` to ``destination``; never overwrites."""
        await anyio.to_thread.run_sync(move, self.host_path(volume_id), source, destination)


__all__ = ["FileOwner", "HostDirVolumes", "HostFileReader", "HostFileWriter"]

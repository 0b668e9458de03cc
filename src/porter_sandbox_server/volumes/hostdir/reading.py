"""Reading a file of a volume directory: opened once, safely, then read at offsets."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ... import errors
from .paths import READ_FLAGS, display_path, lstat_at, open_dir, open_root, os_error, split_path, symlink_error


class OpenFile:
    """A regular file of a volume, opened safely: its descriptor, size and modification time."""

    def __init__(self, fd: int, size: int, modified_at: float) -> None:
        self.fd = fd
        self.size = size
        #: Seconds since the epoch, as ``st_mtime``.
        self.modified_at = modified_at
        self._closed = False

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer only at the end of the file)."""
        return os.pread(self.fd, length, offset)

    def close(self) -> None:
        """Close the descriptor; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            os.close(self.fd)

    def __del__(self) -> None:
        # A download whose response never started (the client left first) still frees its descriptor.
        self.close()

    def __enter__(self) -> OpenFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_file(root: Path, path: str) -> OpenFile:
    """Open the regular file at ``path`` for reading, never through a symbolic link. The caller closes it."""
    parts = split_path(path)
    if not parts:
        raise errors.BadRequest("the path names the volume root, a directory; name a file, e.g. path=/data.txt")
    root_fd = open_root(root)
    try:
        parent_fd = open_dir(root_fd, parts[:-1])
    finally:
        os.close(root_fd)
    try:
        name = parts[-1]
        st = lstat_at(parent_fd, name)
        if st is None:
            raise errors.NotFound(f"no file {display_path(parts)} in this volume")
        _refuse_non_file(parts, st)
        try:
            fd = os.open(name, READ_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            raise errors.NotFound(f"no file {display_path(parts)} in this volume") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise symlink_error(parts) from None
            raise os_error(parts, exc) from None
    finally:
        os.close(parent_fd)
    # What we opened may not be what we checked (a sandbox can swap it between the two): check again.
    st = os.fstat(fd)
    try:
        _refuse_non_file(parts, st)
    except BaseException:
        os.close(fd)
        raise
    return OpenFile(fd, st.st_size, st.st_mtime)


def _refuse_non_file(parts: tuple[str, ...], st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise symlink_error(parts)
    if stat.S_ISDIR(st.st_mode):
        raise errors.BadRequest(
            f"{display_path(parts)} is a directory; list it with GET /v1/volume/{{id}}/files?path=..."
        )
    if not stat.S_ISREG(st.st_mode):
        raise errors.BadRequest(f"{display_path(parts)} is not a regular file (a fifo, socket or device)")

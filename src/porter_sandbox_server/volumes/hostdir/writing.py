"""Writing into a volume directory: atomic streamed uploads (temp file, then rename) and no-replace moves.

An upload's bytes go to a temporary file in a staging directory outside every
volume (but on the same filesystem, so the final rename is atomic): a sandbox
never sees a half-written file, and what a killed server left there is
removed at start in one sweep of that directory (``clear_staging``).

``owner`` (uid, gid), when given, is who the runtime's sandboxes run as: the
files and directories an upload creates are given to it, so that sandboxes
can change what the API wrote as freely as the API changes what they wrote.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from ... import errors
from .paths import (
    DIR_FLAGS,
    TEMP_FLAGS,
    TEMP_PREFIX,
    display_path,
    lstat_at,
    open_dir,
    open_dir_after_error,
    open_root,
    os_error,
    split_path,
    symlink_error,
)


class PendingWrite:
    """An upload in progress: bytes go to a temporary file in the staging directory, renamed into place on commit.

    Until ``commit`` the old file is untouched; ``abort`` (or leaving a
    ``with`` block without committing) removes the temporary file and the
    directories this upload created. Not thread-safe: one caller at a time.
    """

    def __init__(
        self,
        parts: tuple[str, ...],
        parent_fd: int,
        staging_fd: int,
        temp_name: str,
        temp_fd: int,
        created: list[tuple[int, str]],
    ) -> None:
        self._parts = parts
        self._parent_fd = parent_fd
        self._staging_fd = staging_fd
        self._temp_name = temp_name
        self._temp_fd = temp_fd
        self._created = created  # (descriptor of a parent, name of a directory we made there)
        self._done = False
        self.bytes_written = 0

    @property
    def path(self) -> str:
        """The file being written, from the volume root."""
        return display_path(self._parts)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the upload."""
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._temp_fd, view)
                view = view[written:]
                self.bytes_written += written
        except OSError as exc:
            raise os_error(self._parts, exc) from None

    def commit(self) -> None:
        """Make the upload the file's content, atomically: readers see the old file or the new, never a mix."""
        if self._done:
            raise RuntimeError("this upload is already finished")
        name = self._parts[-1]
        try:
            os.fsync(self._temp_fd)
            try:
                os.replace(self._temp_name, name, src_dir_fd=self._staging_fd, dst_dir_fd=self._parent_fd)
            except IsADirectoryError:
                raise errors.Conflict(
                    f"{self.path} is a directory; a file cannot replace it: choose another path"
                ) from None
            self._done = True
            with contextlib.suppress(OSError):  # the file is in place; this only makes the rename survive a crash
                os.fsync(self._parent_fd)
        except OSError as exc:
            raise os_error(self._parts, exc) from None
        finally:
            if not self._done:
                self.abort()
            else:
                self._close()

    def abort(self) -> None:
        """Drop the upload: the old file (if any) keeps its content; no temporary file is left behind."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            os.unlink(self._temp_name, dir_fd=self._staging_fd)
        for parent_fd, name in reversed(self._created):
            try:
                os.rmdir(name, dir_fd=parent_fd)  # only if still empty: never removes what others put there
            except OSError:
                break
        self._close()

    def _close(self) -> None:
        for fd in {self._temp_fd, self._parent_fd, self._staging_fd, *(fd for fd, _ in self._created)}:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._created = []

    def __del__(self) -> None:
        # Never leave a temporary file behind, even for an upload its caller dropped.
        if not self._done:
            self.abort()

    def __enter__(self) -> PendingWrite:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            self.abort()


def clear_staging(staging: Path) -> None:
    """Make the staging directory, empty: whatever is in it is what uploads cut off by a killed server left."""
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True, exist_ok=True)


def begin_write(root: Path, path: str, staging: Path, owner: tuple[int, int] | None = None) -> PendingWrite:
    """Start replacing (or creating) the file at ``path``, creating its parent directories (owned by ``owner``).

    The bytes wait in a temporary file in ``staging`` (a directory of the
    server's on the volume's filesystem) until ``commit`` renames it into place.

    Fails before any byte is sent when the path is unusable: 400 for the
    volume root or a symbolic link, 409 when ``path`` is a directory or lies
    below a file.
    """
    parts = split_path(path)
    if not parts:
        raise errors.BadRequest("the path names the volume root, a directory; name a file, e.g. path=/data.txt")
    root_fd = open_root(root)
    created: list[tuple[int, str]] = []
    try:
        parent_fd = _open_parent_creating(root_fd, parts[:-1], created, owner)
    except BaseException:
        _close_created(created, remove=True)
        raise
    finally:
        os.close(root_fd)
    try:
        name = parts[-1]
        st = lstat_at(parent_fd, name)
        mode = 0o666
        if st is not None:
            if stat.S_ISLNK(st.st_mode):
                raise symlink_error(parts)
            if stat.S_ISDIR(st.st_mode):
                raise errors.Conflict(
                    f"{display_path(parts)} is a directory; a file cannot replace it: choose another path"
                )
            if not stat.S_ISREG(st.st_mode):
                raise errors.Conflict(f"{display_path(parts)} is not a regular file; choose another path")
            mode = stat.S_IMODE(st.st_mode)
        temp_name = TEMP_PREFIX + secrets.token_hex(8)
        staging_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            temp_fd = os.open(temp_name, TEMP_FLAGS, mode, dir_fd=staging_fd)
        except OSError as exc:
            os.close(staging_fd)
            raise os_error(parts, exc) from None
        if st is not None:
            with contextlib.suppress(OSError):
                os.fchmod(temp_fd, mode)  # the umask may have narrowed it; keep the file's own mode
        if owner is not None:
            try:
                os.fchown(temp_fd, *owner)
            except OSError as exc:
                os.close(temp_fd)
                os.unlink(temp_name, dir_fd=staging_fd)
                os.close(staging_fd)
                raise os_error(parts, exc) from None
    except BaseException:
        os.close(parent_fd)
        _close_created(created, remove=True)
        raise
    return PendingWrite(parts, parent_fd, staging_fd, temp_name, temp_fd, created)


def _open_parent_creating(
    root_fd: int, parts: tuple[str, ...], created: list[tuple[int, str]], owner: tuple[int, int] | None
) -> int:
    """Like ``open_dir(create=True)``, remembering each directory it made so an abort can remove it."""
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts):
            here = parts[: depth + 1]
            existed = lstat_at(fd, name) is not None
            try:
                next_fd = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                next_fd = open_dir_after_error(fd, name, here, exc, create=True, role="directory")
            if not existed:
                created.append((fd, name))  # keep fd open: abort removes ``name`` relative to it
                if owner is not None:
                    try:
                        os.fchown(next_fd, *owner)
                    except OSError as exc:
                        os.close(next_fd)
                        raise os_error(here, exc) from None
            else:
                os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        if not any(held == fd for held, _ in created):
            os.close(fd)
        raise


def _close_created(created: list[tuple[int, str]], *, remove: bool = False) -> None:
    for parent_fd, name in reversed(created):
        if remove:
            try:
                os.rmdir(name, dir_fd=parent_fd)
            except OSError:
                remove = False
        os.close(parent_fd)
    created.clear()


def write_file(
    root: Path, path: str, chunks: Iterable[bytes], staging: Path, owner: tuple[int, int] | None = None
) -> int:
    """Write ``chunks`` to ``path`` atomically (see ``begin_write``); answers the number of bytes written."""
    with begin_write(root, path, staging, owner) as pending:
        for chunk in chunks:
            pending.write(chunk)
        pending.commit()
        return pending.bytes_written


_RENAME_NOREPLACE = 1


def _load_renameat2() -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def _rename_no_replace(src_fd: int, src_name: str, dst_fd: int, dst_name: str) -> None:
    """Rename without ever replacing the destination (``renameat2(RENAME_NOREPLACE)`` where the kernel has it)."""
    if _renameat2 is not None:
        if _renameat2(src_fd, os.fsencode(src_name), dst_fd, os.fsencode(dst_name), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(code, os.strerror(code))
    # No atomic no-replace on this filesystem: check, then rename (a narrow race, on filesystems without it only).
    if lstat_at(dst_fd, dst_name) is not None:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST))
    os.rename(src_name, dst_name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)


def move(root: Path, source: str, destination: str) -> None:
    """Move the file or directory ``source`` to ``destination``, both inside the volume at ``root``.

    Never overwrites (409 when ``destination`` exists); 404 when ``source`` or
    the destination's parent directory is missing (parents are not created);
    400 for the volume root, a symbolic link, or a directory moved into itself.
    """
    src = split_path(source)
    dst = split_path(destination)
    if not src:
        raise errors.BadRequest("'from' names the volume root, which cannot move; name a file or directory in it")
    if not dst:
        raise errors.Conflict("'to' names the volume root, which exists; name a new path inside it")
    if len(dst) > len(src) and dst[: len(src)] == src:
        raise errors.BadRequest(
            f"cannot move {display_path(src)} into itself ({display_path(dst)}); choose a destination outside it"
        )
    root_fd = open_root(root)
    src_fd = dst_fd = -1
    try:
        src_fd = open_dir(root_fd, src[:-1], role="directory holding 'from'")
        st = lstat_at(src_fd, src[-1])
        if st is None:
            raise errors.NotFound(f"nothing to move: {display_path(src)} does not exist in this volume")
        if stat.S_ISLNK(st.st_mode):
            raise symlink_error(src)
        try:
            dst_fd = open_dir(root_fd, dst[:-1], role="destination's parent directory")
        except errors.NotFound as exc:
            raise errors.NotFound(
                f"{exc.message}; a move does not create directories: create it first "
                "(for example by writing a file into it) or choose another destination"
            ) from None
        if lstat_at(dst_fd, dst[-1]) is not None:
            raise errors.Conflict(f"{display_path(dst)} already exists; a move never overwrites: choose another name")
        try:
            _rename_no_replace(src_fd, src[-1], dst_fd, dst[-1])
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise errors.Conflict(
                    f"{display_path(dst)} already exists; a move never overwrites: choose another name"
                ) from None
            if exc.errno == errno.ENOENT:
                raise errors.NotFound(f"nothing to move: {display_path(src)} does not exist in this volume") from None
            if exc.errno == errno.EINVAL:
                raise errors.BadRequest(f"cannot move {display_path(src)} into itself") from None
            if exc.errno in (errno.ENOTDIR, errno.EISDIR):
                raise errors.Conflict(
                    f"cannot move {display_path(src)} onto {display_path(dst)}: {exc.strerror}"
                ) from None
            raise os_error(src, exc) from None
        with contextlib.suppress(OSError):  # moved already; this only makes it survive a crash
            os.fsync(src_fd)
            os.fsync(dst_fd)
    finally:
        for fd in (root_fd, src_fd, dst_fd):
            if fd >= 0:
                os.close(fd)

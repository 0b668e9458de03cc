"""The files of a volume: safe paths, nested listings, ranged reads, atomic streamed writes and moves.

This module holds the filesystem logic of the volume files API and knows
nothing of HTTP; ``volume_files_routes`` turns requests into calls here. Every
failure is raised as an ``errors.ApiError`` whose message says what to do.

Path safety
-----------
A volume's directory is mounted read-write into sandboxes, so anything in it
may have been planted by a sandbox: a symbolic link to ``/etc`` or to another
volume's directory, a directory swapped for a link while a request is in
flight, a fifo that blocks whoever opens it.

We therefore never hand a client's path to the kernel's own path walk. A path
is split into components (``..`` and NUL bytes are refused with 400; empty
components, ``.`` and a leading ``/`` are dropped, so ``/etc/passwd`` names
``etc/passwd`` inside the volume), then opened one component at a time, each
relative to the descriptor of the directory before it:
``os.open(name, O_DIRECTORY | O_NOFOLLOW, dir_fd=parent)`` (``openat``). With
``O_NOFOLLOW`` the kernel refuses a symbolic link at that very step, so no
step can leave the tree whatever a sandbox changes between our steps. We
chose this over "``realpath`` + ``commonpath`` + re-check with ``fstat``"
because that check answers for the moment it ran, not for the moment the file
is used, and needs a second check to close the race; walking with descriptors
has no window to close. The last component is handled the same way: files
are opened with ``O_NOFOLLOW | O_NONBLOCK`` (a planted fifo cannot block us)
and checked with ``fstat`` on the descriptor; uploads create their temporary
file with ``O_CREAT | O_EXCL | O_NOFOLLOW`` inside the directory descriptor;
renames name both ends relative to directory descriptors, and a rename never
follows a final symbolic link.

Consequences: symbolic links are never followed, not even those that point
inside the volume (a path through one is a 400 that says so); listings leave
symbolic links, fifos, sockets and devices out, and names that are not UTF-8.
Hard links cannot reach outside either: a sandbox sees other trees only
through other mounts, and the kernel refuses links across mounts.

Statuses chosen here (the contract leaves them to us): a path through a
symbolic link, ``..``, reading a directory, listing a file or moving a
directory into itself is 400; a missing file, directory, move source or move
destination parent is 404; writing onto a directory, writing below a file,
and moving onto anything that exists is 409.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import heapq
import os
import secrets
import stat
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from porter_sandbox_server import errors

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_SCANNED",
    "TEMP_PREFIX",
    "FileEntry",
    "Listing",
    "OpenFile",
    "PendingWrite",
    "begin_write",
    "display_path",
    "list_files",
    "move",
    "open_file",
    "parse_range",
    "split_path",
    "write_file",
]

#: How many entries one listing answers at most, over the whole nested tree.
DEFAULT_MAX_ENTRIES = 1000
#: How many directory entries a search examines at most before it answers what it found.
DEFAULT_MAX_SCANNED = 100_000
#: Uploads are written to ``<directory>/<TEMP_PREFIX><random>`` and renamed into place.
TEMP_PREFIX = ".porter-upload-"

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


# --- paths ---------------------------------------------------------------------------------------


def split_path(path: str) -> tuple[str, ...]:
    """The components of a path relative to the volume root; ``..`` and NUL bytes are a 400.

    A leading ``/``, repeated slashes and ``.`` components are ignored, so
    ``"/a//./b"`` and ``"a/b"`` name the same file.
    """
    if "\x00" in path:
        raise errors.BadRequest("the path contains a NUL byte; name the file without it")
    parts = tuple(part for part in path.split("/") if part not in ("", "."))
    if ".." in parts:
        raise errors.BadRequest(
            f"the path {path!r} contains '..'; paths are relative to the volume root and may not leave it: "
            "name the file from the root instead"
        )
    for part in parts:
        if len(os.fsencode(part)) > 255:
            raise errors.BadRequest(f"the path component {part[:40]!r}... is longer than 255 bytes; use a shorter name")
    return parts


def display_path(parts: Iterable[str]) -> str:
    """A path as the API shows it: from the volume root, with a leading ``/``."""
    return "/" + "/".join(parts)


def _symlink_error(parts: tuple[str, ...]) -> errors.BadRequest:
    return errors.BadRequest(
        f"{display_path(parts)} is a symbolic link; the volume files API never follows symbolic links "
        "(a sandbox may have planted it): name the real file instead"
    )


def _os_error(parts: tuple[str, ...], exc: OSError) -> errors.ApiError:
    """An API error for an unexpected failure on a volume path (permissions changed by a sandbox, a full disk)."""
    if exc.errno in _NO_SPACE:
        return errors.Unavailable("the volume's disk is full; free some space and retry")
    if exc.errno == errno.ENAMETOOLONG:
        return errors.BadRequest(f"the path {display_path(parts)} is too long; use a shorter one")
    return errors.Conflict(f"cannot use {display_path(parts)}: {exc.strerror or exc}")


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    """``lstat`` of ``name`` in a directory descriptor; ``None`` when it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _open_root(root: Path) -> int:
    """A descriptor of the volume's own directory (a path the server made, so followed as is)."""
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise errors.NotFound(
            "the volume's directory is missing on the server; delete the volume and create it again"
        ) from None


def _open_dir(root_fd: int, parts: tuple[str, ...], *, role: str = "directory") -> int:
    """Open the directory ``parts`` below ``root_fd`` one component at a time, never following a link.

    A missing directory, or a file in the way, is a 404 that names ``role``; a
    symbolic link anywhere is a 400. The caller closes the answered descriptor.
    """
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts):
            here = parts[: depth + 1]
            try:
                next_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                next_fd = _open_dir_after_error(fd, name, here, exc, create=False, role=role)
            os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_dir_after_error(fd: int, name: str, here: tuple[str, ...], exc: OSError, *, create: bool, role: str) -> int:
    """Explain why ``name`` could not be opened as a directory, or (with ``create``) make it and open it.

    With ``create`` a file in the way is a 409; without it a 404 that names ``role``.
    """
    st = _lstat(fd, name)
    if st is None:
        if not create:
            raise errors.NotFound(f"the {role} {display_path(here)} does not exist in this volume") from None
        try:
            os.mkdir(name, 0o777, dir_fd=fd)
        except FileExistsError:
            pass  # made by someone else meanwhile: open whatever is there, safely
        except OSError as mkdir_exc:
            raise _os_error(here, mkdir_exc) from None
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as again:
            return _open_dir_after_error(fd, name, here, again, create=False, role=role)
    if stat.S_ISLNK(st.st_mode):
        raise _symlink_error(here) from None
    if not stat.S_ISDIR(st.st_mode):
        if create:
            raise errors.Conflict(
                f"{display_path(here)} is a file, so nothing can be written below it; "
                "move or replace that file, or choose another path"
            ) from None
        raise errors.NotFound(f"the {role} {display_path(here)} is a file, not a directory") from None
    raise _os_error(here, exc) from None


# --- listing -------------------------------------------------------------------------------------


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


#: ``children_of(relative_dir, limit)`` -> (up to ``limit`` entries in order, whether more were left out).
_ChildrenOf = Callable[[tuple[str, ...], int], tuple[list[FileEntry], bool]]


def _usable(entry: os.DirEntry[str]) -> bool:
    """Whether a listing shows this entry: regular files and directories with UTF-8 names."""
    if entry.name.startswith(TEMP_PREFIX):
        return False  # an upload in flight, not a file yet
    try:
        entry.name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    try:
        return entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _to_entry(entry: os.DirEntry[str]) -> FileEntry | None:
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return None  # gone meanwhile
    is_directory = stat.S_ISDIR(st.st_mode)
    if not is_directory and not stat.S_ISREG(st.st_mode):
        return None  # swapped for a link or a fifo since the directory was read
    return FileEntry(
        name=entry.name,
        is_directory=is_directory,
        size_bytes=0 if is_directory else st.st_size,
        modified_at=datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
    )


def _read_dir(fd: int, limit: int) -> tuple[list[FileEntry], bool]:
    """The first ``limit`` entries of a directory in listing order, and whether it holds more.

    Keeps only ``limit + 1`` entries in memory however large the directory is.
    """
    with os.scandir(fd) as scan:
        usable = (entry for entry in scan if _usable(entry))
        if limit <= 0:
            return [], next(usable, None) is not None
        first = heapq.nsmallest(limit + 1, usable, key=lambda e: (not e.is_dir(follow_symlinks=False), e.name))
        more = len(first) > limit
        kept = [made for made in map(_to_entry, first[:limit]) if made is not None]
    return kept, more


def _walk(children_of: _ChildrenOf, max_entries: int) -> tuple[list[FileEntry], bool]:
    """Breadth-first walk from the listed directory, answering at most ``max_entries`` entries in all."""
    top, truncated = children_of((), max_entries)
    budget = max_entries - len(top)
    queue: deque[tuple[tuple[str, ...], FileEntry]] = deque(((e.name,), e) for e in top if e.is_directory)
    while queue:
        relative, directory = queue.popleft()
        children, more = children_of(relative, budget)
        directory.entries = children
        directory.truncated = more
        truncated = truncated or more
        budget -= len(children)
        queue.extend(((*relative, child.name), child) for child in children if child.is_directory)
    return top, truncated


def list_files(
    root: Path,
    path: str = "",
    *,
    search: str | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_scanned: int = DEFAULT_MAX_SCANNED,
) -> Listing:
    """List the tree under ``path`` of the volume at ``root``, breadth-first, up to ``max_entries`` entries.

    Each directory's entries come directories first, then files, each by name.
    A directory whose entries were left out (the budget ran out) is marked
    ``truncated``; list it by its own path to see the rest. With ``search``,
    only entries whose name contains that text (case-insensitively) are
    answered, with the directories that lead to them; the search examines at
    most ``max_scanned`` entries and marks the directories it did not finish.
    """
    parts = split_path(path)
    root_fd = _open_root(root)
    try:
        base_fd = _open_dir(root_fd, parts)
    except errors.NotFound as exc:
        os.close(root_fd)
        st = _parent_lstat(root, parts)
        if st is not None and stat.S_ISREG(st.st_mode):
            raise errors.BadRequest(
                f"{display_path(parts)} is a file; read it with GET /v1/volume/{{id}}/files/content?path=..."
            ) from None
        raise exc
    except BaseException:
        os.close(root_fd)
        raise
    os.close(root_fd)
    try:
        children_of = _search_children(base_fd, search, max_scanned) if search else _disk_children(base_fd)
        entries, truncated = _walk(children_of, max_entries)
    finally:
        os.close(base_fd)
    return Listing(path=display_path(parts), entries=entries, truncated=truncated)


def _parent_lstat(root: Path, parts: tuple[str, ...]) -> os.stat_result | None:
    """``lstat`` of the last component of ``parts``, reached safely; ``None`` when unreachable."""
    if not parts:
        return None
    root_fd = _open_root(root)
    try:
        parent_fd = _open_dir(root_fd, parts[:-1])
    except errors.ApiError:
        return None
    finally:
        os.close(root_fd)
    try:
        return _lstat(parent_fd, parts[-1])
    finally:
        os.close(parent_fd)


def _disk_children(base_fd: int) -> _ChildrenOf:
    """Read each directory from disk when the walk reaches it, re-opened safely from ``base_fd``."""

    def children_of(relative: tuple[str, ...], limit: int) -> tuple[list[FileEntry], bool]:
        try:
            fd = _open_dir(base_fd, relative)
        except errors.ApiError:
            return [], False  # removed or swapped for a link since its parent was read
        try:
            return _read_dir(fd, limit)
        except OSError:
            return [], False
        finally:
            os.close(fd)

    return children_of


def _search_children(base_fd: int, search: str, max_scanned: int) -> _ChildrenOf:
    """Scan the tree breadth-first for names containing ``search``; answer matches and the directories to them."""
    needle = search.casefold()
    found: dict[tuple[str, ...], FileEntry] = {}  # every directory seen, and every match
    matched: list[tuple[str, ...]] = []
    unfinished: set[tuple[str, ...]] = set()
    scanned = 0
    queue: deque[tuple[str, ...]] = deque([()])
    while queue:
        relative = queue.popleft()
        if scanned >= max_scanned:
            unfinished.add(relative)
            continue
        try:
            fd = _open_dir(base_fd, relative)
        except errors.ApiError:
            continue
        try:
            with os.scandir(fd) as scan:
                for dir_entry in scan:
                    if not _usable(dir_entry):
                        continue
                    if scanned >= max_scanned:
                        unfinished.add(relative)
                        break
                    scanned += 1
                    is_match = needle in dir_entry.name.casefold()
                    is_dir = dir_entry.is_dir(follow_symlinks=False)
                    if not (is_match or is_dir):
                        continue
                    entry = _to_entry(dir_entry)
                    if entry is None:
                        continue
                    child = (*relative, entry.name)
                    found[child] = entry
                    if entry.is_directory:
                        queue.append(child)
                    if is_match:
                        matched.append(child)
        except OSError:
            pass
        finally:
            os.close(fd)

    shown: set[tuple[str, ...]] = set()
    for leaf in [*matched, *unfinished]:
        for depth in range(1, len(leaf) + 1):
            shown.add(leaf[:depth])
    children: dict[tuple[str, ...], list[FileEntry]] = {}
    for relative in shown:
        children.setdefault(relative[:-1], []).append(found[relative])
    for kids in children.values():
        kids.sort(key=FileEntry.sort_key)

    def children_of(relative: tuple[str, ...], limit: int) -> tuple[list[FileEntry], bool]:
        kids = children.get(relative, [])
        return kids[: max(limit, 0)], len(kids) > limit or relative in unfinished

    return children_of


# --- reading -------------------------------------------------------------------------------------


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
    root_fd = _open_root(root)
    try:
        parent_fd = _open_dir(root_fd, parts[:-1])
    finally:
        os.close(root_fd)
    try:
        name = parts[-1]
        st = _lstat(parent_fd, name)
        if st is None:
            raise errors.NotFound(f"no file {display_path(parts)} in this volume")
        _refuse_non_file(parts, st)
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            raise errors.NotFound(f"no file {display_path(parts)} in this volume") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _symlink_error(parts) from None
            raise _os_error(parts, exc) from None
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
        raise _symlink_error(parts)
    if stat.S_ISDIR(st.st_mode):
        raise errors.BadRequest(
            f"{display_path(parts)} is a directory; list it with GET /v1/volume/{{id}}/files?path=..."
        )
    if not stat.S_ISREG(st.st_mode):
        raise errors.BadRequest(f"{display_path(parts)} is not a regular file (a fifo, socket or device)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range ``(first, last)`` a ``Range`` header asks of a file of ``size`` bytes.

    ``None`` when there is no header (answer the whole file). Accepts one
    range: ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` (the last n bytes); a
    ``b`` past the end is cut to the end. A malformed header or several ranges
    is a 400; a range that starts past the end (or any range of an empty file)
    is a 416 carrying ``Content-Range: bytes */size``.
    """
    if header is None:
        return None
    text = header.strip()
    unit, sep, spec = text.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        raise errors.BadRequest(f"the Range header {header!r} is not understood; send one range such as bytes=0-1023")
    spec = spec.strip()
    if "," in spec:
        raise errors.BadRequest("the Range header asks for several ranges; ask for one range at a time")
    first_text, dash, last_text = spec.partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not (first_text or last_text) or not all(t.isdigit() for t in (first_text, last_text) if t):
        raise errors.BadRequest(
            f"the Range header {header!r} is not understood; send bytes=a-b, bytes=a- or bytes=-n with whole numbers"
        )
    unsatisfiable = errors.RangeNotSatisfiable(
        f"the range {spec} lies outside the file, which is {size} bytes long; ask for bytes below {size}",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else max(first, size - 1)
    if last < first:
        raise errors.BadRequest(f"the Range header {header!r} ends before it starts; send bytes=a-b with a <= b")
    if first >= size:
        raise unsatisfiable
    return first, min(last, size - 1)


# --- writing -------------------------------------------------------------------------------------


class PendingWrite:
    """An upload in progress: bytes go to a temporary file beside the target, renamed into place on commit.

    Until ``commit`` the old file is untouched; ``abort`` (or leaving a
    ``with`` block without committing) removes the temporary file and the
    directories this upload created. Not thread-safe: one caller at a time.
    """

    def __init__(
        self, parts: tuple[str, ...], parent_fd: int, temp_name: str, temp_fd: int, created: list[tuple[int, str]]
    ) -> None:
        self._parts = parts
        self._parent_fd = parent_fd
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
            raise _os_error(self._parts, exc) from None

    def commit(self) -> None:
        """Make the upload the file's content, atomically: readers see the old file or the new, never a mix."""
        if self._done:
            raise RuntimeError("this upload is already finished")
        name = self._parts[-1]
        try:
            os.fsync(self._temp_fd)
            try:
                os.replace(self._temp_name, name, src_dir_fd=self._parent_fd, dst_dir_fd=self._parent_fd)
            except IsADirectoryError:
                raise errors.Conflict(
                    f"{self.path} is a directory; a file cannot replace it: choose another path"
                ) from None
            self._done = True
            with contextlib.suppress(OSError):  # the file is in place; this only makes the rename survive a crash
                os.fsync(self._parent_fd)
        except OSError as exc:
            raise _os_error(self._parts, exc) from None
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
            os.unlink(self._temp_name, dir_fd=self._parent_fd)
        for parent_fd, name in reversed(self._created):
            try:
                os.rmdir(name, dir_fd=parent_fd)  # only if still empty: never removes what others put there
            except OSError:
                break
        self._close()

    def _close(self) -> None:
        for fd in {self._temp_fd, self._parent_fd, *(fd for fd, _ in self._created)}:
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


def begin_write(root: Path, path: str) -> PendingWrite:
    """Start replacing (or creating) the file at ``path``, creating its parent directories.

    Fails before any byte is sent when the path is unusable: 400 for the
    volume root or a symbolic link, 409 when ``path`` is a directory or lies
    below a file.
    """
    parts = split_path(path)
    if not parts:
        raise errors.BadRequest("the path names the volume root, a directory; name a file, e.g. path=/data.txt")
    root_fd = _open_root(root)
    created: list[tuple[int, str]] = []
    try:
        parent_fd = _open_parent_creating(root_fd, parts[:-1], created)
    except BaseException:
        _close_created(created, remove=True)
        raise
    finally:
        os.close(root_fd)
    try:
        name = parts[-1]
        st = _lstat(parent_fd, name)
        mode = 0o666
        if st is not None:
            if stat.S_ISLNK(st.st_mode):
                raise _symlink_error(parts)
            if stat.S_ISDIR(st.st_mode):
                raise errors.Conflict(
                    f"{display_path(parts)} is a directory; a file cannot replace it: choose another path"
                )
            if not stat.S_ISREG(st.st_mode):
                raise errors.Conflict(f"{display_path(parts)} is not a regular file; choose another path")
            mode = stat.S_IMODE(st.st_mode)
        temp_name = TEMP_PREFIX + secrets.token_hex(8)
        try:
            temp_fd = os.open(temp_name, _TEMP_FLAGS, mode, dir_fd=parent_fd)
        except OSError as exc:
            raise _os_error(parts, exc) from None
        if st is not None:
            with contextlib.suppress(OSError):
                os.fchmod(temp_fd, mode)  # the umask may have narrowed it; keep the file's own mode
    except BaseException:
        os.close(parent_fd)
        _close_created(created, remove=True)
        raise
    return PendingWrite(parts, parent_fd, temp_name, temp_fd, created)


def _open_parent_creating(root_fd: int, parts: tuple[str, ...], created: list[tuple[int, str]]) -> int:
    """Like ``_open_dir(create=True)``, remembering each directory it made so an abort can remove it."""
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts):
            here = parts[: depth + 1]
            existed = _lstat(fd, name) is not None
            try:
                next_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                next_fd = _open_dir_after_error(fd, name, here, exc, create=True, role="directory")
            if not existed:
                created.append((fd, name))  # keep fd open: abort removes ``name`` relative to it
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


def write_file(root: Path, path: str, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``path`` atomically (see ``begin_write``); answers the number of bytes written."""
    with begin_write(root, path) as pending:
        for chunk in chunks:
            pending.write(chunk)
        pending.commit()
        return pending.bytes_written


# --- moving --------------------------------------------------------------------------------------

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
    if _lstat(dst_fd, dst_name) is not None:
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
    root_fd = _open_root(root)
    src_fd = dst_fd = -1
    try:
        src_fd = _open_dir(root_fd, src[:-1], role="directory holding 'from'")
        st = _lstat(src_fd, src[-1])
        if st is None:
            raise errors.NotFound(f"nothing to move: {display_path(src)} does not exist in this volume")
        if stat.S_ISLNK(st.st_mode):
            raise _symlink_error(src)
        try:
            dst_fd = _open_dir(root_fd, dst[:-1], role="destination's parent directory")
        except errors.NotFound as exc:
            raise errors.NotFound(
                f"{exc.message}; a move does not create directories: create it first "
                "(for example by writing a file into it) or choose another destination"
            ) from None
        if _lstat(dst_fd, dst[-1]) is not None:
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
            raise _os_error(src, exc) from None
        with contextlib.suppress(OSError):  # moved already; this only makes it survive a crash
            os.fsync(src_fd)
            os.fsync(dst_fd)
    finally:
        for fd in (root_fd, src_fd, dst_fd):
            if fd >= 0:
                os.close(fd)

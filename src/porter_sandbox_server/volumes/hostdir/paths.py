"""Safe paths inside a volume directory: split a client's path, walk it with descriptors, never follow a link.

The host-directory backend's file operations (``listing``, ``reading``,
``writing``) all reach files through here. Every failure is raised as an
``errors.ApiError`` whose message says what to do.

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
file with ``O_CREAT | O_EXCL | O_NOFOLLOW`` in the server's own staging
directory, outside every volume, and rename it into the target's directory
descriptor; renames name both ends relative to directory descriptors, and a
rename never follows a final symbolic link.

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

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ... import errors

#: How many entries one listing answers at most, over the whole nested tree.
DEFAULT_MAX_ENTRIES = 1000
#: How many directory entries a search examines at most before it answers what it found.
DEFAULT_MAX_SCANNED = 100_000
#: Uploads are written to ``<staging directory>/<TEMP_PREFIX><random>`` and renamed into place.
TEMP_PREFIX = ".porter-upload-"

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


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


def symlink_error(parts: tuple[str, ...]) -> errors.BadRequest:
    return errors.BadRequest(
        f"{display_path(parts)} is a symbolic link; the volume files API never follows symbolic links "
        "(a sandbox may have planted it): name the real file instead"
    )


def os_error(parts: tuple[str, ...], exc: OSError) -> errors.ApiError:
    """An API error for an unexpected failure on a volume path (permissions changed by a sandbox, a full disk)."""
    if exc.errno in NO_SPACE:
        return errors.InsufficientStorage(
            "the volume's disk is full; nothing was written: free some space (delete files or volumes) and retry"
        )
    if exc.errno == errno.ENAMETOOLONG:
        return errors.BadRequest(f"the path {display_path(parts)} is too long; use a shorter one")
    return errors.Conflict(f"cannot use {display_path(parts)}: {exc.strerror or exc}")


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    """``lstat`` of ``name`` in a directory descriptor; ``None`` when it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def open_root(root: Path) -> int:
    """A descriptor of the volume's own directory (a path the server made, so followed as is)."""
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise errors.NotFound(
            "the volume's directory is missing on the server; delete the volume and create it again"
        ) from None


def open_dir(root_fd: int, parts: tuple[str, ...], *, role: str = "directory") -> int:
    """Open the directory ``parts`` below ``root_fd`` one component at a time, never following a link.

    A missing directory, or a file in the way, is a 404 that names ``role``; a
    symbolic link anywhere is a 400. The caller closes the answered descriptor.
    """
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts):
            here = parts[: depth + 1]
            try:
                next_fd = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                next_fd = open_dir_after_error(fd, name, here, exc, create=False, role=role)
            os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_dir_after_error(fd: int, name: str, here: tuple[str, ...], exc: OSError, *, create: bool, role: str) -> int:
    """Explain why ``name`` could not be opened as a directory, or (with ``create``) make it and open it.

    With ``create`` a file in the way is a 409; without it a 404 that names ``role``.
    """
    st = lstat_at(fd, name)
    if st is None:
        if not create:
            raise errors.NotFound(f"the {role} {display_path(here)} does not exist in this volume") from None
        try:
            os.mkdir(name, 0o777, dir_fd=fd)
        except FileExistsError:
            pass  # made by someone else meanwhile: open whatever is there, safely
        except OSError as mkdir_exc:
            raise os_error(here, mkdir_exc) from None
        try:
            return os.open(name, DIR_FLAGS, dir_fd=fd)
        except OSError as again:
            return open_dir_after_error(fd, name, here, again, create=False, role=role)
    if stat.S_ISLNK(st.st_mode):
        raise symlink_error(here) from None
    if not stat.S_ISDIR(st.st_mode):
        if create:
            raise errors.Conflict(
                f"{display_path(here)} is a file, so nothing can be written below it; "
                "move or replace that file, or choose another path"
            ) from None
        raise errors.NotFound(f"the {role} {display_path(here)} is a file, not a directory") from None
    raise os_error(here, exc) from None

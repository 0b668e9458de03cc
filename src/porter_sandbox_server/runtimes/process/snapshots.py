"""Filesystem snapshots of process-runtime sandboxes: safe copies of their scratch space.

A sandbox's writable state is its scratch directory's ``tmp``, ``workspace``
and ``home`` (everything else it sees is the host's read-only system or a
volume, which a snapshot does not hold). A snapshot is a copy of those three
trees in ``<data dir>/snapshots/<id>/``; a sandbox started from it gets a
copy of that copy, so neither can change the other.

Everything in a scratch tree was put there by code we do not trust, and the
copy runs as the server's user, so it never follows what the sandbox made:

- the walk holds each directory open and opens what is in it relative to
  that descriptor with ``O_NOFOLLOW``, checking that what it opened is what
  it listed: a directory swapped for a symlink mid-walk (to ``/etc``, say)
  fails the snapshot instead of copying host files into it;
- a symlink is copied as a symlink, its target text unchanged; it still
  resolves only inside a sandbox's own view;
- regular files, directories, symlinks and FIFOs are copied with their
  owners, modes and times (owners matter where sandboxes run as a mapped
  user); the set-user-ID and set-group-ID bits are dropped (meaningless under
  ``no_new_privs``, and not worth keeping on the host's disk); sockets and
  device nodes are left out;
- a file with several hard links is copied once and linked again, so hard
  links cannot multiply what a snapshot stores;
- directories nested deeper than ``MAX_DEPTH`` fail the snapshot.

The copy is consistent when the sandbox is frozen meanwhile (its freezer
cgroup). Where it cannot be frozen, ``capture_verified`` copies, then checks
that nothing changed while it copied (each entry's inode, size, and change
time, which no program can set back), and copies again when something did.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..base import SnapshotFailed

#: The scratch directories a snapshot holds: the sandbox's /tmp, /workspace and home.
SCRATCH_DIRS = ("tmp", "workspace", "home")
MAX_DEPTH = 256
#: How often ``capture_verified`` copies a sandbox that keeps changing before giving up.
VERIFY_ATTEMPTS = 3
_COPY_CHUNK = 1 << 30

#: (device, inode, size, change time) of every entry copied, by path; what ``capture_verified`` compares.
Manifest = dict[str, tuple[int, int, int, int]]


@dataclass
class _Copy:
    """One copy in progress: what it copied so far."""

    size: int = 0
    #: (device, inode) of multiply linked files copied -> where the copy is.
    linked: dict[tuple[int, int], str] = field(default_factory=dict)
    manifest: Manifest = field(default_factory=dict)


def _open_dir(name: str, dir_fd: int | None, expected: os.stat_result) -> int:
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (expected.st_dev, expected.st_ino):
        os.close(fd)
        raise SnapshotFailed("a directory changed while the sandbox was being captured; try again")
    return fd


def _keep_metadata(target: str, info: os.stat_result, *, link: bool = False) -> None:
    os.chown(target, info.st_uid, info.st_gid, follow_symlinks=False)
    if not link:
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISREG(info.st_mode):
            mode &= ~(stat.S_ISUID | stat.S_ISGID)
        os.chmod(target, mode)
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)


def _copy_data(source: int, out: int, size: int) -> None:
    """Copy a file's data extents only: a sparse file (``truncate -s 1T``) stays sparse instead of filling the disk."""
    position = 0
    while position < size:
        try:
            start = os.lseek(source, position, os.SEEK_DATA)
            end = os.lseek(source, start, os.SEEK_HOLE)
        except OSError as error:
            # Only a hole is left, or the file shrank past this point meanwhile (a verified
            # capture notices the change and copies again).
            if error.errno == errno.ENXIO:
                break
            raise
        offset_in, offset_out = start, start
        while offset_in < end:
            copied = os.copy_file_range(source, out, min(end - offset_in, _COPY_CHUNK), offset_in, offset_out)
            if copied == 0:
                break  # the file shrank meanwhile
            offset_in += copied
            offset_out += copied
        position = end
    os.ftruncate(out, size)


def _copy_file(name: str, dir_fd: int, target: str, info: os.stat_result, copy: _Copy) -> None:
    key = (info.st_dev, info.st_ino)
    if info.st_nlink > 1 and key in copy.linked:
        os.link(copy.linked[key], target, follow_symlinks=False)
        return
    # O_NONBLOCK: were it swapped for a FIFO since it was listed, opening must not hang.
    source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        opened = os.fstat(source)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != key:
            raise SnapshotFailed("a file changed while the sandbox was being captured; try again")
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            _copy_data(source, out, opened.st_size)
        finally:
            os.close(out)
    finally:
        os.close(source)
    copy.size += opened.st_size
    if info.st_nlink > 1:
        copy.linked[key] = target
    _keep_metadata(target, info)


def _copy_dir(dir_fd: int, target: str, relative: str, depth: int, copy: _Copy) -> None:
    if depth > MAX_DEPTH:
        raise SnapshotFailed(
            f"the sandbox has directories nested deeper than {MAX_DEPTH} levels, which are not captured"
        )
    with os.scandir(dir_fd) as entries:
        listed = sorted(entries, key=lambda entry: entry.name)
    for entry in listed:
        name = entry.name
        info = entry.stat(follow_symlinks=False)
        path = os.path.join(target, name)
        where = f"{relative}/{name}"
        kind = stat.S_IFMT(info.st_mode)
        if kind == stat.S_IFDIR:
            child = _open_dir(name, dir_fd, info)
            try:
                os.mkdir(path, 0o700)
                _copy_dir(child, path, where, depth + 1, copy)
            finally:
                os.close(child)
            # After its entries: a read-only directory could not be filled, and filling it moves its mtime.
            _keep_metadata(path, info)
        elif kind == stat.S_IFREG:
            _copy_file(name, dir_fd, path, info, copy)
        elif kind == stat.S_IFLNK:
            os.symlink(os.readlink(name, dir_fd=dir_fd), path)
            _keep_metadata(path, info, link=True)
        elif kind == stat.S_IFIFO:
            os.mkfifo(path, 0o600)
            _keep_metadata(path, info)
        else:
            continue  # sockets and device nodes: nothing a new sandbox could use
        copy.manifest[where] = (info.st_dev, info.st_ino, info.st_size, info.st_ctime_ns)


def copy_tree(source: Path, destination: Path) -> tuple[int, Manifest]:
    """Copy the directory ``source`` to ``destination`` (which must not exist), never following a link.

    Answers the bytes of file content copied (each multiply linked file once)
    and the manifest of what was copied.
    """
    copy = _Copy()
    info = os.stat(source, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        raise SnapshotFailed(f"{source.name} is not a directory; the sandbox's scratch space is damaged")
    fd = _open_dir(str(source), None, info)
    try:
        os.mkdir(destination, 0o700)
        _copy_dir(fd, str(destination), "", 0, copy)
    finally:
        os.close(fd)
    _keep_metadata(str(destination), info)
    copy.manifest[""] = (info.st_dev, info.st_ino, info.st_size, info.st_ctime_ns)
    return copy.size, copy.manifest


def _manifest(directory: Path) -> Manifest:
    """What ``copy_tree`` would record for ``directory`` now, reading metadata only."""
    found: Manifest = {}

    def walk(dir_fd: int, relative: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise SnapshotFailed(f"the sandbox has directories nested deeper than {MAX_DEPTH} levels")
        with os.scandir(dir_fd) as entries:
            listed = list(entries)
        for entry in listed:
            info = entry.stat(follow_symlinks=False)
            kind = stat.S_IFMT(info.st_mode)
            if kind not in (stat.S_IFDIR, stat.S_IFREG, stat.S_IFLNK, stat.S_IFIFO):
                continue
            where = f"{relative}/{entry.name}"
            found[where] = (info.st_dev, info.st_ino, info.st_size, info.st_ctime_ns)
            if kind == stat.S_IFDIR:
                child = _open_dir(entry.name, dir_fd, info)
                try:
                    walk(child, where, depth + 1)
                finally:
                    os.close(child)

    info = os.stat(directory, follow_symlinks=False)
    fd = _open_dir(str(directory), None, info)
    try:
        walk(fd, "", 0)
    finally:
        os.close(fd)
    found[""] = (info.st_dev, info.st_ino, info.st_size, info.st_ctime_ns)
    return found


def capture(scratch: Path, staging: Path) -> int:
    """Copy a sandbox's scratch trees into ``staging`` (made here); answer the bytes captured."""
    os.mkdir(staging, 0o700)
    size = 0
    for name in SCRATCH_DIRS:
        copied, _ = copy_tree(scratch / name, staging / name)
        size += copied
    return size


def capture_verified(scratch: Path, staging: Path) -> int:
    """``capture`` for a sandbox that keeps running: copy until a copy saw nothing change."""
    for _ in range(VERIFY_ATTEMPTS):
        os.mkdir(staging, 0o700)
        size = 0
        manifests: dict[str, Manifest] = {}
        for name in SCRATCH_DIRS:
            copied, manifests[name] = copy_tree(scratch / name, staging / name)
            size += copied
        if all(_manifest(scratch / name) == manifests[name] for name in SCRATCH_DIRS):
            return size
        shutil.rmtree(staging)
    raise SnapshotFailed(
        f"the sandbox kept changing its files during {VERIFY_ATTEMPTS} attempts to capture them; "
        "try again when it is quieter"
    )


def restore(snapshot: Path, scratch: Path) -> None:
    """Fill a new sandbox's scratch directory (made here) from a snapshot."""
    if not snapshot.is_dir():
        raise FileNotFoundError(f"the snapshot's files are gone from {snapshot}")
    scratch.mkdir(parents=True, exist_ok=True)
    for name in SCRATCH_DIRS:
        copy_tree(snapshot / name, scratch / name)


def remove(path: Path) -> None:
    """Delete a snapshot's directory (renamed aside first, so a crash leaves no half-deleted snapshot)."""
    doomed = path.with_name(path.name + ".deleting")
    with contextlib.suppress(FileNotFoundError):
        os.rename(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)

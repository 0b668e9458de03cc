"""Listing a volume directory: a nested tree, breadth-first, within an entry budget; optionally searched."""

from __future__ import annotations

import heapq
import os
import stat
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ... import errors
from ..base import FileEntry, Listing
from .paths import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_SCANNED,
    display_path,
    lstat_at,
    open_dir,
    open_root,
    split_path,
)

#: ``children_of(relative_dir, limit)`` -> (up to ``limit`` entries in order, whether more were left out).
_ChildrenOf = Callable[[tuple[str, ...], int], tuple[list[FileEntry], bool]]


def _usable(entry: os.DirEntry[str]) -> bool:
    """Whether a listing shows this entry: regular files and directories with UTF-8 names."""
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
    root_fd = open_root(root)
    try:
        base_fd = open_dir(root_fd, parts)
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
    root_fd = open_root(root)
    try:
        parent_fd = open_dir(root_fd, parts[:-1])
    except errors.ApiError:
        return None
    finally:
        os.close(root_fd)
    try:
        return lstat_at(parent_fd, parts[-1])
    finally:
        os.close(parent_fd)


def _disk_children(base_fd: int) -> _ChildrenOf:
    """Read each directory from disk when the walk reaches it, re-opened safely from ``base_fd``."""

    def children_of(relative: tuple[str, ...], limit: int) -> tuple[list[FileEntry], bool]:
        try:
            fd = open_dir(base_fd, relative)
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
            fd = open_dir(base_fd, relative)
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

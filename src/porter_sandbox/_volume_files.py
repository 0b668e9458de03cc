"""Decisions about a volume's files, shared by ``Volume`` and ``AsyncVolume``: paths, listings, ranges, uploads.

- Paths are relative to the volume root; the SDK sends them with a leading
  ``/`` and leaves ``..`` and the like for the server to refuse.
- A listing is a nested tree cut off at an entry budget; :class:`ListingWalk`
  flattens it and says which directories still need a listing of their own.
- Reads go by ``Range``; :class:`RangedRead` checks that every part is the part
  asked for, of the same file, so a stream never ends short without an error.
- Uploads of seekable files are replayable: each attempt starts again from
  the position the file had when ``write_file`` was called.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Final

from ._enums import VolumeFileEntryType, member
from ._exceptions import SandboxError
from ._models import VolumeFile

if TYPE_CHECKING:
    from collections.abc import Mapping

    from porter_sandbox_api.models import VolumeFileEntry, VolumeFilesResponse

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "AsyncUpload",
    "ListingWalk",
    "RangedRead",
    "SyncUpload",
    "file_path",
    "read_range",
    "upload_body",
]

logger = logging.getLogger("porter_sandbox")

DEFAULT_CHUNK_SIZE: Final = 8 * 1024 * 1024  # Porter's published client reads 8 MiB a request too
_UPLOAD_CHUNK: Final = 256 * 1024
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$")


def file_path(path: str) -> str:
    """``path`` from the volume root, with a leading ``/``."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"expected a path in the volume, such as '/data/out.csv', not {path!r}")
    return "/" + path.strip().lstrip("/")


def read_range(offset: int, length: int | None) -> str | None:
    """The ``Range`` header for ``length`` bytes from ``offset`` (to the end when ``None``); ``None`` for all."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a whole number 0 or more, not {offset!r}")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 0):
        raise ValueError(f"length must be a whole number 0 or more, or None for the rest, not {length!r}")
    if length is None:
        return None if offset == 0 else f"bytes={offset}-"
    return f"bytes={offset}-{offset + length - 1}"


def parse_content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    """``(start, end, size)`` from ``Content-Range: bytes a-b/size`` (or ``bytes */size``); ``None`` for unknowns."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None, None, None
    start, end, size = match.groups()
    return (
        int(start) if start is not None else None,
        int(end) if end is not None else None,
        int(size) if size not in (None, "*") else None,
    )


def _volume_file(entry: VolumeFileEntry, parent: str) -> VolumeFile:
    from porter_sandbox_api.types import Unset

    path = posixpath.join(parent, entry.name)
    children = () if isinstance(entry.entries, Unset) else tuple(_volume_file(child, path) for child in entry.entries)
    return VolumeFile(
        name=entry.name,
        path=path,
        type=member(VolumeFileEntryType, entry.type_),
        size_bytes=entry.size_bytes,
        modified_at=None if isinstance(entry.modified_at, Unset) else entry.modified_at,
        truncated=entry.truncated is True,
        entries=children,
    )


def listing_entries(answer: VolumeFilesResponse, requested: str) -> list[VolumeFile]:
    """The entries a listing shows directly under the listed directory, each with its nested entries."""
    base = file_path(answer.path) if answer.path else requested
    entries = [_volume_file(entry, base) for entry in answer.entries]
    if answer.truncated and not any(_cut_below(entry) for entry in entries):
        # Nothing below was marked cut off, so the listed directory itself holds more than one listing
        # answers, and the API has no way to ask for the rest.
        logger.warning(
            "the listing of %s shows only its first %d entries: the directory holds more than the server lists at once",
            base,
            len(entries),
        )
    return entries


def _cut_below(entry: VolumeFile) -> bool:
    return entry.truncated or any(_cut_below(child) for child in entry.entries)


@dataclass
class ListingWalk:
    """Walks a volume's tree across as many listings as it takes, listing each directory at most once.

    Feed it each listing's answer with :meth:`take`; it answers the entries to
    yield, breadth first, and queues the directories the listing cut off.
    """

    root: str
    pending: deque[str] = field(default_factory=deque)
    listed: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.pending.append(self.root)

    def next_directory(self) -> str | None:
        """The next directory to list, or ``None`` when the walk is done."""
        while self.pending:
            directory = self.pending.popleft()
            if directory not in self.listed:
                self.listed.add(directory)
                return directory
        return None

    def take(self, answer: VolumeFilesResponse, requested: str) -> list[VolumeFile]:
        """The entries of this listing not yielded before, breadth first; queue the directories it cut off."""
        from porter_sandbox_api.types import Unset

        out: list[VolumeFile] = []
        level = deque(listing_entries(answer, requested))
        raw = deque(answer.entries)
        while level:
            entry, source = level.popleft(), raw.popleft()
            if entry.path not in self.seen:
                self.seen.add(entry.path)
                out.append(entry)
            if entry.is_directory:
                # Not shown at all, or cut off: it needs a listing of its own.
                if source.truncated is True or isinstance(source.entries, Unset):
                    self.pending.append(entry.path)
                else:
                    level.extend(entry.entries)
                    raw.extend(source.entries)
        return out


@dataclass
class RangedRead:
    """The state of a stream of ranged reads of one file; checks each part so nothing is silently lost."""

    path: str
    chunk_size: int
    offset: int = 0
    size: int | None = None
    modified: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a whole number of bytes, 1 or more, not {self.chunk_size!r}")

    def next_range(self) -> str | None:
        """The ``Range`` header of the next part, or ``None`` when the whole file has been read."""
        if self.size is not None and self.offset >= self.size:
            return None
        return f"bytes={self.offset}-{self.offset + self.chunk_size - 1}"

    def take(self, status: int, headers: Mapping[str, str], content: bytes) -> bytes:
        """Check one answer against what was asked for; answer its bytes and move on past them."""
        start, end, size = parse_content_range(headers.get("content-range"))
        self._same_file(headers.get("last-modified"), size)
        if status == 416:
            if self.offset == 0 and size == 0:
                self.size = 0
                return b""
            raise self._changed(f"the server could not serve bytes from {self.offset}")
        if status == 200:
            if self.offset != 0:
                raise self._changed("the server answered the whole file to a ranged read")
            self.size = self.offset = len(content)
            return content
        if start != self.offset or end is None or size is None or len(content) != end - start + 1:
            raise self._changed(
                f"asked for bytes from {self.offset}, got Content-Range {headers.get('content-range')!r} "
                f"with {len(content)} bytes"
            )
        self.offset = end + 1
        return content

    def _same_file(self, modified: str | None, size: int | None) -> None:
        if size is not None:
            if self.size is not None and size != self.size:
                raise self._changed(f"its size went from {self.size} to {size} bytes")
            self.size = size
        if modified is not None:
            if self.modified is not None and modified != self.modified:
                raise self._changed("it was written again")
            self.modified = modified

    def _changed(self, detail: str) -> SandboxError:
        return SandboxError(
            f"stopped streaming {self.path!r} after {self.offset} bytes: {detail} while it was being read; read it again"
        )


class SyncUpload:
    """A request body that streams a binary file in chunks; seekable files start over on every attempt."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._start = _start_position(file)
        self._sent = False

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again from its start (the file is seekable)."""
        return self._start is not None

    def __iter__(self) -> Iterator[bytes]:
        if self._start is not None:
            self._file.seek(self._start)
        elif self._sent:
            raise SandboxError("cannot send a non-seekable file twice; pass bytes or a seekable file")
        self._sent = True
        while chunk := self._file.read(_UPLOAD_CHUNK):
            yield _as_bytes(chunk)


class AsyncUpload:
    """The async twin of :class:`SyncUpload` (the file is read in the event loop's thread: keep it local)."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._start = _start_position(file)
        self._sent = False

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again from its start (the file is seekable)."""
        return self._start is not None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._start is not None:
            self._file.seek(self._start)
        elif self._sent:
            raise SandboxError("cannot send a non-seekable file twice; pass bytes or a seekable file")
        self._sent = True
        while chunk := self._file.read(_UPLOAD_CHUNK):
            yield _as_bytes(chunk)


def upload_body(data: bytes | bytearray | memoryview | IO[bytes], *, asynchronous: bool) -> tuple[object, bool]:
    """The request body for ``write_file`` and whether it can be replayed on a retry."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), True
    if isinstance(data, str):
        raise TypeError("write_file takes bytes or a binary file; use write_text for a str")
    if isinstance(data, io.TextIOBase):
        raise TypeError("write_file needs a file opened in binary mode ('rb'); use write_text for text")
    if not callable(getattr(data, "read", None)):
        raise TypeError(f"write_file takes bytes or a binary file object, not {type(data).__name__}")
    upload: SyncUpload | AsyncUpload = AsyncUpload(data) if asynchronous else SyncUpload(data)
    return upload, upload.replayable


def _start_position(file: IO[bytes]) -> int | None:
    try:
        if not file.seekable():
            return None
        return file.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, str):
        raise TypeError("write_file needs a file opened in binary mode ('rb'); use write_text for text")
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise TypeError(f"the file's read() answered {type(chunk).__name__}, not bytes")
    return bytes(chunk)

"""The values SDK calls answer: command results, log lines, pages, counts, files, health.

Where Porter's published client names the same value differently, its name
is an alias here (``ExecResponse`` is :class:`ExecResult`), so code written
for it imports what it expects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar, overload

from ._enums import FilterValuesResponsePhases, LogLineLevel, VolumeFileEntryType
from ._exceptions import CommandError

__all__ = [
    "CountPoint",
    "ExecEvent",
    "ExecResponse",
    "ExecResult",
    "ExecTarget",
    "FilterValuesResponse",
    "Health",
    "HealthResponse",
    "LogLine",
    "ProcessOutput",
    "Readiness",
    "ReadinessResponse",
    "SandboxCounts",
    "SandboxPage",
    "VolumeFile",
]

H = TypeVar("H")


@dataclass(frozen=True)
class ExecResult:
    """What a command run with ``sandbox.exec()`` printed, and how it exited."""

    stdout: str
    """Everything the command wrote to standard output."""
    stderr: str
    """Everything the command wrote to standard error."""
    exit_code: int
    """Its exit code: 0 for success; 127 when the program does not exist."""
    exec_id: str | None = None
    """The id of this exec, which its log lines carry (``LogLine.exec_id``)."""
    command: tuple[str, ...] | None = field(default=None, compare=False)
    """The command that ran."""
    timed_out: bool = False
    """Whether its ``timeout=`` ran out on the server, which killed its whole process group."""
    stdout_bytes: bytes | None = field(default=None, repr=False)
    """Exactly the bytes it wrote to standard output, when the server sent bytes (an exec with options:
    ``stdin=``, ``cwd=``, ``env=``, ``timeout=``, callbacks); ``None`` from a plain exec, which answers text."""
    stderr_bytes: bytes | None = field(default=None, repr=False)
    """Exactly the bytes it wrote to standard error, as ``stdout_bytes``."""

    @property
    def ok(self) -> bool:
        """Whether the command exited 0."""
        return self.exit_code == 0

    def check(self) -> ExecResult:
        """Answer this result when the command exited 0; raise :class:`CommandError` (with the output) otherwise."""
        if self.exit_code != 0:
            raise CommandError(self, self.command)
        return self


ExecResponse = ExecResult
"""The published client's name for :class:`ExecResult`."""


@dataclass(frozen=True)
class ExecEvent:
    """One event of ``sandbox.exec_stream()``: a piece of output as it was written, or the command's end."""

    kind: Literal["stdout", "stderr", "exit"]
    """``stdout`` or ``stderr`` (a piece of output), or ``exit`` (the last event)."""
    data: bytes = b""
    """The piece's bytes, exactly as written."""
    text: str = ""
    """The piece as text (UTF-8; a character split between pieces comes whole in the later one)."""
    exit_code: int | None = None
    """The command's exit code (``exit``)."""
    timed_out: bool = False
    """Whether its ``timeout=`` ran out and the server killed its whole process group (``exit``)."""


@dataclass(frozen=True)
class ProcessOutput:
    """What a background process wrote, from ``process.output()``: as much as the server keeps of each stream."""

    stdout_bytes: bytes
    """The bytes of standard output from ``stdout_offset`` (or, where older ones were dropped, from the oldest kept)."""
    stderr_bytes: bytes
    """The bytes of standard error, as ``stdout_bytes``."""
    stdout_offset: int = 0
    """Where ``stdout_bytes`` starts in everything it wrote to stdout."""
    stderr_offset: int = 0
    """Where ``stderr_bytes`` starts in everything it wrote to stderr."""
    stdout_dropped: int = 0
    """Bytes of stdout between the offset asked for and ``stdout_offset`` that the server no longer kept."""
    stderr_dropped: int = 0
    """Bytes of stderr the server no longer kept, as ``stdout_dropped``."""

    @property
    def stdout(self) -> str:
        """Standard output as text (UTF-8, invalid bytes replaced)."""
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        """Standard error as text (UTF-8, invalid bytes replaced)."""
        return self.stderr_bytes.decode("utf-8", "replace")

    @property
    def next_stdout_offset(self) -> int:
        """The ``stdout_offset`` to ask for next, to read on from here."""
        return self.stdout_offset + len(self.stdout_bytes)

    @property
    def next_stderr_offset(self) -> int:
        """The ``stderr_offset`` to ask for next."""
        return self.stderr_offset + len(self.stderr_bytes)


@dataclass(frozen=True)
class LogLine:
    """One line a sandbox's main process or one of its execs wrote."""

    timestamp: datetime
    """When the line was written."""
    line: str
    """The line, without its newline."""
    level: LogLineLevel
    """``info`` for standard output, ``error`` for standard error (``warning`` from some servers)."""
    exec_id: str
    """The exec that wrote it; ``""`` for the main process."""


@dataclass(frozen=True)
class SandboxPage(Sequence[H], Generic[H]):
    """One page of ``sandboxes.list()``: a sequence of sandbox handles, newest first, and where it is among pages."""

    sandboxes: list[H]
    """The sandboxes on this page."""
    page: int
    """This page's number, from 1."""
    total_pages: int
    """How many pages there are."""
    has_next_page: bool
    """Whether another page follows this one."""
    filter_values: FilterValuesResponse | None = None
    """The values the filters can take among all sandboxes, when asked for with ``include_filter_values=True``."""

    @overload
    def __getitem__(self, index: int) -> H: ...
    @overload
    def __getitem__(self, index: slice) -> list[H]: ...
    def __getitem__(self, index: int | slice) -> H | list[H]:
        """The sandbox at ``index`` on this page."""
        return self.sandboxes[index]

    def __len__(self) -> int:
        """How many sandboxes are on this page."""
        return len(self.sandboxes)

    def __iter__(self) -> Iterator[H]:
        """The sandboxes on this page, newest first."""
        return iter(self.sandboxes)


@dataclass(frozen=True)
class FilterValuesResponse:
    """The values ``sandboxes.list()``'s filters can take among all sandboxes (``include_filter_values=True``)."""

    tags: list[str]
    """Every tag in use, as ``key=value``."""
    images: list[str]
    """Every image in use."""
    phases: list[FilterValuesResponsePhases]
    """Every phase the ``phase`` filter takes."""


@dataclass(frozen=True)
class ExecTarget:
    """Where an interactive exec into a sandbox would go (``sandbox.exec_target``)."""

    namespace: str
    """The namespace the sandbox runs in."""
    pod_name: str
    """The pod (or container) that runs it."""
    container_name: str
    """The container inside it."""


@dataclass(frozen=True)
class CountPoint:
    """How many matching sandboxes were created in one time bucket."""

    timestamp: datetime
    """The start of the bucket."""
    count: int
    """How many matching sandboxes were created in it."""


@dataclass(frozen=True)
class SandboxCounts:
    """Sandbox counts over time, from ``sandboxes.counts()``: one point per bucket, oldest first, no gaps."""

    points: list[CountPoint]
    """One point per bucket, oldest first."""
    granularity_ms: int
    """The width of each bucket in milliseconds."""

    @property
    def total(self) -> int:
        """The sum of the counts."""
        return sum(point.count for point in self.points)


@dataclass(frozen=True)
class VolumeFile:
    """A file or directory in a volume, from ``volume.listdir()``, ``iterdir()`` or ``search()``."""

    name: str
    """Its name in its directory."""
    path: str
    """Its path from the volume root, starting with ``/``."""
    type: VolumeFileEntryType
    """``file`` or ``directory``."""
    size_bytes: int
    """Its size in bytes; 0 for a directory."""
    modified_at: datetime | None = None
    """When it was last written, when the server says."""
    truncated: bool = False
    """For a directory: whether the listing left some of what it holds out (``iterdir()`` fetches the rest)."""
    entries: tuple[VolumeFile, ...] = ()
    """For a directory: what the listing showed of what it holds, directories first then files."""

    @property
    def is_file(self) -> bool:
        """Whether this is a file."""
        return self.type == "file"

    @property
    def is_directory(self) -> bool:
        """Whether this is a directory."""
        return self.type == "directory"


@dataclass(frozen=True)
class Health:
    """Whether the API process is up (``GET /healthz``)."""

    status: str
    """``ok`` when the process is up."""

    @property
    def ok(self) -> bool:
        """Whether the server said ``ok``."""
        return self.status == "ok"


HealthResponse = Health
"""The published client's name for :class:`Health`."""


@dataclass(frozen=True)
class Readiness:
    """Whether the API can run sandboxes now (``GET /readyz``)."""

    status: str
    """``ready`` when sandboxes can run; another word, saying why, while they cannot."""
    active_sandboxes: int
    """How many sandboxes are in a non-terminal phase."""
    ready: bool = True
    """Whether the server answered 2xx (ready) rather than 503 (not ready)."""


ReadinessResponse = Readiness
"""The published client's name for :class:`Readiness`."""

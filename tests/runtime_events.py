"""A ``RuntimeEvents`` that remembers what a runtime reported, for tests that drive runtimes directly."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from porter_sandbox_server.runtimes.base import SandboxExit, Stream


@dataclass
class Recorder:
    """RuntimeEvents that keep every line and exit, and the threads they were reported from."""

    lines: list[tuple[str, str, Stream, str]] = field(default_factory=list)
    ends: dict[str, SandboxExit] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)
    #: Off: count lines without keeping them (for floods).
    keep_lines: bool = True
    line_counts: dict[tuple[str, str, Stream], int] = field(default_factory=dict)
    #: What ``accepting_logs`` answers: off holds the runtime's readers back, as a full log backlog does.
    accepting: bool = True

    def log(self, sandbox_id: str, exec_id: str, stream: Stream, line: str) -> None:
        self.threads.add(threading.get_ident())
        key = (sandbox_id, exec_id, stream)
        self.line_counts[key] = self.line_counts.get(key, 0) + 1
        if self.keep_lines:
            self.lines.append((sandbox_id, exec_id, stream, line))
            self.order.append(f"log:{sandbox_id}")

    def exited(self, sandbox_id: str, end: SandboxExit) -> None:
        self.threads.add(threading.get_ident())
        assert sandbox_id not in self.ends, "exited reported twice"
        self.ends[sandbox_id] = end
        self.order.append(f"exit:{sandbox_id}")

    def accepting_logs(self) -> bool:
        return self.accepting

    def of(self, sandbox_id: str, exec_id: str, stream: Stream) -> list[str]:
        """The lines one process wrote to one stream."""
        return [line for sid, eid, s, line in self.lines if (sid, eid, s) == (sandbox_id, exec_id, stream)]

    def lines_of(self, sandbox_id: str, exec_id: str = "") -> list[tuple[Stream, str]]:
        """``(stream, line)`` of everything one process wrote."""
        return [(stream, line) for sid, eid, stream, line in self.lines if sid == sandbox_id and eid == exec_id]

    async def wait_end(self, sandbox_id: str, timeout: float = 30.0) -> SandboxExit:
        """Wait (bounded) for the runtime to report that the sandbox ended."""
        deadline = time.monotonic() + timeout
        while sandbox_id not in self.ends:
            assert time.monotonic() < deadline, f"{sandbox_id} never reported its end"
            await asyncio.sleep(0.01)
        return self.ends[sandbox_id]

    async def wait_exit(self, sandbox_id: str, timeout: float = 30.0) -> tuple[int | None, str | None]:
        """Wait (bounded) for the sandbox's end; answer its exit code and message."""
        end = await self.wait_end(sandbox_id, timeout)
        return end.exit_code, end.message

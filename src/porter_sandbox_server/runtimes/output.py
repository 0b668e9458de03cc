"""How much of a process's output a runtime holds and reports, whatever the process prints.

An exec's answer holds at most ``OutputLimits.exec_answer_bytes`` of each
stream (``CappedOutput``): past that, the output is read and thrown away, so
the server's memory stays flat, and the answer ends with a line that says how
much was cut (``truncation_note``). An exec's lines go to the sandbox's logs
only as far as its log retention would keep them (``LogBudget``): beyond
that they would evict themselves, so they are not sent at all, and one line
says so.
"""

from __future__ import annotations

from .base import OutputLimits, Stream


def truncation_note(stream: Stream, written: int, kept: int) -> str:
    """The line that ends an answer cut short: how much the command wrote, and how much is shown."""
    return (
        f"[porter-sandbox: output truncated: the command wrote {written} bytes to {stream}; "
        f"this answer holds the first {kept} (serve --max-exec-output)]\n"
    )


class CappedOutput:
    """One stream of an exec's output: keeps the first ``limit`` bytes, counts the rest."""

    def __init__(self, stream: Stream, limit: int) -> None:
        self.stream = stream
        self._limit = max(limit, 0)
        self._kept = bytearray()
        #: Every byte the process wrote to this stream, kept or not.
        self.written = 0

    def add(self, data: bytes) -> None:
        """Take the next bytes of the stream."""
        self.written += len(data)
        room = self._limit - len(self._kept)
        if room > 0:
            self._kept += data[:room] if len(data) > room else data

    def kept(self) -> bytes:
        """The bytes kept, as written (without a note)."""
        return bytes(self._kept)

    @property
    def truncated(self) -> bool:
        """Whether the stream held more than the answer keeps."""
        return self.written > len(self._kept)

    def text(self) -> str:
        """What the answer shows: the kept bytes as UTF-8 (invalid bytes replaced), then the note if cut."""
        if not self.truncated:
            return self._kept.decode("utf-8", "replace")
        kept = bytes(self._kept[: _utf8_boundary(self._kept)])
        text = kept.decode("utf-8", "replace")
        separator = "" if not text or text.endswith("\n") else "\n"
        return text + separator + truncation_note(self.stream, self.written, len(kept))


def _utf8_boundary(data: bytearray) -> int:
    """Where to cut ``data`` so that its last UTF-8 character is whole."""
    end = len(data)
    # Step back over continuation bytes (10xxxxxx), then drop a lead byte whose character is incomplete.
    cut = end
    while cut > 0 and end - cut < 3 and 0x80 <= data[cut - 1] < 0xC0:
        cut -= 1
    if cut > 0 and data[cut - 1] >= 0xC0:
        lead = data[cut - 1]
        size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if end - (cut - 1) < size:
            return cut - 1
    return end


class LogBudget:
    """What one exec may still send to the logs: lines and bytes, shared by its two streams."""

    def __init__(self, limits: OutputLimits) -> None:
        self._limits = limits
        self._lines = limits.exec_log_lines
        self._bytes = limits.exec_log_bytes
        self._spent = False
        self._noted = False

    def take(self, line: str) -> bool:
        """Whether ``line`` may be logged (and count it); False from the first line that does not fit."""
        if self._spent:
            return False
        size = len(line) if line.isascii() else len(line.encode("utf-8", "replace"))
        if self._lines < 1 or size > self._bytes:
            self._spent = True
            return False
        self._lines -= 1
        self._bytes -= size
        return True

    def spent(self) -> bool:
        """Whether a line has not fitted: nothing more of this exec is logged."""
        return self._spent

    def note(self) -> str | None:
        """The log line that says the rest of the exec's output is not logged; ``None`` once it was said."""
        if self._noted:
            return None
        self._noted = True
        return (
            f"[porter-sandbox: the rest of this exec's output is not logged: an exec logs at most "
            f"{self._limits.exec_log_lines} lines or {self._limits.exec_log_bytes} bytes, as much as the "
            "sandbox's log keeps]"
        )

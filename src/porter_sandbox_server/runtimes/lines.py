"""One way to cut a sandbox's output into log lines, for every runtime.

Output arrives in chunks that split lines (and UTF-8 characters) anywhere.
``LineSplitter`` gathers them into lines: each ends at ``\\n`` (a ``\\r``
before it is dropped), is decoded as UTF-8 with invalid bytes replaced, and
a line longer than ``MAX_LINE`` bytes without a newline is cut into pieces
of that size, so one endless line cannot hold memory.
"""

from __future__ import annotations

#: Longest line kept whole, in bytes; longer output without a newline is reported in pieces.
MAX_LINE = 64 * 1024


class LineSplitter:
    """Splits one stream's bytes into decoded lines (without their newlines)."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._partial = b""
        self._max_line = max_line

    def feed(self, data: bytes) -> list[str]:
        """The lines that ``data`` completes."""
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        lines = [_decode(piece) for piece in pieces]
        while len(self._partial) > self._max_line:
            cut = _boundary(self._partial, self._max_line)
            lines.append(_decode(self._partial[:cut], strip_cr=False))
            self._partial = self._partial[cut:]
        return lines

    def flush(self) -> list[str]:
        """What is left once the stream ended: the last line, if it had no newline."""
        rest, self._partial = self._partial, b""
        return [_decode(rest)] if rest else []


def _decode(line: bytes, strip_cr: bool = True) -> str:
    if strip_cr and line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", "replace")


def _boundary(data: bytes, limit: int) -> int:
    """Where to cut ``data`` at most ``limit`` bytes in, without splitting a UTF-8 character."""
    cut = limit
    # Step back over continuation bytes (10xxxxxx), at most three: a character is at most four bytes.
    while cut > limit - 3 and 0x80 <= data[cut] < 0xC0:
        cut -= 1
    return cut

"""The ``Range`` header of a file read: one byte range, or a 400/416 that says what to send."""

from __future__ import annotations

import re

from .. import errors

#: One byte range, as RFC 9110 writes it (ASCII digits only; the unit is case-insensitive).
_RANGE = re.compile(r"\s*[bB][yY][tT][eE][sS]\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*")
#: Positions of more digits than this lie beyond any file (2**63 has 19).
_MAX_DIGITS = 19
_BEYOND_ANY_FILE = 2**63


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range ``(first, last)`` a ``Range`` header asks of a file of ``size`` bytes.

    ``None`` when there is no header, or the file is empty (answer the whole
    file: a client that reads in chunks asks an empty file for its first
    chunk). Accepts one range: ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n``
    (the last n bytes); a ``b`` past the end is cut to the end, whatever its
    number of digits. A malformed header or several ranges is a 400; a range
    that starts past the end of a file that is not empty is a 416 carrying
    ``Content-Range: bytes */size``.
    """
    if header is None:
        return None
    shown = header if len(header) <= 60 else header[:60] + "..."
    match = _RANGE.fullmatch(header)
    if match is None:
        if "," in header:
            raise errors.BadRequest("the Range header asks for several ranges; ask for one range at a time")
        raise errors.BadRequest(
            f"the Range header {shown!r} is not understood; send one range: bytes=a-b, bytes=a- or bytes=-n "
            "with whole numbers"
        )
    first_text, last_text = match.group(1), match.group(2)
    if not (first_text or last_text):
        raise errors.BadRequest(
            f"the Range header {shown!r} names no bytes; send bytes=a-b, bytes=a- or bytes=-n with whole numbers"
        )
    if first_text and last_text and _number(last_text) < _number(first_text):
        raise errors.BadRequest(f"the Range header {shown!r} ends before it starts; send bytes=a-b with a <= b")
    if size == 0:
        return None
    spec = f"{first_text}-{last_text}"
    unsatisfiable = errors.RangeNotSatisfiable(
        f"the range {spec if len(spec) <= 60 else spec[:60] + '...'} lies outside the file, which is {size} bytes "
        f"long; ask for bytes below {size}",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if not first_text:
        suffix = _number(last_text)
        if suffix == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size - 1
    first = _number(first_text)
    last = _number(last_text) if last_text else size - 1
    if first >= size:
        raise unsatisfiable
    return first, min(last, size - 1)


def _number(digits: str) -> int:
    """A byte position; one past any file's size when it is longer than any size can be."""
    return int(digits) if len(digits) <= _MAX_DIGITS else _BEYOND_ANY_FILE

"""The ``Range`` header of a file read: one byte range, or a 400/416 that says what to send."""

from __future__ import annotations

from .. import errors


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range ``(first, last)`` a ``Range`` header asks of a file of ``size`` bytes.

    ``None`` when there is no header, or the file is empty (answer the whole
    file: a client that reads in chunks asks an empty file for its first
    chunk). Accepts one range: ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n``
    (the last n bytes); a ``b`` past the end is cut to the end. A malformed
    header or several ranges is a 400; a range that starts past the end of a
    file that is not empty is a 416 carrying ``Content-Range: bytes */size``.
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
    if first_text and last_text and int(last_text) < int(first_text):
        raise errors.BadRequest(f"the Range header {header!r} ends before it starts; send bytes=a-b with a <= b")
    if size == 0:
        return None
    unsatisfiable = errors.RangeNotSatisfiable(
        f"the range {spec} lies outside the file, which is {size} bytes long; ask for bytes below {size}",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if not first_text:
        suffix = int(last_text)
        if suffix == 0:
            raise unsatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size:
        raise unsatisfiable
    return first, min(last, size - 1)

"""The file agent: run in a volume's helper pod, it serves one file operation on the claim mounted there.

    python3 -m porter_sandbox_server.volumes.claims.agent /claim list PATH SEARCH
    ... /claim read PATH        (then read requests on stdin)
    ... /claim write PATH       (then data, commit or abort on stdin)
    ... /claim move FROM TO
    ... /claim wipe             (remove everything in the volume)
    ... /claim own UID          (once, as root: make the data and staging folders, owned by UID)
    ... /claim idle             (the helper's main process: clear cut-off uploads, wait for SIGTERM)

``/claim`` is the whole claim: the volume's files are in its ``data`` folder
(what sandboxes mount, as a ``subPath``), uploads wait in ``.uploads`` beside
it, where no sandbox sees them.

Every path goes through the host-directory backend's own functions
(``hostdir.listing``, ``reading``, ``writing``), so a claim keeps exactly the
rules of a host directory: paths relative to the volume root, ``..``
refused, never a symbolic link followed, a fifo never opened (see
``hostdir.paths``). The helper pod mounts only this one claim, as the
sandboxes' own non-root user, so even a bug here reaches no other volume.
The wire format is in ``protocol``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, BinaryIO

from ... import errors
from ..base import FileEntry
from ..hostdir.listing import list_files
from ..hostdir.reading import open_file
from ..hostdir.writing import begin_write, clear_staging, move
from . import objects
from .protocol import COMMIT, DATA, FRAME_HEAD, LENGTH, READ, READ_REQUEST, error_header, ok_header


def entry_json(entry: FileEntry) -> dict[str, Any]:
    """A listed entry as JSON (``protocol``'s listing shape)."""
    answer: dict[str, Any] = {
        "name": entry.name,
        "dir": entry.is_directory,
        "size": entry.size_bytes,
        "mtime": entry.modified_at.timestamp(),
    }
    if entry.is_directory:
        answer["truncated"] = entry.truncated
        answer["entries"] = [entry_json(child) for child in entry.entries]
    return answer


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _next_frame(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    head = _read_exact(stream, FRAME_HEAD.size)
    if head is None:
        return None
    kind, length = FRAME_HEAD.unpack(head)
    payload = _read_exact(stream, length) if length else b""
    if payload is None:
        return None
    return kind, payload


def serve_reads(root: Path, path: str, stdin: BinaryIO, out: BinaryIO) -> None:
    """Open the file, say its size, then answer read requests until told to stop."""
    with open_file(root, path) as opened:
        out.write(ok_header(size=opened.size, mtime=opened.modified_at))
        out.flush()
        while (request := _next_frame(stdin)) is not None:
            kind, payload = request
            if kind != READ:
                break
            offset, length = READ_REQUEST.unpack(payload)
            data = opened.read(offset, length)
            out.write(LENGTH.pack(len(data)) + data)
            out.flush()


def serve_write(root: Path, path: str, staging: Path, stdin: BinaryIO, out: BinaryIO) -> None:
    """Start the upload, then take data until commit (answered) or abort (also when stdin ends)."""
    with begin_write(root, path, staging) as pending:
        out.write(ok_header())
        out.flush()
        while (request := _next_frame(stdin)) is not None:
            kind, payload = request
            if kind == DATA:
                pending.write(payload)
            elif kind == COMMIT:
                try:
                    pending.commit()
                except errors.ApiError as error:
                    out.write(error_header(error))
                else:
                    out.write(ok_header(size=pending.bytes_written))
                out.flush()
                return
            else:  # ABORT or anything unknown
                return
        # Leaving the block without a commit aborts: the old content stays.


def wipe(root: Path) -> None:
    """Remove everything inside the volume (before its claim and storage go); never follows a link."""
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                # rmtree walks by descriptors here (it avoids symlink attacks on Linux).
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def own(claim: Path, uid: int) -> None:
    """Make the claim's data and staging folders (once), owned by ``uid``: the sandboxes' user."""
    for name, mode in ((objects.DATA, 0o2775), (objects.STAGING, 0o700)):
        folder = claim / name  # the claim's root: no sandbox sees it, so nothing there was planted
        try:
            folder.mkdir(mode=mode)
        except FileExistsError:
            continue
        os.chown(folder, uid, uid)
        os.chmod(folder, mode)


def idle(staging: Path) -> None:
    """Clear uploads an earlier helper was cut off in, then wait until SIGTERM (PID 1 ignores it without a handler)."""
    clear_staging(staging)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


def run(argv: list[str], stdin: BinaryIO, out: BinaryIO) -> int:
    """Serve one operation; answer the exit code."""
    if len(argv) < 2:
        print("usage: agent ROOT OP [ARGS...]", file=sys.stderr)
        return 2
    claim, op, args = Path(argv[0]), argv[1], argv[2:]
    root, staging = claim / objects.DATA, claim / objects.STAGING
    try:
        if op == "idle":
            idle(staging)
        elif op == "own":
            own(claim, int(args[0]))
        elif op == "list":
            listing = list_files(root, args[0], search=(args[1] if len(args) > 1 else "") or None)
            out.write(
                ok_header(
                    path=listing.path,
                    truncated=listing.truncated,
                    entries=[entry_json(entry) for entry in listing.entries],
                )
            )
        elif op == "read":
            serve_reads(root, args[0], stdin, out)
        elif op == "write":
            serve_write(root, args[0], staging, stdin, out)
        elif op == "move":
            move(root, args[0], args[1])
            out.write(ok_header())
        elif op == "wipe":
            wipe(root)
            out.write(ok_header())
        else:
            print(f"unknown operation {op!r}", file=sys.stderr)
            return 2
    except errors.ApiError as error:
        out.write(error_header(error))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], sys.stdin.buffer, sys.stdout.buffer))

"""One server per data directory: an exclusive lock on it, and a note of who holds it.

Two servers on one data directory would each take the other's sandboxes for
lost, delete their work directories and volumes under them. ``serve`` takes
an exclusive ``flock`` on ``<data dir>/server.lock`` before it touches
anything; a second ``serve`` finds it taken and exits at once, naming the
first server's pid and URL (which the first writes into the file once it
listens). The kernel releases the lock when the process ends, however it
ends, so a crashed server never blocks the next one. The descriptor is not
inherited by sandboxes, so none of them can hold the lock past the server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

LOCK_FILE = "server.lock"


class DataDirInUse(Exception):
    """Another server holds the data directory; the message names it."""


class DataDirLock:
    """The exclusive lock of one data directory (``acquire`` / ``announce`` / ``release``)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``DataDirInUse`` without changing anything."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise DataDirInUse(
                f"another server ({holder}) is using the data directory {self.data_dir}; "
                "stop it first, or give this one its own --data-dir"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write({"pid": os.getpid()})

    def announce(self, url: str) -> None:
        """Note where this server listens, for a second ``serve`` to name."""
        self._write({"pid": os.getpid(), "url": url})

    def release(self) -> None:
        """Let the next server have the directory."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, holder: dict[str, object]) -> None:
        if self._fd is None:
            return
        data = json.dumps(holder).encode() + b"\n"
        with contextlib.suppress(OSError):  # a full disk must not stop the server: the note is a courtesy
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)


def _holder(fd: int) -> str:
    """Who holds the lock, as its note says: ``pid 123, http://127.0.0.1:8080``."""
    try:
        note = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        note = {}
    if not isinstance(note, dict):
        note = {}
    pid = note.get("pid")
    url = note.get("url")
    parts = [f"pid {pid}" if isinstance(pid, int) else "pid unknown", url if isinstance(url, str) else "starting"]
    return ", ".join(parts)

"""``porter-sandbox cp``: files and directories between a sandbox and the local disk, as tar through a streamed exec.

Into a sandbox, the local file or directory is packed as it is read and
streamed as the stdin of ``tar -x`` there; out of one, ``tar -c`` there
streams its stdout into an extraction here. Nothing is held whole in memory
or on disk, whatever the size. The sandbox needs ``tar`` and ``sh`` (busybox
and Debian images have both).

Names follow ``cp``: copied onto an existing directory, the source keeps its
name inside it; otherwise it takes the destination's name. What comes out
of a sandbox is untrusted: its entries are extracted only inside the
destination (no absolute paths, no ``..``, no links out of it, no devices),
as tarfile's ``data`` filter checks.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._exceptions import SandboxError

if TYPE_CHECKING:
    from ._exec_stream import ExecStream
    from ._sandboxes import Sandbox

__all__ = ["Location", "copy_from_sandbox", "copy_into_sandbox", "parse_location"]

_REMOTE: Final = re.compile(r"^([a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?):(.*)$")
#: Says what is at a path in the sandbox: ``dir``, ``file`` or ``none``.
_KIND_SCRIPT: Final = 'if [ -d "$1" ]; then echo dir; elif [ -e "$1" ]; then echo file; else echo none; fi'


@dataclass(frozen=True)
class Location:
    """One side of a copy: a path on this machine, or ``sandbox:path``."""

    path: str
    sandbox: str | None = None


def parse_location(text: str) -> Location:
    """``NAME:PATH`` (a sandbox's name or id, then a path in it), or a local path (``./a:b`` stays local)."""
    match = _REMOTE.match(text)
    if match is None:
        return Location(text)
    path = match.group(2) or "."
    return Location(path, match.group(1))


def copy_into_sandbox(sandbox: Sandbox, source: str, destination: str) -> None:
    """Copy the local file or directory ``source`` to ``destination`` in the sandbox."""
    local = Path(source)
    if not local.exists() and not local.is_symlink():
        raise SandboxError(f"{source}: no such file or directory here")
    kind = _remote_kind(sandbox, destination)
    if kind == "dir" or destination.endswith("/"):
        parent, name = destination.rstrip("/") or "/", local.resolve().name if source in (".", "..") else local.name
        if kind == "none":
            raise SandboxError(f"{destination}: no such directory in the sandbox")
    else:
        parent, name = posixpath.dirname(destination) or ".", posixpath.basename(destination)
    reader, writer = os.pipe()
    packing = threading.Thread(target=_pack, args=(local, name, writer), name="porter-sandbox-cp", daemon=True)
    packing.start()
    with os.fdopen(reader, "rb") as stdin:
        stream = sandbox.exec_stream(["tar", "-x", "-f", "-", "-C", parent], stdin=stdin)
        _finish(stream, f"copying into {parent} in the sandbox")
    packing.join()


def _pack(local: Path, name: str, fd: int) -> None:
    with os.fdopen(fd, "wb") as out:
        try:
            with tarfile.open(fileobj=out, mode="w|") as tar:
                tar.add(str(local), arcname=name, filter=_owned_by_root)
        except BrokenPipeError:
            pass  # tar in the sandbox stopped reading: its stderr says why


def _owned_by_root(member: tarfile.TarInfo) -> tarfile.TarInfo:
    # The sandbox's user owns what it extracts (root there writes root's files, never this host's ids).
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def copy_from_sandbox(sandbox: Sandbox, source: str, destination: str) -> None:
    """Copy the file or directory ``source`` in the sandbox to the local ``destination``."""
    clean = posixpath.normpath(source)
    parent, name = posixpath.dirname(clean) or ".", posixpath.basename(clean)
    if name in ("", ".", "..", "/"):
        parent, name = clean, "."
    target = Path(destination)
    if target.is_dir():
        into, rename = target, None
    else:
        into, rename = target.parent, target.name
        if not into.is_dir():
            raise SandboxError(f"{into}: no such directory here")
    stream = sandbox.exec_stream(["tar", "-c", "-f", "-", "-C", parent, name])
    output = _StreamReader(stream)
    with tarfile.open(fileobj=output, mode="r|") as tar:
        for member in tar:
            if rename is not None:
                member.name = _renamed(member.name, name, rename)
            _extract(tar, member, into)
    _finish(stream, f"copying {source} out of the sandbox", stderr=output.stderr)


def _renamed(member: str, name: str, rename: str) -> str:
    """``member`` (under ``name`` in the archive) under ``rename`` instead."""
    parts = member.split("/")
    if name == ".":
        return posixpath.join(rename, member)
    if parts and parts[0] == name:
        parts[0] = rename
    elif parts[:2] == [".", name]:
        parts = [rename, *parts[2:]]
    return "/".join(parts)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, into: Path) -> None:
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        tar.extract(member, into, filter="data")
        return
    # Python without tarfile's filters (3.10 before 3.10.12): the same rules, checked here.
    target = (into / member.name).resolve()
    if member.name.startswith("/") or not target.is_relative_to(into.resolve()):
        raise SandboxError(f"refused {member.name!r} from the sandbox: it would land outside {into}")
    if member.issym() or member.islnk():
        link = (target.parent / member.linkname).resolve()
        if member.linkname.startswith("/") or not link.is_relative_to(into.resolve()):
            raise SandboxError(f"refused the link {member.name!r} from the sandbox: it points outside {into}")
    if member.isdev():
        raise SandboxError(f"refused the device {member.name!r} from the sandbox")
    tar.extract(member, into, set_attrs=False)


class _StreamReader(io.RawIOBase):
    """The stdout of a streamed exec as a file to read; its stderr is kept for the error message."""

    def __init__(self, stream: ExecStream) -> None:
        self._events: Iterator[object] = iter(stream)
        self._pending = b""
        self.stderr = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        from ._models import ExecEvent

        while not self._pending:
            event = next(self._events, None)
            if event is None:
                return 0
            assert isinstance(event, ExecEvent)
            if event.kind == "stdout":
                self._pending = event.data
            elif event.kind == "stderr" and len(self.stderr) < 64 * 1024:
                self.stderr += event.data
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _finish(stream: ExecStream, what: str, stderr: bytearray | None = None) -> None:
    errors = bytearray() if stderr is None else stderr
    for event in stream:
        if event.kind == "stderr":
            errors += event.data
    stream.close()
    if stream.exit_code != 0:
        said = errors.decode("utf-8", "replace").strip().splitlines()
        raise SandboxError(f"{what} failed (tar exited {stream.exit_code}){': ' + said[-1] if said else ''}")


def _remote_kind(sandbox: Sandbox, path: str) -> str:
    result = sandbox.exec(["sh", "-c", _KIND_SCRIPT, "sh", path], cwd=None)
    return result.stdout.strip() or "none"

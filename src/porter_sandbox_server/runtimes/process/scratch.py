"""A sandbox's scratch space on the host (its private ``tmp``, ``workspace`` and ``home``), and host limits sandboxes need."""

from __future__ import annotations

import contextlib
import resource
import shutil
import socket
from pathlib import Path

from .bwrap import python_alias_target

_SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)


def allow_large_packets(control: socket.socket) -> None:
    """Let one packet hold a command as large as ``execve`` takes (2 MiB of arguments and environment)."""
    wanted = 4 << 20
    try:
        control.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, wanted)  # root may pass wmem_max
    except OSError:
        with contextlib.suppress(OSError):
            control.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, wanted)


def raise_open_files_limit() -> None:
    """Lift the soft limit on open files toward the hard one: each live sandbox holds about five."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def prepare_scratch(scratch: Path, unisolated: bool) -> None:
    """Make the scratch directories (``tmp`` sticky and world-writable, as a ``/tmp`` is)."""
    for name in ("tmp", "workspace", "home"):
        (scratch / name).mkdir(parents=True, exist_ok=True)
    (scratch / "tmp").chmod(0o1777)
    python = python_alias_target()
    if unisolated and python is not None:
        # Unisolated commands see the host's filesystem: their `python` lives in the scratch dir.
        (scratch / "bin").mkdir(exist_ok=True)
        with contextlib.suppress(FileExistsError):
            (scratch / "bin" / "python").symlink_to(python)


def remove_children(directory: Path) -> None:
    """Remove everything in ``directory`` (what a stopped server left there)."""
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)

"""A sandbox's scratch space on the host (its private ``tmp``, ``workspace`` and ``home``), its ownership, and host limits sandboxes need."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import stat
from pathlib import Path

from .bwrap import python_alias_target
from .identity import SandboxIdentity

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
    """Lift the soft limit on open files toward the hard one: each live sandbox holds about ten."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def prepare_scratch(scratch: Path, identity: SandboxIdentity | None) -> None:
    """Make the scratch directories (``tmp`` sticky and world-writable, as a ``/tmp`` is), owned by the
    sandbox uid (``identity``; None: unisolated, the server's own).

    The scratch directory itself stays the server's (mode 0700): bwrap binds what is in it and the
    sandbox sees nothing of the path above.
    """
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("tmp", "workspace", "home"):
        (scratch / name).mkdir(exist_ok=True)
        if identity is not None:
            identity.own(scratch / name)
    (scratch / "tmp").chmod(0o1777)
    if identity is None:
        # Unisolated commands see the host's filesystem: their `python` lives in the scratch dir.
        python = python_alias_target()
        if python is not None:
            (scratch / "bin").mkdir(exist_ok=True)
            with contextlib.suppress(FileExistsError):
                (scratch / "bin" / "python").symlink_to(python)


def remove_tree(directory: Path) -> None:
    """Remove ``directory`` and everything in it, also what a sandbox made unreadable (``chmod 000``)."""
    if directory.is_symlink():
        directory.unlink()
        return
    shutil.rmtree(directory, ignore_errors=True)
    if not directory.exists():
        return
    # A non-root server has no right over a directory its sandbox (running as its uid) locked: unlock
    # each (the sandbox has ended, so nothing swaps a directory for a link meanwhile), then remove.
    with contextlib.suppress(OSError):
        directory.chmod(0o700)
    for folder, directories, _files in os.walk(directory):
        for name in directories:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o700)
    shutil.rmtree(directory, ignore_errors=True)


def remove_children(directory: Path) -> None:
    """Remove everything in ``directory`` (what a stopped server left there)."""
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            remove_tree(child)
        else:
            child.unlink(missing_ok=True)


def write_passwd(directory: Path, identity: SandboxIdentity) -> None:
    """Write the ``passwd`` and ``group`` files a root server's sandboxes see: the host's, plus the sandbox uid."""
    directory.mkdir(mode=0o755, exist_ok=True)
    user, group = identity.passwd_lines()
    for name, line in (("passwd", user), ("group", group)):
        try:
            host = Path("/etc", name).read_text()
        except OSError:
            host = ""
        if host and not host.endswith("\n"):
            host += "\n"
        target = directory / name
        temporary = directory / f".{name}.new"
        temporary.write_text(host + line)
        temporary.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        temporary.replace(target)

"""The sandbox's view of the host, as bubblewrap arguments.

Each sandbox is one ``bwrap`` invocation: new PID, IPC, UTS and cgroup
namespaces (hostname = the sandbox's name), a new session (no TIOCSTI into a
terminal), every capability dropped (bwrap also sets no_new_privs),
``--die-with-parent``; the host's system directories read-only (``/usr`` and
its ``/bin``, ``/lib*`` links, ``/etc`` with its secrets masked, ``/opt``), a
fresh ``/proc`` (only the sandbox's own processes) and a minimal ``/dev``, and
a private writable ``/tmp``, ``/workspace`` and home (``/root``) bound from
the sandbox's scratch directory, so every process of the sandbox sees the
same files. Volumes are bound read-write at their mount paths. Nothing else of
the host is there: not ``/home``, not the host's ``/root``, not ``/var``,
``/srv`` or ``/work``, and not the server's data directory (hidden under an
empty tmpfs when it lives below a system directory).
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..base import RuntimeUnavailable

#: PATH inside a sandbox unless its ``env`` says otherwise.
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANDBOX_HOME = "/root"
#: On a sandbox's PATH after the system directories: holds `python` (the host's
#: python3) when the host has only `python3`, as images' `python` commands expect.
PYTHON_ALIAS_DIR = "/.porter-sandbox/bin"
WORKSPACE = "/workspace"

INSTALL_HINT = (
    "the process runtime isolates sandboxes with bubblewrap, and `bwrap` is not on PATH: "
    "install it (`apt-get install bubblewrap`, `dnf install bubblewrap`) "
    "or pass `--isolation none` to run sandbox commands unisolated on this host"
)

#: Top-level host directories a sandbox sees read-only: enough for the host's
#: shells, coreutils and python3 to run.
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt")
# Files and directories under /etc that hold host secrets.
_ETC_SECRET_FILES = ("shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "security/opasswd")
_ETC_SECRET_DIRS = ("ssh", "ssl/private", "sudoers.d", "docker", "kubernetes", "wireguard")

_NAMESPACE_ARGS = (
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",  # /proc/self/cgroup shows no host cgroup paths
    "--cap-drop",
    "ALL",
    "--as-pid-1",
)


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def bwrap_argv(
    bwrap: str,
    name: str,
    agent: Sequence[str],
    *,
    scratch: Path,
    mounts: Sequence[tuple[str, Path]],
    info_fd: int,
    hidden: Sequence[Path] = (),
) -> list[str]:
    """The ``bwrap`` command line that runs ``agent`` as PID 1 of a sandbox named ``name``.

    ``scratch`` holds the sandbox's ``tmp``, ``workspace`` and ``home``;
    ``mounts`` are ``(mount path, host directory)`` pairs, parents first;
    ``hidden`` are host directories to cover with an empty tmpfs (the server's
    data directory, when a system directory contains it).
    """
    argv = [bwrap, *_NAMESPACE_ARGS, "--hostname", hostname(name)]
    argv += _system_binds()
    python = python_alias_target()
    if python is not None:
        argv += ["--dir", PYTHON_ALIAS_DIR, "--symlink", python, f"{PYTHON_ALIAS_DIR}/python"]
    for path in hidden:
        argv += ["--tmpfs", str(path)]
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(scratch / "tmp"),
        "/tmp",
        "--bind",
        str(scratch / "workspace"),
        WORKSPACE,
        "--bind",
        str(scratch / "home"),
        SANDBOX_HOME,
    ]
    for mount_path, source in mounts:
        argv += ["--bind", str(source), mount_path]
    argv += ["--chdir", WORKSPACE, "--info-fd", str(info_fd), "--", *agent]
    return argv


@functools.lru_cache(maxsize=1)
def _system_binds() -> tuple[str, ...]:
    """The bwrap arguments for the host's system directories, read-only, with /etc's secrets masked."""
    argv: list[str] = []
    for name in SYSTEM_DIRS:
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    etc = Path("/etc")
    for name in _ETC_SECRET_FILES:
        if (etc / name).is_file():
            argv += ["--ro-bind", "/dev/null", str(etc / name)]
    for name in _ETC_SECRET_DIRS:
        if (etc / name).is_dir() and not (etc / name).is_symlink():
            argv += ["--tmpfs", str(etc / name)]
    return tuple(argv)


@functools.lru_cache(maxsize=1)
def _system_roots() -> tuple[Path, ...]:
    return tuple(_resolved(Path("/", name)) for name in SYSTEM_DIRS if Path("/", name).is_dir())


def hidden_dirs(paths: Sequence[Path]) -> list[Path]:
    """Which host directories to hide so that none of ``paths`` shows through a system directory.

    For each path below a directory bound read-only into sandboxes (``/opt``
    say), the top-most directory under it that contains the path
    (``/opt/porter`` for ``/opt/porter/data/sandboxes/x``).
    """
    roots = _system_roots()
    hide: set[Path] = set()
    for path in paths:
        real = _resolved(path)
        for root in roots:
            if real != root and real.is_relative_to(root):
                hide.add(root / real.relative_to(root).parts[0])
    return sorted(hide)


def hostname(name: str) -> str:
    """The sandbox's hostname: its name, as a valid host name."""
    cleaned = re.sub(r"[^A-Za-z0-9-]", "-", name).strip("-")[:63]
    return cleaned or "sandbox"


@functools.lru_cache(maxsize=1)
def python_alias_target() -> str | None:
    """The host's python3 when sandboxes would otherwise find no `python` on their PATH."""
    if shutil.which("python", path=SANDBOX_PATH) is not None:
        return None
    return system_python()


def system_python() -> str | None:
    """The host's python3 from a directory that sandboxes see (not a venv or ~/.pyenv)."""
    found = shutil.which("python3", path=SANDBOX_PATH)
    if found is None:
        return None
    real = _resolved(Path(found))
    if any(real.is_relative_to(root) for root in _system_roots()):
        return found
    return None


async def probe_bwrap(bwrap: str, python: str) -> None:
    """Run an empty sandbox once, so that a bubblewrap that cannot work here stops the server at start."""
    argv = [
        bwrap,
        *_NAMESPACE_ARGS,
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        python,
        "-I",
        "-S",
        "-c",
        "import os,sys;sys.exit(0 if hasattr(os,'posix_spawn') else 97)",
    ]
    probe = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, said = await probe.communicate()
    if probe.returncode == 97:
        raise RuntimeUnavailable(
            f"the process runtime's agent needs Python 3.8 or newer as {python} on this host: "
            "install it, or pass `--isolation none` (which runs the agent with the server's own python)"
        )
    if probe.returncode != 0:
        raise RuntimeUnavailable(
            f"bubblewrap cannot create a sandbox on this host ({said.decode('utf-8', 'replace').strip()}); "
            "allow unprivileged user namespaces (or run the server as root), "
            "or pass `--isolation none` to run sandbox commands unisolated"
        )

"""The sandbox's view of the host, as bubblewrap arguments.

Each sandbox is one ``bwrap`` invocation: new PID, IPC, UTS, network and cgroup
namespaces (hostname = the sandbox's name), a new session (no TIOCSTI into a
terminal), every capability dropped (bwrap also sets no_new_privs),
``--die-with-parent``, and the system-call filter of ``seccomp``. Its user
is never host root (see ``identity``): on a root server bwrap keeps only
``CAP_SETUID``/``CAP_SETGID`` for the agent, which drops to the sandbox uid
before anything else runs; on a non-root server bwrap makes a user namespace
whose root is the server's uid, and forbids nested ones (``--disable-userns``).

What it sees: the host's system directories read-only (``/usr`` and its
``/bin``, ``/lib*`` links, ``/etc`` with its secrets masked, ``/opt``); a
fresh ``/proc`` (only the sandbox's own processes) whose ``/proc/sys`` and
``/proc/sysrq-trigger`` are read-only; a minimal ``/dev`` (``null``, ``zero``,
``random``, ``tty``...: no disk or memory devices, and every mount is
``nodev``); ``/dev/shm`` as a tmpfs a quarter of the sandbox's memory limit
(see ``runtimes.tmpfs``), so filling it is ``ENOSPC`` inside instead of memory
the kernel must reclaim by killing; a private ``/tmp``, ``/workspace`` and
home (``/root``) bound from the sandbox's scratch directory on disk (what a
snapshot copies), so every process of the sandbox sees the same files. Volumes are bound read-write at their mount paths. Every
bind is ``nosuid`` and ``nodev``: a setuid file in a volume gives no one its
owner's rights through a sandbox. Nothing else of the host is there: not
``/home``, not the host's ``/root``, not ``/var``, ``/srv`` or ``/work``, and
not the server's data directory (hidden under an empty tmpfs when it lives
below a system directory).

Where namespaces are made: bwrap clones PID 1 with every new namespace at once
and reports its host pid on ``--info-fd`` straight away (``child.child_pid_or_exit``),
before its mounts and long before the agent runs; the runtime then confines it
(cgroups) in ``ProcessRuntime._spawn``. Something that must act on the new
namespaces before the sandbox's first process runs (a network stack joined to
a ``--unshare-net`` namespace, say) can do it there with that pid, holding
bwrap at ``--block-fd`` until it is done.
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
    "--unshare-net",  # a network of its own (see ``network.stack``)
    "--unshare-cgroup-try",  # /proc/self/cgroup shows no host cgroup paths
    "--cap-drop",
    "ALL",
    "--as-pid-1",
)
#: A non-root server: root inside is the server's uid outside; no nested user namespaces.
_USER_NAMESPACE_ARGS = ("--unshare-user", "--uid", "0", "--gid", "0", "--disable-userns")
#: A root server: the agent keeps these two, to become the sandbox uid before anything else runs.
_DROP_TO_SANDBOX_UID_ARGS = ("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID")
#: Kernel knobs under the fresh /proc that stay read-only even for a process that could write them.
_READ_ONLY_PROC = ("/proc/sys", "/proc/sysrq-trigger")


def user_args(user_namespace: bool) -> tuple[str, ...]:
    """How bwrap makes the sandbox's user (see ``identity``): a user namespace, or a uid to drop to."""
    return _USER_NAMESPACE_ARGS if user_namespace else _DROP_TO_SANDBOX_UID_ARGS


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
    user_namespace: bool,
    shm_bytes: int,
    hidden: Sequence[Path] = (),
    passwd: Path | None = None,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The ``bwrap`` command line that runs ``agent`` as PID 1 of a sandbox named ``name``.

    ``scratch`` holds the sandbox's ``tmp``, ``workspace`` and ``home``;
    ``mounts`` are ``(mount path, host directory)`` pairs; ``user_namespace``
    picks how the sandbox's user is made (``user_args``); ``shm_bytes`` is the
    size of ``/dev/shm``; ``hidden`` are host directories to cover with an
    empty tmpfs (the server's data directory, when a system directory contains
    it); ``passwd``, a directory holding the ``passwd`` and ``group`` files to
    show in ``/etc``; ``seccomp_fd``, a descriptor to read the filter from.
    """
    argv = [bwrap, *_NAMESPACE_ARGS, *user_args(user_namespace), "--hostname", hostname(name)]
    argv += _system_binds()
    if passwd is not None:
        argv += ["--ro-bind", str(passwd / "passwd"), "/etc/passwd", "--ro-bind", str(passwd / "group"), "/etc/group"]
    python = python_alias_target()
    if python is not None:
        argv += ["--dir", PYTHON_ALIAS_DIR, "--symlink", python, f"{PYTHON_ALIAS_DIR}/python"]
    for path in hidden:
        argv += ["--tmpfs", str(path)]
    argv += ["--proc", "/proc"]
    for knob in _READ_ONLY_PROC:
        argv += ["--ro-bind-try", knob, knob]
    argv += ["--dev", "/dev", "--perms", "1777", "--size", str(shm_bytes), "--tmpfs", "/dev/shm"]
    argv += ["--bind", str(scratch / "tmp"), "/tmp"]
    argv += ["--bind", str(scratch / "workspace"), WORKSPACE, "--bind", str(scratch / "home"), SANDBOX_HOME]
    made: set[str] = set()
    for mount_path, source in mounts:
        # bwrap 0.8 makes the missing parents of a bind's target mode 0700, which the sandbox uid
        # could not enter: make them 0755 first (an existing directory is left as it is).
        for parent in reversed(Path(mount_path).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                argv += ["--dir", str(parent)]
        argv += ["--bind", str(source), mount_path]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
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


async def probe_bwrap(bwrap: str, python: str, *, user_namespace: bool, seccomp: bytes | None) -> None:
    """Run an empty sandbox once, as every sandbox will run, so a bubblewrap that cannot work here stops the server.

    The same user, ``/proc``, sized tmpfs and filter as ``bwrap_argv``: an old bubblewrap without
    ``--size`` or ``--disable-userns``, or a host without user namespaces, is refused here.
    """
    argv = [bwrap, *_NAMESPACE_ARGS, *user_args(user_namespace), *_system_binds(), "--proc", "/proc"]
    for knob in _READ_ONLY_PROC:
        argv += ["--ro-bind-try", knob, knob]
    argv += ["--dev", "/dev", "--perms", "1777", "--size", str(1 << 20), "--tmpfs", "/dev/shm"]
    read_fd = -1
    if seccomp is not None:
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        os.write(write_fd, seccomp)
        os.close(write_fd)
        argv += ["--seccomp", str(read_fd)]
    argv += ["--", python, "-I", "-S", "-c", "import os,sys;sys.exit(0 if hasattr(os,'posix_spawn') else 97)"]
    try:
        probe = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(read_fd,) if read_fd >= 0 else (),
        )
    finally:
        if read_fd >= 0:
            os.close(read_fd)
    _, said = await probe.communicate()
    if probe.returncode == 97:
        raise RuntimeUnavailable(
            f"the process runtime's agent needs Python 3.8 or newer as {python} on this host: "
            "install it, or pass `--isolation none` (which runs the agent with the server's own python)"
        )
    if probe.returncode != 0:
        raise RuntimeUnavailable(
            f"bubblewrap cannot create a sandbox on this host ({said.decode('utf-8', 'replace').strip()}); "
            "it needs bubblewrap 0.8 or newer and, for a server that is not root, unprivileged user namespaces; "
            "or pass `--isolation none` to run sandbox commands unisolated"
        )

"""Whose host uid a sandbox runs as: never root.

**Server running as root.** Sandbox processes run as one unprivileged host
uid and gid, the *sandbox uid*: the first of root's subordinate range in
``/etc/subuid`` (and ``/etc/subgid``) when the administrator listed one
(``root:1000000:65536``), else ``DEFAULT_SANDBOX_UID``, which no account uses.
bubblewrap still runs as root, so that it can bind the sandbox's directories
from a data directory of mode 0700 (below a 0700 home, or a test's temporary
directory) and mount what it needs; it keeps only ``CAP_SETUID`` and
``CAP_SETGID`` for the sandbox's first process, the agent, whose first act is
to drop every supplementary group and become the sandbox uid and gid (which
also empties its capabilities and makes it non-dumpable, so code in the
sandbox cannot ptrace it). The server checks the agent's uid before it has
it start anything. For the host's kernel every sandbox process is then a plain
user: ``/proc/sys``, ``/proc/sysrq-trigger`` and the other root-only knobs
refuse it, and a file it makes setuid in a volume is setuid to the sandbox
uid, never to root. Inside, ``id`` says ``sandbox`` (a ``passwd`` entry the
runtime adds).

Why not a user namespace whose root maps to the sandbox uid, as below? bwrap
0.8 would then resolve every bind source as the sandbox uid, which cannot
search a 0700 data directory or its parents, and it offers no way to switch
to a mapped uid after its mounts are made.

**Server running as another user.** bwrap makes a user namespace per sandbox
(``--unshare-user``, as it does for any unprivileged user): root inside is the
server's own uid outside, the only uid such a server can map (``/etc/subuid``
may not list it). Code in a sandbox then shares the server's uid, so the
server makes itself non-dumpable (no ptrace, no ``pidfd_getfd`` from a process
of that uid) and sandboxes never see its pid.

**One uid for all of a server's sandboxes**, not one per sandbox, because
volumes are shared: what one sandbox writes, another sandbox and the volume
file API must read and write, and under one uid they do, with no ACLs or
id-mapped mounts. What keeps sandboxes apart from one another is not the uid
but their own PID, mount, IPC and UTS namespaces (and user namespaces, on a
non-root server): a sandbox cannot name another's processes, so it cannot
signal or ptrace them, and it sees none of another's files except the volumes
both mount. The system-call filter (``seccomp``) closes the ways around
names: descriptors of another process's pid (``pidfd_getfd``), new user
namespaces.
"""

from __future__ import annotations

import contextlib
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from ..base import RuntimeUnavailable

#: The sandbox uid (and gid) of a root server when /etc/subuid lists no range for root: above
#: systemd's container range (524288-1879048191), below its "foreign" range, used by no account.
DEFAULT_SANDBOX_UID = 2_000_000_000
#: The name ``id`` and ``whoami`` show for the sandbox uid of a root server.
SANDBOX_USER = "sandbox"


@dataclass(frozen=True)
class SandboxIdentity:
    """The host uid and gid a server's sandboxes run as."""

    uid: int
    gid: int
    #: Where ``uid`` came from, for the server's log.
    source: str

    @property
    def is_server_uid(self) -> bool:
        """Whether sandboxes run as the server's own uid (a server that is not root, in a user namespace)."""
        return self.uid == os.geteuid()

    @classmethod
    def for_this_server(cls) -> SandboxIdentity:
        """The identity for sandboxes of a server running as the current user (see the module doc)."""
        euid = os.geteuid()
        if euid != 0:
            return cls(euid, os.getegid(), "the server's own uid, in a user namespace per sandbox")
        uid = _first_subordinate(Path("/etc/subuid"))
        gid = _first_subordinate(Path("/etc/subgid"))
        if uid is not None and gid is not None:
            return cls(uid, gid, "the first of root's subordinate ids in /etc/subuid and /etc/subgid")
        with contextlib.suppress(KeyError):
            taken = pwd.getpwuid(DEFAULT_SANDBOX_UID).pw_name
            raise RuntimeUnavailable(
                f"the sandboxes' default host uid {DEFAULT_SANDBOX_UID} belongs to the account {taken!r}: give "
                "root a subordinate range of its own in /etc/subuid and /etc/subgid (e.g. root:3000000000:65536)"
            )
        return cls(
            DEFAULT_SANDBOX_UID,
            DEFAULT_SANDBOX_UID,
            "the default sandbox uid (list a range for root in /etc/subuid and /etc/subgid to choose another)",
        )

    def own(self, path: Path) -> None:
        """Give ``path`` (one entry, a link itself rather than its target) to the sandbox uid."""
        if not self.is_server_uid:
            os.lchown(path, self.uid, self.gid)

    def passwd_lines(self) -> tuple[str, str]:
        """The ``passwd`` and ``group`` lines that name a root server's sandbox uid inside a sandbox."""
        return (
            f"{SANDBOX_USER}:x:{self.uid}:{self.gid}:sandbox:/root:/bin/sh\n",
            f"{SANDBOX_USER}:x:{self.gid}:\n",
        )


def _first_subordinate(table: Path) -> int | None:
    """The first id of root's range in an /etc/subuid-style table (``name:first:count``), or None."""
    try:
        lines = table.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, rest = line.strip().partition(":")
        first, _, count = rest.partition(":")
        if name in ("root", "0") and first.isdigit() and count.isdigit() and int(count) > 0 and int(first) > 0:
            return int(first)
    return None


def make_undumpable() -> bool:
    """Make this process non-dumpable (``PR_SET_DUMPABLE`` 0); answer whether it worked.

    No process of the same uid may then ptrace it, read its memory or take its descriptors.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(4, 0, 0, 0, 0)) == 0  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        return False


def uids_of(pid: int) -> set[int]:
    """The real, effective, saved and filesystem uids of process ``pid`` as /proc shows them; empty if gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"Uid:"):
                    return {int(field) for field in line.split()[1:]}
    except (OSError, ValueError):
        return set()
    return set()

"""Pre-started sandboxes (``serve --pool N``): a launch of the usual shape takes one instead of starting one.

(``runtimes.pool`` keeps them; this module says what one is and what fits.)

A pooled sandbox is a sandbox like any other, started for no one: bwrap,
its agent (ready, already the sandbox uid), its cgroups, its network
namespace with slirp4netns, firewall and resolver. Nothing runs in it but the
agent, and no request reaches it. A launch it fits takes it and makes it the
requested sandbox before anything of the request runs in it
(``ProcessRuntime._assign``):

- its scratch directory and cgroups are renamed for the sandbox (bind mounts
  and processes stay where they are, so ``/proc/self/mountinfo`` and
  ``/proc/self/cgroup`` name the new sandbox);
- its hostname is set (``set_hostname``, from a thread of the server that joins
  its UTS namespace), and its commands get the requested environment;
- the egress policy replaces its open firewall table in one nft transaction,
  and its resolver and relay answer by that policy from then on.

Only what is fixed when bwrap starts decides whether a launch fits: no
volumes, no snapshot, no CPU limit, and the pool's memory and process limits
(the size of ``/dev/shm`` follows the memory limit). A launch that does not
fit starts a sandbox as usual. A pooled sandbox serves one launch and is
never returned to the pool: nothing of one user can reach another.

What differs from a fresh sandbox: its PID 1 started earlier (its start time
in ``/proc/1/stat``, which also tells, roughly, when the launch before it
took the pooled sandbox it replaced: another user's launch, perhaps), and the
few milliseconds of CPU its agent took to start were counted before the
launch. Pooling needs a root server on cgroup v1 (or
without cgroups): v2 refuses to rename a cgroup, and a non-root server cannot
join a sandbox's UTS namespace to name it.
"""

from __future__ import annotations

import ctypes
import os
import select
from collections.abc import Callable
from dataclasses import dataclass

from ..base import LaunchSpec

_CLONE_NEWUTS = 0x04000000
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class PoolSettings:
    """How many sandboxes to keep started, and the limits they are started with."""

    size: int = 0
    #: The memory limit of pooled sandboxes (``serve --default-memory``); None: none.
    memory_bytes: int | None = None
    #: Their process limit (``serve --max-pids``); None: the runtime's default.
    pids_max: int | None = None


def fits(spec: LaunchSpec, settings: PoolSettings, pids_max: Callable[[LaunchSpec], int]) -> bool:
    """Whether a pooled sandbox can become the sandbox ``spec`` asks for (see the module doc)."""
    return (
        not spec.mounts
        and spec.snapshot_id is None
        and spec.cpu_millis is None
        and spec.memory_bytes == settings.memory_bytes
        and pids_max(spec) == pids_max(pooled_spec(settings, "-"))
    )


def pooled_spec(settings: PoolSettings, sandbox_id: str) -> LaunchSpec:
    """The spec a pooled sandbox is started with: no command, no env, the pool's limits."""
    return LaunchSpec(
        sandbox_id=sandbox_id,
        name="pooled",
        image="",
        command=None,
        args=None,
        env={},
        tags={},
        memory_bytes=settings.memory_bytes,
        pids_max=settings.pids_max,
    )


def set_hostname(pid: int, pidfd: int, name: str) -> None:
    """Set the hostname of the UTS namespace of ``pid``, whose pidfd is ``pidfd``.

    The calling thread joins that namespace for good: call it on a thread that
    serves this sandbox only (its network thread) or ends afterwards.
    """
    fd = os.open(f"/proc/{pid}/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
    try:
        # Opened while the pidfd's process still runs: the namespace is its (a pid is not reused before).
        # poll, not select: a busy server's descriptors pass FD_SETSIZE (1024), which select refuses.
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if poller.poll(0):
            raise ProcessLookupError(f"the sandbox's init process {pid} has ended")
        if _libc.setns(fd, _CLONE_NEWUTS) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into a sandbox's UTS namespace: {os.strerror(error)}")
    finally:
        os.close(fd)
    encoded = name.encode()
    if _libc.sethostname(encoded, len(encoded)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"sethostname: {os.strerror(error)}")

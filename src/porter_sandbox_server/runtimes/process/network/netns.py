"""Doing something inside a sandbox's network namespace from the server: ``in_netns``.

A socket belongs to the network namespace of the thread that created it, for
its whole life, whichever thread uses it later. So the server makes a socket
inside a sandbox's namespace (its DNS listener, a connection to a port it
serves) on a short-lived thread that first joins that namespace with
``setns``; the thread ends there, so no thread of the server is ever left in
a sandbox's namespace. Joining a network namespace needs ``CAP_SYS_ADMIN``
over it: a root server has it, a non-root server does not (its sandboxes'
namespaces belong to user namespaces bwrap made).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns into a sandbox's network namespace: {os.strerror(error)}")


def run_in_netns(pid: int, work: Callable[[], T]) -> T:
    """``work()`` on a new thread inside the network namespace of process ``pid``; its result or error."""
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    outcome: list[T] = []
    failure: list[BaseException] = []

    def inside() -> None:
        try:
            _setns(fd)
            outcome.append(work())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    try:
        thread = threading.Thread(target=inside, name="porter-netns", daemon=True)
        thread.start()
        thread.join()
    finally:
        os.close(fd)
    if failure:
        raise failure[0]
    return outcome[0]


async def in_netns(pid: int, work: Callable[[], T]) -> T:
    """``run_in_netns`` without blocking the event loop."""
    return await asyncio.to_thread(run_in_netns, pid, work)

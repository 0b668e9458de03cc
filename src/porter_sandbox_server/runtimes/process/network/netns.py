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
import contextlib
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


def _enter(fd: int, work: Callable[[], T]) -> Callable[[], T]:
    """``work`` for a new thread: join the namespace of ``fd`` (and close it: the thread owns it) first."""

    def inside() -> T:
        try:
            _setns(fd)
        finally:
            os.close(fd)
        return work()

    return inside


async def in_netns(pid: int, work: Callable[[], T]) -> T:
    """``work()`` on a new thread inside the network namespace of process ``pid``, awaited: its result or error.

    The namespace is opened here, so a pid reused later cannot redirect it.
    """
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    return await on_own_thread(_enter(fd, work))


async def on_own_thread(work: Callable[[], T]) -> T:
    """``work()`` on a new thread of its own, awaited: for blocking work the shared thread pool should not wait on."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def hand_over(result: T | None, error: BaseException | None) -> None:
        # The loop may be gone by now (the server shut down while the work waited on a sandbox it tore
        # down): nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    def run() -> None:
        try:
            result = work()
        except BaseException as error:  # handed to the awaiting task
            hand_over(None, error)
        else:
            hand_over(result, None)

    threading.Thread(target=run, name="porter-netns", daemon=True).start()
    return await asyncio.shield(future)

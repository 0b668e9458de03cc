"""Doing something inside a sandbox's network namespace from the server: ``NetnsWorker``.

A socket belongs to the network namespace of the thread that created it, for
its whole life, whichever thread uses it later. So the server makes a socket
inside a sandbox's namespace (its DNS listener, a connection to a port it
serves) and runs its firewall commands there on a thread of that sandbox's
own, its ``NetnsWorker``: the thread joins the namespace once with ``setns``,
from a descriptor opened when the sandbox's network starts (so a pid reused
later cannot redirect it), does the sandbox's work there one item at a time
(so a flood of work, such as DNS answers to open in the firewall, waits in
line instead of starting threads without bound), and ends with the sandbox;
it never runs anything else. Joining a network namespace needs
``CAP_SYS_ADMIN`` over it: a root server has it, a non-root server does not
(its sandboxes' namespaces belong to user namespaces bwrap made).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns into a sandbox's network namespace: {os.strerror(error)}")


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


#: Hands an item's outcome back to the event loop: (result, error).
_Settle = Callable[[Any, "BaseException | None"], Any]


class NetnsWorker:
    """One thread inside a network namespace doing work for the event loop, in order (see the module doc)."""

    def __init__(self, pid: int) -> None:
        """Open the namespace of process ``pid`` now: later work goes there, whatever becomes of the pid."""
        self._fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        #: Work and how to hand its outcome back; None ends the worker.
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], _Settle] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        #: Called on the worker thread as it ends (to free what work kept there, such as an nft context).
        self.at_end: list[Callable[[], None]] = []

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` on the worker inside the namespace, awaited: its result or error."""
        if self._fd < 0:
            raise OSError("the sandbox's network is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def hand_over(result: Any, error: BaseException | None) -> None:
            # The loop may be gone by now (the server shut down while the work waited): nobody is left to tell.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, result, error)

        self._queue.put((work, hand_over))
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, args=(self._fd,), name="porter-netns", daemon=True)
            self._thread.start()
        return await asyncio.shield(future)

    def _serve(self, fd: int) -> None:
        failure: OSError | None = None
        try:
            _setns(fd)
        except OSError as error:
            failure = error  # never run work in the server's own namespace: each item fails with this
        try:
            while (item := self._queue.get()) is not None:
                work, settle = item
                if failure is not None:
                    settle(None, failure)
                    continue
                try:
                    result = work()
                except BaseException as error:  # handed to the awaiting task
                    settle(None, error)
                else:
                    settle(result, None)
            for each in self.at_end:
                each()
        finally:
            os.close(fd)

    def close(self) -> None:
        """End the worker once the work already queued is done (and close the namespace's descriptor)."""
        if self._fd < 0:
            return
        if self._thread is None:
            os.close(self._fd)
        else:
            self._queue.put(None)
        self._fd = -1

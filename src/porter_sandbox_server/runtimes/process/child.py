"""The sandbox's process on the host (``bwrap``, or the agent when unisolated), and the pids around it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from .bwrap import SANDBOX_PATH
from .pipes import StderrReader, pipe_file

logger = logging.getLogger(__name__)

#: How long a sandbox may take to start (bwrap naming PID 1, the agent saying it is ready).
READY_TIMEOUT = 30.0


class Child:
    """The sandbox's ``bwrap`` (or agent) process: started by ``subprocess.Popen``, watched by a pidfd.

    Not ``loop.subprocess_exec``: uvloop forks the whole server for it, which costs
    milliseconds once the server is large, while ``Popen`` uses ``vfork``; and a pidfd
    needs no child watcher.
    """

    def __init__(self, popen: subprocess.Popen[bytes], stderr: StderrReader) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stderr = stderr
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @classmethod
    async def start(cls, argv: Sequence[str], *, pass_fds: Sequence[int], cwd: str) -> Child:
        """Start ``argv`` in a new session, stdout to /dev/null, stderr read by ``.stderr``."""
        loop = asyncio.get_running_loop()
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err_w,
                pass_fds=tuple(pass_fds),
                env={"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"},
                cwd=cwd,
                start_new_session=True,
            )
        except BaseException:
            os.close(err_r)
            raise
        finally:
            os.close(err_w)
        stderr = StderrReader()
        child = cls(popen, stderr)
        child._watch()
        pipe = pipe_file(err_r)
        try:
            await loop.connect_read_pipe(lambda: stderr, pipe)
        except BaseException:
            pipe.close()
            child.kill()
            raise
        return child

    def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:  # no pidfds (Linux < 5.3): a thread waits instead
            waiting = loop.run_in_executor(None, self._popen.wait)
            waiting.add_done_callback(lambda _: self._ended())
            return

        def readable() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            self._popen.wait()  # it has ended: this only reaps it
            self._ended()

        loop.add_reader(pidfd, readable)

    def _ended(self) -> None:
        if not self._exited.done():
            self._exited.set_result(self._popen.wait())

    @property
    def returncode(self) -> int | None:
        """The exit status once reaped (negative: killed by that signal), else None."""
        return self._popen.returncode

    async def wait(self) -> int:
        """Wait for the process to end; answer its ``returncode``."""
        return await asyncio.shield(self._exited)

    def kill(self) -> None:
        """SIGKILL it, unless it has been reaped (its pid could be another's by then)."""
        if self._popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


async def wait_group_gone(pgid: int, timeout: float) -> None:
    """Wait until every process of the group has ended (zombies count as ended: init reaps them late)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await asyncio.to_thread(_group_has_live_process, pgid):
            return
        await asyncio.sleep(0.005)
    logger.warning("processes of group %d did not end within %g s", pgid, timeout)


def _group_has_live_process(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == pgid:
            return True
    return False


async def wait_readable(fd: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await asyncio.wait_for(readable, timeout)
    except asyncio.TimeoutError:  # not the builtin before Python 3.11
        logger.warning("a sandbox's init process did not end within %g s", timeout)
    finally:
        loop.remove_reader(fd)


async def child_pid_or_exit(info_fd: int, exited: asyncio.Future[int]) -> int | None:
    """The pid bwrap writes to ``--info-fd``, or None when bwrap ends without writing it."""
    pid = _child_pid(info_fd)
    if pid is not None:
        return pid
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(info_fd, ready)
    try:
        either: list[asyncio.Future[Any]] = [readable, exited]
        await asyncio.wait(either, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(info_fd)
        readable.cancel()
    if not readable.done() or readable.cancelled():
        return None
    return await asyncio.to_thread(_child_pid, info_fd, True)


def parent_pid(pid: int) -> int | None:
    """The parent of ``pid`` from /proc, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rpartition(b")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _child_pid(info_fd: int, block: bool = False) -> int | None:
    """The host pid of the sandbox's PID 1, from what bwrap wrote to ``--info-fd``; None if not there yet."""
    os.set_blocking(info_fd, block)
    data = b""
    while b"}" not in data:
        try:
            chunk = os.read(info_fd, 4096)
        except BlockingIOError:
            if not data:
                return None
            os.set_blocking(info_fd, True)  # it is being written: the rest comes at once
            continue
        if not chunk:
            break
        data += chunk
    try:
        return int(json.loads(data)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None

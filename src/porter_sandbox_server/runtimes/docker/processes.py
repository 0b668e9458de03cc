"""Processes started through the engine's exec API, as ``Process``: streamed output, stdin, signals, terminals.

Each runs as an engine exec attached over a hijacked connection: one thread
reads it (demultiplexing stdout and stderr, or a terminal's raw output) into
a ``ChunkQueue``, and waits while the queue is full, so the engine stops
reading the process's output and the process blocks. Writes to stdin go
through one more thread per process, in order (the engine may stop taking
them while the process does not read).

The engine cannot signal an exec. So each process carries its exec id in its
environment (``PORTER_SANDBOX_EXEC_ID``, inherited by its children), and a
signal is a second exec that sends it to the process group of every process
of the container whose environment holds that id, each group at once: the
process, its group, and any child that left for a group of its own (a
shell's jobs). That needs ``sh``, ``tr`` and ``grep`` in the image (busybox
and Debian images have them); without them a signal fails and says so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import docker.errors
import requests.exceptions

from ..base import OutputChunk, Process, RuntimeUnavailable, SandboxGone, StdinClosed, Stream, TerminalSize
from ..processes import ChunkQueue
from .streams import HijackedStream, frames

if TYPE_CHECKING:
    from .runtime import DockerRuntime, _Container

#: The environment variable that marks every process of one exec (its id), so a signal can find them.
EXEC_MARK = "PORTER_SANDBOX_EXEC_ID"

#: Sends signal ``$1`` to every process whose environment holds ``$2``, and to its whole process group at once
#: (so a shell cannot run on after its child was killed); prints how many it signalled.
_SIGNAL_SCRIPT = (
    "sig=$1; mark=$2; n=0; for f in /proc/[0-9]*/environ; do "
    '{ tr "\\0" "\\n" <"$f" | grep -q -x -F -e "$mark"; } 2>/dev/null || continue; '
    'p=${f#/proc/}; p=${p%/environ}; s=$(cat "/proc/$p/stat" 2>/dev/null) || continue; '
    'set -- ${s##*) }; kill -s "$sig" -- "-$3" "$p" 2>/dev/null && n=$((n+1)); done; echo $n'
)


class DockerProcess(Process):
    """One engine exec, attached: see the module doc."""

    def __init__(
        self,
        runtime: DockerRuntime,
        entry: _Container,
        engine_exec_id: str,
        sock: HijackedStream,
        *,
        program: str,
        mark: str,
        terminal: bool,
        stdin: bool,
    ) -> None:
        self._runtime = runtime
        self._entry = entry
        self._engine_exec_id = engine_exec_id
        self._sock = sock
        self._program = program
        self._mark = mark
        self._terminal = terminal
        self._has_stdin = stdin
        self._loop = asyncio.get_running_loop()
        streams: tuple[Stream, ...] = ("stdout",) if terminal else ("stdout", "stderr")
        self._queue = ChunkQueue(streams)
        self._exit: asyncio.Future[int] = self._loop.create_future()
        self._stopped = threading.Event()
        self._started_at = time.time()
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        self._stdin_closed = not stdin
        self._thread = threading.Thread(target=self._read, name=f"docker-process-{mark}", daemon=True)
        self._thread.start()

    # The reader thread

    def _read(self) -> None:
        failure: bytes | None = None
        first = True
        try:
            for stream, data in self._chunks():
                if first and stream == "stdout" and _engine_refusal(data):
                    failure = data  # the engine could not start the program: said on stderr, as a shell would
                    break
                first = False
                if not self._queue.put_from_thread(stream, data, self._stopped.is_set):
                    return
        except OSError:
            pass  # the connection broke (the container went away, or close() ended it)
        finally:
            self._sock.close()
            self._finish(failure)

    def _chunks(self) -> Iterator[OutputChunk]:
        if self._terminal:
            while data := self._sock.recv(1 << 16):
                yield "stdout", data
            return
        for number, data in frames(self._sock):
            if number == 1:
                yield "stdout", data
            elif number == 2:
                yield "stderr", data

    def _finish(self, failure: bytes | None) -> None:
        from .runtime import start_failure_of

        code: int | None = None
        note = ""
        try:
            if self._entry.stopping or (failure is not None and not self._container_runs()):
                code = None  # the container ended under it (the engine says so in many words): so did the sandbox
            elif failure is not None:
                code, note = start_failure_of(self._program, failure)
            else:
                code = self._runtime._exec_exit_code(self._engine_exec_id)
                entry = self._entry
                if (
                    code == 137
                    and entry.memory_bytes
                    and self._runtime._oom_killed(entry.container_id, self._started_at)
                ):
                    note = (
                        f"killed: the sandbox exceeded its memory limit of {entry.memory_bytes} bytes (out of memory)"
                    )
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            code = None  # the container is gone: so is the sandbox
        if note and not self._stopped.is_set():
            self._queue.put_from_thread("stderr", (note + "\n").encode(), self._stopped.is_set)
        self._queue.call_from_thread(self._queue.end_all)
        self._queue.call_from_thread(lambda: self._settle(code))

    def _container_runs(self) -> bool:
        inspect = self._runtime._api.inspect_container
        try:
            return bool(inspect(self._entry.container_id)["State"].get("Running"))
        except docker.errors.NotFound:
            return False

    def _settle(self, code: int | None) -> None:
        if self._exit.done():
            return
        if code is None or code < 0:
            self._exit.set_exception(SandboxGone("the sandbox ended while the process ran"))
        else:
            self._exit.set_result(code)

    # Process

    async def read(self) -> OutputChunk | None:
        """The next output, as the process writes it; ``None`` once it is over."""
        return await self._queue.get()

    async def write(self, data: bytes) -> None:
        """Write to its stdin, in order, in its own thread (the engine may hold a write while the process reads none)."""
        if self._stdin_closed:
            raise StdinClosed("the process has no stdin, or it was closed")
        try:
            await self._loop.run_in_executor(self._writer_thread(), self._sock.send_all, data)
        except OSError as error:
            raise StdinClosed(f"the process does not read its stdin any more ({error})") from None

    async def close_stdin(self) -> None:
        """Close its stdin (on a terminal: type Ctrl-D), after every write before it."""
        if self._stdin_closed:
            return
        if self._terminal:
            with contextlib.suppress(StdinClosed):
                await self.write(b"\x04")
            return
        self._stdin_closed = True
        await self._loop.run_in_executor(self._writer_thread(), self._sock.close_write)

    def _writer_thread(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._writer is None:
            self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"docker-stdin-{self._mark}")
        return self._writer

    async def signal(self, signum: int) -> None:
        """Signal every process of this exec (found by its mark) with a second exec; see the module doc."""
        if self._exit.done() and self._exit.exception() is None:
            return  # it exited: nothing of it is left to signal
        await self._runtime._call(self._runtime._signal_marked, self._entry, self._mark, signum)

    async def resize(self, size: TerminalSize) -> None:
        """Resize the exec's terminal (the engine sets it and the process gets ``SIGWINCH``)."""
        if not self._terminal or self._exit.done():
            return
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            await self._runtime._call(self._resize, size)

    def _resize(self, size: TerminalSize) -> None:
        self._runtime._api.exec_resize(self._engine_exec_id, height=size.rows, width=size.cols)

    async def wait(self) -> int:
        """Its exit code, once its connection ended; ``SandboxGone`` when the container went first."""
        return await asyncio.shield(self._exit)

    async def close(self) -> None:
        """Stop reading and end the connection (the reader thread then ends); the process is not killed."""
        self._stopped.set()
        self._queue.discard()
        self._sock.close()
        if self._writer is not None:
            self._writer.shutdown(wait=False, cancel_futures=True)


def _engine_refusal(data: bytes) -> bool:
    """Whether an exec's first output is the engine saying it could not start it (it says so on stdout)."""
    return data.startswith(b"OCI runtime exec failed") or data.startswith(b"cannot exec in a stopped")


def signal_name(signum: int) -> str:
    """``signum`` as ``kill -s`` takes it (``KILL``, ``TERM``)."""
    return signal.Signals(signum).name.removeprefix("SIG")


def signal_script(signum: int, mark: str) -> list[str]:
    """The command that sends ``signum`` to every process marked with ``mark`` (see the module doc)."""
    return ["sh", "-c", _SIGNAL_SCRIPT, "porter-sandbox-signal", signal_name(signum), f"{EXEC_MARK}={mark}"]


def signalled_count(output: bytes) -> int:
    """How many processes the signal script reached (``RuntimeUnavailable`` when it could not run)."""
    lines = output.decode("utf-8", "replace").strip().splitlines()
    text = lines[-1].strip() if lines else ""
    if not text.isdigit():
        raise RuntimeUnavailable(
            f"could not signal the exec's processes: the container needs sh, tr and grep for that ({text[:200]})"
        )
    return int(text)

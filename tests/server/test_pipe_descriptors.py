"""The process runtime's pipes never close a descriptor twice, not even under uvloop with threads opening files.

uvloop's pipe transport closes the descriptor itself and then closes the file
object it was given: a second close of the same number. A thread that opened
a file between the two (the server's scratch removals and store checkpoints
run in threads, and a syscall needs no GIL) got that number, and lost its
file: in the server, a pidfd or a client's connection went instead, and
requests hung. Seen only under load, so this makes the load: threads open and
close files while the loop opens and closes thousands of pipes, in a process
of its own (a lost descriptor can abort it).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("uvloop")

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, threading, uvloop
    from porter_sandbox_server.runtimes.process.pipes import OutputReader, read_pipe

    class Events:
        def log(self, *args): pass
        def exited(self, *args): pass
        def accepting_logs(self): return True

    lost = []
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            fd = os.open("/dev/null", os.O_RDONLY)
            try:
                os.close(fd)
            except OSError as error:
                lost.append(error)

    async def main():
        threads = [threading.Thread(target=churn) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(3000):
                r, w = os.pipe()
                reader = OutputReader(Events(), "sb", "ex", "stdout")
                await read_pipe(r, reader)
                os.write(w, b"a line\\n")
                os.close(w)
                await reader.done
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        print("lost", len(lost))

    uvloop.run(main())
    """
)


def test_pipes_under_uvloop_never_close_a_descriptor_twice() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "lost 0", result.stdout

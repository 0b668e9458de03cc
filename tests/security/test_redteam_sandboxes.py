"""Attacks on other sandboxes and on the server from inside a sandbox: signals, ptrace, descriptors of processes."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from redteam import Target, sh

from porter_sandbox import Porter

pytestmark = pytest.mark.slow


def _host_pid_of(marker: str, timeout: float = 10.0) -> int:
    """The host pid of the process whose command line holds ``marker``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in command and b"sleep" in command:
                return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no process with {marker} in its command line")


def test_another_sandboxs_processes_cannot_be_seen_signalled_or_traced(target: Target, porter: Porter) -> None:
    marker = f"9{uuid.uuid4().int % 10**8}"
    victim = target.sandbox(porter, command=["sleep", f"3{marker}"])
    victim_pid = _host_pid_of(marker)
    attacker = target.sandbox(porter)
    # The marker is put together at run time, so that this script's own command line does not hold it.
    seen = sh(
        attacker,
        f'm=3; m="${{m}}{marker}"; for f in /proc/[0-9]*/cmdline; do case "$(tr "\\0" " " < $f)" in *"$m"*) echo "$f";; esac; '
        "done 2>/dev/null; echo end",
    ).stdout
    assert seen.strip() == "end", seen
    for pid in (victim_pid, 1, 2):
        result = sh(attacker, f"kill -0 {pid} 2>/dev/null && cat /proc/{pid}/cmdline | tr '\\0' ' '; echo")
        assert marker not in result.stdout, (pid, result)
    sh(attacker, f"kill -9 {victim_pid} 2>/dev/null; kill -9 -1 2>/dev/null; true")
    assert victim.refresh().phase == "running"
    assert Path(f"/proc/{victim_pid}").exists()
    if target.runtime == "process":
        trace = (
            "import ctypes, os, sys\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "for pid in map(int, sys.argv[1:]):\n"
            "    r = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH\n"
            "    print(pid, r, os.strerror(ctypes.get_errno()))\n"
            "    try:\n"
            "        fd = os.pidfd_open(pid)\n"
            "        print(pid, 'PIDFD', fd)\n"
            "    except OSError as error:\n"
            "        print(pid, 'no pidfd', error.errno)\n"
        )
        result = attacker.exec(["python3", "-c", trace, str(victim_pid)])
        assert f"{victim_pid} -1 " in result.stdout and "PIDFD" not in result.stdout, result


def test_the_server_cannot_be_signalled_from_a_sandbox(target: Target, porter: Porter) -> None:
    server_pid = target.server.pid
    attacker = target.sandbox(porter)
    sh(attacker, f"kill -9 {server_pid} 2>/dev/null; kill -STOP {server_pid} 2>/dev/null; true")
    with target.client() as client:
        assert client.sandboxes.get(attacker.id).phase == "running"


def test_a_process_of_another_sandbox_reached_through_a_socket_in_a_shared_volume_stays_out_of_reach(
    target: Target, porter: Porter
) -> None:
    """Two sandboxes share a volume; one listens on a Unix socket there. The peer credential of a connection
    hands the other a pidfd of the listener (``SO_PEERPIDFD``): it must not take its descriptors or signal it."""
    if target.runtime != "process":
        pytest.skip("the test image of the Docker runtime has no python to make the calls with")
    volume = target.volume(porter)
    listener = target.sandbox(
        porter,
        volume_mounts={"/shared": volume.id},
        command=[
            "python3",
            "-c",
            "import socket, time\n"
            "s = socket.socket(socket.AF_UNIX); s.bind('/shared/sock'); s.listen(1)\n"
            "secret = open('/workspace/secret', 'w+'); secret.write('listener-secret'); secret.flush()\n"
            "while True: c, _ = s.accept(); time.sleep(30)\n",
        ],
    )
    for _ in range(100):
        if (target.volume_dir(volume) / "sock").exists():
            break
        time.sleep(0.05)
    attacker = target.sandbox(porter, volume_mounts={"/shared": volume.id})
    steal = (
        "import ctypes, os, socket, struct\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "c = socket.socket(socket.AF_UNIX); c.connect('/shared/sock')\n"
        "try:\n"
        "    pidfd = struct.unpack('i', c.getsockopt(socket.SOL_SOCKET, 77, 4))[0]  # SO_PEERPIDFD\n"
        "except OSError as error:\n"
        "    print('no peer pidfd', error.errno); raise SystemExit\n"
        "for fd in range(3, 12):\n"
        "    got = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd\n"
        "    if got >= 0:\n"
        "        print('STOLE', fd, os.readlink(f'/proc/self/fd/{got}'))\n"
        "print('getfd', os.strerror(ctypes.get_errno()))\n"
        "print('signal', libc.syscall(424, pidfd, 19, 0, 0), os.strerror(ctypes.get_errno()))  # SIGSTOP\n"
    )
    result = attacker.exec(["python3", "-c", steal])
    assert "STOLE" not in result.stdout, result
    assert "signal 0 " not in result.stdout, result
    assert listener.refresh().phase == "running"

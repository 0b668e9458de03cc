"""A sandbox's firewall can be installed whatever descriptor numbers the server holds.

Each live sandbox holds about ten of the server's descriptors (and ``serve
--pool 64`` holds some 640 while idle), so a busy server's numbers pass
FD_SETSIZE (1024). libnftables 1.0.6 waits on its netlink socket with
``select()``; glibc aborts the whole process when that socket's number is
1024 or more, and every sandbox dies with the server. So a context is made
only while low numbers are free; past them the ``nft`` program stands in,
run from the sandbox's network thread. Run in a process of its own, whose
open descriptors stand for a hundred live sandboxes; the rules must land in
the sandbox's namespace, not the host's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runtimes import require_bwrap

pytestmark = pytest.mark.bwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, subprocess, sys
    from pathlib import Path
    from porter_sandbox_server.runtimes.base import LaunchSpec
    from porter_sandbox_server.runtimes.process import ProcessRuntime

    class Events:
        def log(self, *args): pass
        def exited(self, *args): pass
        def accepting_logs(self): return True

    async def main():
        runtime = ProcessRuntime(Path(sys.argv[1]), "bwrap")
        await runtime.open(Events())
        try:
            assert runtime.network is not None, runtime.network_unavailable
            # What a hundred live sandboxes hold: every number below 1024 is taken.
            held = [os.open("/dev/null", os.O_RDONLY) for _ in range(1100)]
            spec = LaunchSpec(
                sandbox_id="sb-busy", name="busy", image="python:3.12-slim", command=None, args=None,
                env={}, tags={}, egress=["192.0.2.1"],
            )
            await runtime.launch(spec)
            result = await runtime.exec("sb-busy", ["echo", "ok"], "ex-1", {})
            print(result.stdout.strip(), flush=True)
            sandbox = runtime._sandboxes["sb-busy"]
            print("program" if sandbox.network.nft.program else "library", flush=True)
            inside = subprocess.run(
                ["nsenter", "-t", str(sandbox.agent_pid), "-n", "nft", "list", "table", "inet", "porter"],
                capture_output=True, text=True, timeout=30,
            )
            print("inside:", "192.0.2.1" in inside.stdout and "@allowed accept" in inside.stdout, flush=True)
            # A DNS answer opens its addresses through the same path.
            await sandbox.network.allow(["198.51.100.9"], 30)
            inside = subprocess.run(
                ["nsenter", "-t", str(sandbox.agent_pid), "-n", "nft", "list", "set", "inet", "porter", "allowed"],
                capture_output=True, text=True, timeout=30,
            )
            print("opened:", "198.51.100.9" in inside.stdout, flush=True)
            for fd in held:
                os.close(fd)
        finally:
            await runtime.close(stop_sandboxes=True)

    asyncio.run(main())
    """
)


def test_a_sandbox_starts_with_its_policy_on_a_server_holding_over_a_thousand_descriptors(tmp_path: Path) -> None:
    require_bwrap()
    if os.geteuid() != 0 or shutil.which("slirp4netns") is None:
        pytest.skip("sandboxes get a network on a root server with slirp4netns only")
    ran = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")], capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the server process ended with {ran.returncode}: {ran.stderr[-2000:]}"
    assert ran.stdout.split("\n")[:4] == ["ok", "program", "inside: True", "opened: True"], ran.stdout
    # Not in the host's namespace: the table there would guard nothing.
    host = subprocess.run(["nft", "list", "table", "inet", "porter"], capture_output=True, text=True, timeout=30)
    assert host.returncode != 0, host.stdout

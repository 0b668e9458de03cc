"""A server that died while a snapshot held a sandbox frozen: the next one thaws, ends and removes what it left."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from porter_sandbox_server.runtimes.process.cgroups import Cgroups


def test_a_frozen_sandbox_of_a_dead_server_is_ended_and_its_cgroups_removed() -> None:
    cgroups = Cgroups.discover()
    if cgroups is None or cgroups.freezer is None:
        pytest.skip("this host lets the server make no freezer cgroup")
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no process has now: the dead server's
    stale = cgroups.freezer / f"porter-sandbox-{gone.pid}-sb-left-frozen"
    stale.mkdir()
    left = subprocess.Popen(["sleep", "600"])
    try:
        (stale / "cgroup.procs").write_text(str(left.pid))
        if cgroups.version == 1:
            (stale / "freezer.state").write_text("FROZEN")
        else:
            (stale / "cgroup.freeze").write_text("1")
        cgroups.remove_stale()
        assert left.wait(timeout=10) == -9
        deadline = time.monotonic() + 10
        while stale.exists():
            cgroups.remove_stale()
            assert time.monotonic() < deadline, f"{stale} was never removed"
            time.sleep(0.05)
    finally:
        if left.poll() is None:
            os.kill(left.pid, 9)
            left.wait()
        if stale.exists():
            (stale / ("freezer.state" if cgroups.version == 1 else "cgroup.freeze")).write_text(
                "THAWED" if cgroups.version == 1 else "0"
            )
            stale.rmdir()

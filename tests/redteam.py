"""What the red-team suite (tests/security) shares: its targets, real servers attacked from inside their sandboxes.

``target`` is a running server, once per way the project runs sandboxes:

- ``process-root``: the process runtime on a server running as root (the
  common case in CI and containers); needs the tests to run as root;
- ``process-pool``: the same with ``--pool 2``, so that attacks run in
  pre-started sandboxes (the suite checks that some did);
- ``process-user``: the process runtime on a server running as an
  unprivileged user: ``nobody`` (through ``setpriv``, with a data directory of
  its own) when the tests run as root, else the tests' own user;
- ``docker``: the Docker runtime on a root server.

Every server runs with small limits (``LIMITS``) so that the limit attacks
meet them fast. Each test performs the real attack and asserts that it fails;
an attack that would change the host if it succeeded writes the value already
there, or aims at a temporary directory the test made.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from docker_support import RUN_TAG
from runtimes import DOCKER_TEST_IMAGE, _missing, bwrap_available, require_bwrap, require_docker

from porter_sandbox import Porter
from porter_sandbox.testing import LocalServer

#: The uid (and gid) a root test run starts the unprivileged server as.
NOBODY = 65534
MAX_PIDS = 48
MAX_TOTAL_PIDS = 160
DEFAULT_MEMORY = "256Mi"
LIMITS = ["--max-pids", str(MAX_PIDS), "--max-total-pids", str(MAX_TOTAL_PIDS), "--default-memory", DEFAULT_MEMORY]

TARGETS = [
    pytest.param("process-root", marks=pytest.mark.bwrap),
    # A root server keeping sandboxes started (``serve --pool``): attacks from pooled sandboxes.
    pytest.param("process-pool", marks=pytest.mark.bwrap),
    pytest.param("process-user", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
    # The docker runtime keeping containers started (``serve --pool``), primed with one launch of the
    # attacks' usual shape: attacks from pooled containers.
    pytest.param("docker-pool", marks=pytest.mark.docker),
]


class UnprivilegedServer(LocalServer):
    """A local server started as ``nobody`` by a root test run, its data directory nobody's."""

    def __init__(self, **options: Any) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="porter-redteam-"))
        os.chown(data_dir, NOBODY, NOBODY)
        super().__init__(data_dir=data_dir, **options)
        self._owns_data_dir = True

    @staticmethod
    def launcher() -> list[str]:
        """``setpriv`` switching to nobody, with no supplementary groups."""
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) is needed to start a server as nobody"
        return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]

    def _command(self) -> list[str]:
        return [*self.launcher(), *super()._command()]


@dataclass
class Target:
    """A running server under attack, and what the attacks need to know about it."""

    kind: str
    server: LocalServer
    image: str
    #: The host uid that processes in its sandboxes run as (0 for Docker containers without remapping).
    sandbox_uid: int
    #: The uid of the server process itself.
    server_uid: int
    made: list[Any] = field(default_factory=list)

    @property
    def root_server(self) -> bool:
        """Whether this is a process-runtime server running as root (the one that enforces egress)."""
        return self.kind in ("process-root", "process-pool")

    @property
    def runtime(self) -> str:
        """``process`` or ``docker``."""
        return "docker" if self.kind.startswith("docker") else "process"

    def client(self) -> Porter:
        """An SDK client for this server."""
        return self.server.client(timeout=120)

    def sandbox(self, porter: Porter, **options: Any) -> Any:
        """A new sandbox on this server, running (tagged so that a Docker run finds its own)."""
        options.setdefault("tags", dict(RUN_TAG))
        sandbox = porter.sandboxes.create(image=self.image, name=f"rt-{uuid.uuid4().hex[:10]}", **options)
        self.made.append(sandbox)
        return sandbox

    def volume(self, porter: Porter) -> Any:
        """A new volume, deleted after the test (once the sandboxes that mount it are gone)."""
        volume = porter.volumes.create()
        self.made.append(_VolumeCleanup(porter, volume))
        return volume

    def data_dir(self) -> Path:
        """The server's data directory on the host."""
        return Path(self.server.data_dir)

    def volume_dir(self, volume: Any) -> Path:
        """Where a volume's files are on the host."""
        return self.data_dir() / "volumes" / volume.id


class _VolumeCleanup:
    """Deletes a volume at the end of a test, and first any sandbox still mounting it (one an attack made)."""

    def __init__(self, porter: Porter, volume: Any) -> None:
        self.porter = porter
        self.volume = volume

    def terminate(self) -> None:
        for sandbox_id in self.porter.volumes.get(self.volume.id).attached_to:
            self.porter.sandboxes.get(sandbox_id).terminate()
        self.volume.delete()


def _sandbox_uid_from_log(server: LocalServer) -> int:
    log = server.log()
    match = re.search(r"sandboxes run as host uid (\d+)", log)
    assert match, f"the server's log does not say whose uid sandboxes run as:\n{log}"
    assert "processes per sandbox" in log and "all sandboxes together at most" in log, log
    return int(match.group(1))


def _wait_for_pool(server: LocalServer, timeout: float = 60.0) -> None:
    """Wait until the server's pool first filled, so that the first attack of a module runs in a pooled sandbox."""
    deadline = time.monotonic() + timeout
    while "sandbox pool: 2 sandboxes started and ready" not in server.log():
        assert time.monotonic() < deadline, f"the pool did not fill in {timeout:g} s:\n{server.log()[-2000:]}"
        time.sleep(0.05)


def start_target(kind: str) -> Target:
    """Start the server of ``kind`` (skipping, or failing where CI demands it, when this machine cannot)."""
    if kind in ("docker", "docker-pool"):
        require_docker()
        pool = ["--pool", "2"] if kind == "docker-pool" else []
        server = LocalServer(runtime="docker", extra_args=["--docker-network", "none", *LIMITS, *pool]).start()
        if pool:  # it fills for the shape of a launch it saw: the attacks' usual one
            with server.client() as porter:
                porter.sandboxes.create(image=DOCKER_TEST_IMAGE, name="rt-primer", tags=dict(RUN_TAG)).terminate()
            _wait_for_pool(server)
        # Container root is host root, unless the engine remaps users (the server's log says which).
        remapped = re.search(r"container root is host uid (\d+)", server.log())
        sandbox_uid = int(remapped.group(1)) if remapped else 0
        return Target(kind, server, DOCKER_TEST_IMAGE, sandbox_uid=sandbox_uid, server_uid=os.geteuid())
    if not bwrap_available():
        require_bwrap()
    if kind in ("process-root", "process-pool"):
        if os.geteuid() != 0:
            pytest.skip("a root server needs the tests to run as root")
        pool = ["--pool", "2"] if kind == "process-pool" else []
        server = LocalServer(runtime="process", isolation="bwrap", extra_args=[*LIMITS, *pool]).start()
        if pool:
            _wait_for_pool(server)
        return Target(kind, server, "python:3.12-slim", _sandbox_uid_from_log(server), server_uid=0)
    if os.geteuid() == 0:
        # Started the way UnprivilegedServer starts it: setpriv runs the interpreter as nobody.
        probe = [*UnprivilegedServer.launcher(), sys.executable, "-c", "import porter_sandbox_server.cli"]
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
        code, said = done.returncode, done.stderr
        if code != 0:
            _missing(
                f"nobody cannot run the server from this checkout ({said.strip()[-200:]}): put it where every "
                "user may read it to run the red-team suite on an unprivileged server",
                "PORTER_SANDBOX_REQUIRE_BWRAP",
            )
        server = UnprivilegedServer(runtime="process", isolation="bwrap", extra_args=LIMITS).start()
        return Target(kind, server, "python:3.12-slim", _sandbox_uid_from_log(server), server_uid=NOBODY)
    server = LocalServer(runtime="process", isolation="bwrap", extra_args=LIMITS).start()
    return Target(kind, server, "python:3.12-slim", _sandbox_uid_from_log(server), server_uid=os.geteuid())


def sh(sandbox: Any, script: str, timeout: float = 120) -> Any:
    """Run a shell script in the sandbox; answer the ``ExecResult``."""
    return sandbox.exec(["sh", "-c", script], timeout=timeout)


def host_tasks_of(uid: int) -> int:
    """How many tasks (processes and threads) on this host run as ``uid``."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/status", "rb") as status:
                    for line in status:
                        if line.startswith(b"Uid:"):
                            count += int(line.split()[1]) == uid
                            break
            except OSError:
                continue
    return count


def run_as(uid: int, argv: list[str]) -> tuple[int, str]:
    """Run ``argv`` on the host as another unprivileged ``uid`` (a local user who is not the server)."""
    setpriv = shutil.which("setpriv")
    assert setpriv is not None
    # Through a shell: setpriv keeps root's capabilities until its own exec, so the path of a program it
    # starts directly is looked up as root.
    done = subprocess.run(
        [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", "/bin/sh", "-c", 'exec "$0" "$@"', *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr

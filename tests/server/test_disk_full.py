"""A full disk: every route answers (507 where it would have to write), nothing is half-recorded, reads work.

The server runs in a mount namespace of its own (``unshare -m``) whose data
directory is a small tmpfs, and a sandbox fills it as careless code would:
writing into its ``/tmp`` until the disk refuses. When the server ends, its
namespace and the tmpfs go with it. Needs root (to mount); skips without.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_calls import create, wait_for

from porter_sandbox.testing import bubblewrap_available

pytestmark = pytest.mark.slow

FILL = ["sh", "-c", 'cat /dev/zero > "${TMPDIR:-/tmp}/fill"; exit 0']
FREE = ["sh", "-c", 'rm -f "${TMPDIR:-/tmp}/fill"']


class SmallDiskServer:
    """``porter-sandbox serve`` on a 128 MiB tmpfs in a mount namespace of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        isolation = "bwrap" if bubblewrap_available() else "none"
        serve = [sys.executable, "-m", "porter_sandbox_server", "serve", "--port", "0", "--isolation", isolation]
        script = 'mount -t tmpfs -o size=128m tmpfs "$0" && exec "$@" --data-dir "$0"'
        self.log = data_dir.parent / "server.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(data_dir), *serve],
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline().decode() if ready else ""
        match = re.search(r"serving (http://\S+)", line)
        if match is None:
            self.stop()
            pytest.skip(f"cannot run a server on a tmpfs of its own here: {self.log.read_text()[-500:]}")
        self.url = match.group(1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


@pytest.fixture
def small_disk_server(tmp_path: Path) -> Iterator[SmallDiskServer]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to give the server a small disk of its own")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = SmallDiskServer(data_dir)
    try:
        yield server
    finally:
        assert server.stop() == 0, server.log.read_text()[-3000:]


def test_a_full_disk_answers_507_where_a_write_is_needed_and_reads_keep_working(
    small_disk_server: SmallDiskServer,
) -> None:
    with httpx.Client(base_url=small_disk_server.url, timeout=60) as api:
        volume = api.post("/v1/volume", json={"name": "kept"}).json()["id"]
        content = f"/v1/volume/{volume}/files/content"
        assert api.put(content, params={"path": "/a.txt"}, content=b"before").status_code == 204
        filler = create(api, name="filler")
        wait_for(api, filler, {"running"})
        done = create(api, name="done", command=["sh", "-c", "echo finished"])
        wait_for(api, done, {"succeeded"})

        assert api.post(f"/v1/sandbox/{filler}/exec", json={"command": FILL}).status_code == 200
        # Output of an exec while the disk is full: answered, and kept for the logs until there is room.
        said = api.post(f"/v1/sandbox/{filler}/exec", json={"command": ["echo", "written while full"]})
        assert said.status_code == 200 and said.json()["stdout"] == "written while full\n"

        answers = {
            "create sandbox": api.post("/v1/sandbox/run", json={"image": "x", "name": "refused"}),
            "create volume": api.post("/v1/volume", json={"name": "refused"}),
            "upload": api.put(content, params={"path": "/b.txt"}, content=b"x" * 1024 * 1024),
            "replace": api.put(content, params={"path": "/a.txt"}, content=b"after"),
            "list sandboxes": api.get("/v1/sandbox"),
            "counts": api.get("/v1/sandbox/counts"),
            "get sandbox": api.get(f"/v1/sandbox/{filler}"),
            "lookup": api.get("/v1/sandbox/lookup", params={"name": "filler"}),
            "logs": api.get(f"/v1/sandbox/{done}/logs"),
            "list volumes": api.get("/v1/volume"),
            "get volume": api.get(f"/v1/volume/{volume}"),
            "list files": api.get(f"/v1/volume/{volume}/files"),
            "read file": api.get(content, params={"path": "/a.txt"}),
            "move": api.post(f"/v1/volume/{volume}/files/move", json={"from": "/a.txt", "to": "/c.txt"}),
            "healthz": api.get("/healthz"),
            "readyz": api.get("/readyz"),
        }
        statuses = {what: answer.status_code for what, answer in answers.items()}
        print(f"\nwith the disk full: {statuses}")
        assert 500 not in statuses.values(), {w: a.text for w, a in answers.items() if a.status_code == 500}
        for what in ["create sandbox", "create volume", "upload", "replace"]:
            assert statuses[what] == 507, (what, answers[what].text)
            assert "disk" in answers[what].json()["error"] and "free" in answers[what].json()["error"]
        for what in ["list sandboxes", "counts", "get sandbox", "lookup", "logs", "list volumes", "get volume"]:
            assert statuses[what] == 200, (what, answers[what].text)
        assert answers["read file"].content == b"before"
        assert [entry["line"] for entry in answers["logs"].json()["logs"]] == ["finished"]
        # Nothing half-recorded: the refused sandbox and volume do not exist, the file kept its content.
        assert api.get("/v1/sandbox/lookup", params={"name": "refused"}).status_code == 404
        assert api.get("/v1/volume/lookup", params={"name": "refused"}).status_code == 404
        assert "b.txt" not in [entry["name"] for entry in api.get(f"/v1/volume/{volume}/files").json()["entries"]]

        # A terminate while full is answered and recorded once there is room.
        assert api.delete(f"/v1/sandbox/{done}").status_code == 204
        assert api.post(f"/v1/sandbox/{filler}/exec", json={"command": FREE}).status_code == 200

        deadline = time.monotonic() + 30
        while api.post("/v1/volume", json={"name": "after"}).status_code != 201:
            assert time.monotonic() < deadline, "the server never took writes again"
            time.sleep(0.2)
        lines = [entry["line"] for entry in api.get(f"/v1/sandbox/{filler}/logs").json()["logs"]]
        assert "written while full" in lines
        assert api.post("/v1/sandbox/run", json={"image": "x", "name": "after"}).status_code == 201
        assert api.get(f"/v1/sandbox/{filler}").json()["phase"] == "running"

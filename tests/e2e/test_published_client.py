"""Porter's own published client (``porter-sandbox==0.1.68`` on PyPI) runs its operations against our server.

It shares our distribution's import name, so it is installed with pip into a
folder of its own (once per machine, under ``.venv``) and run in a child
interpreter that sees only that folder: nothing of ours is imported there.
Every runtime's server runs it (``server`` is parametrised), the Kubernetes
one included. Where PyPI cannot be reached the test skips, except in CI
(``CI`` set), which reaches PyPI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

PUBLISHED = "porter-sandbox==0.1.68"
TARGET = Path(sys.prefix) / "porter-published-0.1.68"

SCRIPT = textwrap.dedent(
    """
    import sys, uuid
    from porter_sandbox import Porter

    url, image = sys.argv[1], sys.argv[2]
    name = f"published-{uuid.uuid4().hex[:8]}"
    with Porter(base_url=url, timeout=300) as porter:
        print("health", porter.healthz.health_check().status)
        print("ready", porter.readyz.readiness_check().status)
        volume = porter.volumes.create(name=f"{name}-vol")
        sandbox = porter.sandboxes.create(
            image, name=name, tags={"client": "published"}, env={"WHO": "published"}, volume_mounts={"/data": volume.id}
        )
        same = porter.sandboxes.get(name)
        print("same", same.id == sandbox.id)
        result = sandbox.exec(["sh", "-c", "echo hello $WHO; echo oops >&2; echo shared > /data/note.txt"])
        print("exec", result.exit_code, result.stdout.strip(), result.stderr.strip())
        print("phase", sandbox.refresh().phase.value)
        print("logs", sorted(line.line for line in sandbox.logs(limit=10)))
        print("listed", [s.id for s in porter.sandboxes.list(tags={"client": "published"})] == [sandbox.id])
        print("file", volume.read_text("/note.txt").strip())
        volume.write_text("/from-client.txt", "written")
        print("listdir", [entry.name for entry in volume.listdir("/")])
        print("attached", porter.volumes.get(f"{name}-vol").attached_to == [sandbox.id])
        sandbox.terminate()
        print("terminated", sandbox.refresh().phase.value)
        volume.delete()
        print("volumes", [v.name for v in porter.volumes.list() if v.name == f"{name}-vol"])
    """
)


@pytest.fixture(scope="session")
def published_client() -> Path:
    """The folder Porter's published client is installed in (installed on first use)."""
    if not (TARGET / "porter_sandbox").is_dir():
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(TARGET), PUBLISHED],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"pip could not install {PUBLISHED}: {done.stderr[-2000:]}")
            pytest.skip(f"pip could not install {PUBLISHED} (offline?)")
    return TARGET


def test_the_published_client_runs_its_operations(published_client: Path, server: Any) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTER_")}
    env["PYTHONPATH"] = str(published_client)
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(published_client)!r}); exec({SCRIPT!r})",
            server.url,
            server.image,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    said = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert said["health"] == "ok" and said["ready"] == "ready"
    assert said["same"] == "True" and said["listed"] == "True" and said["attached"] == "True"
    assert said["exec"] == "0 hello published oops"
    assert said["phase"] == "running" and said["terminated"] == "terminated"
    assert "'hello published'" in said["logs"]
    assert said["file"] == "shared"
    assert said["listdir"] == "['from-client.txt', 'note.txt']"
    assert said["volumes"] == "[]"


NETWORK_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from porter_sandbox import Porter, SandboxEgressSpec, SandboxNetworkingSpec

    url, app, probe, allowed, denied = sys.argv[1:6]
    with Porter(base_url=url, timeout=300) as porter:
        sandbox = porter.sandboxes.create(
            "python:3.12-slim",
            command=["python3", "-c", app],
            networking=[SandboxNetworkingSpec(port=8000)],
            egress=SandboxEgressSpec(allowed_destinations=["allowed.test"]),
        )
        status = sandbox.refresh()
        while status.phase.value in ("queued", "creating"):
            time.sleep(0.05)
            status = sandbox.refresh()
        print("host", status.host, flush=True)
        result = sandbox.exec(["python3", "-c", probe, allowed, denied])
        print("probe", json.dumps(result.stdout.split()))
        sys.stdin.readline()  # the test has fetched the served port
        sandbox.terminate()
    """
)

#: Serves GET on port 8000 of the sandbox's loopback with "served".
NETWORK_APP = (
    "import http.server\n"
    "class A(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.send_header('Content-Length', '6'); self.end_headers()\n"
    "        self.wfile.write(b'served')\n"
    "http.server.HTTPServer(('127.0.0.1', 8000), A).serve_forever()\n"
)
#: Fetches each URL of argv: what it read, or "refused".
NETWORK_PROBE = (
    "import sys, urllib.request\n"
    "for url in sys.argv[1:]:\n"
    "    try: print(urllib.request.urlopen(url, timeout=5).read().decode())\n"
    "    except OSError: print('refused')\n"
)


@pytest.mark.bwrap
def test_the_published_clients_networking_and_egress_take_effect(published_client: Path) -> None:
    import httpx
    from netns_hosts import HostNetns
    from runtime_servers import start_server

    with HostNetns.make() as hosts:
        server = start_server("process", extra_args=["--dns-upstream", hosts.dns_upstream])
        try:
            env = {key: value for key, value in os.environ.items() if not key.startswith("PORTER_")}
            script = f"import sys; sys.path.insert(0, {str(published_client)!r}); exec({NETWORK_SCRIPT!r})"
            allowed, denied = "http://allowed.test:8099/", f"http://{hosts.ip(5)}:8099/"
            with subprocess.Popen(
                [sys.executable, "-I", "-c", script, server.url, NETWORK_APP, NETWORK_PROBE, allowed, denied],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            ) as child:
                assert child.stdout is not None
                host = child.stdout.readline().split(" ", 1)[1].strip()
                # The app is served at the status's host, through the server.
                port = server.url.rstrip("/").rsplit(":", 1)[1]
                assert host.startswith("http://8000-") and host.endswith(f".localhost:{port}/"), host
                header = host.removeprefix("http://").rstrip("/")
                for _ in range(100):
                    got = httpx.get(server.url, headers={"Host": header}, timeout=10)
                    if got.status_code == 200:
                        break
                    time.sleep(0.05)  # the app may still be starting (502)
                assert got.text == "served", got.text
                out, err = child.communicate("fetched\n", timeout=300)
            assert child.returncode == 0, err[-4000:]
            assert out.strip() == 'probe ["' + hosts.ip(3) + '", "refused"]', out
        finally:
            server.close()

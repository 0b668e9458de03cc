"""The Kubernetes runtime through the real server (``serve --runtime kubernetes``), over HTTP, on a real cluster.

What the shared suites cannot see: the pod itself (labels, security, limits),
logs that outlive it, out-of-memory, TTLs, a pod deleted behind the server's
back, adoption after a crash, an API server that goes away, and the volume
files API keeping its path rules on a claim a sandbox tampered with.

Needs a cluster at KUBECONFIG with the test images (``runtimes.require_kubernetes``);
skips without one, fails with ``PORTER_SANDBOX_REQUIRE_KUBERNETES=1``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import server_calls
import yaml
from kube_support import SERVER_ARGS, cleanup, ensure_namespace, kubectl, pod
from runtimes import DOCKER_TEST_IMAGE, require_kubernetes

from porter_sandbox.testing import LocalServer

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]
TERMINAL = server_calls.TERMINAL
#: Pods take seconds on a loaded one-node cluster.
START = 180.0


@pytest.fixture(scope="module")
def kube_server() -> Iterator[LocalServer]:
    require_kubernetes()
    ensure_namespace()
    server = LocalServer(runtime="kubernetes", extra_args=SERVER_ARGS)
    try:
        server.start()
        yield server
    finally:
        server.close()
        cleanup()


@pytest.fixture
def api(kube_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kube_server.url, timeout=120) as client:
        yield client


def create(client: httpx.Client, **spec: Any) -> str:
    spec.setdefault("image", DOCKER_TEST_IMAGE)
    return server_calls.create(client, **spec)


def exec_in(client: httpx.Client, sandbox_id: str, script: str) -> dict[str, Any]:
    response = client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script]})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def log_text(client: httpx.Client, sandbox_id: str) -> str:
    response = client.get(f"/v1/sandbox/{sandbox_id}/logs")
    assert response.status_code == 200, response.text
    return "\n".join(line["line"] for line in response.json()["logs"])


def wait_gone(name: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while (found := pod(name)) is not None and not found["metadata"].get("deletionTimestamp"):
        assert time.monotonic() < deadline, f"pod {name} is still there after {timeout} s"
        time.sleep(0.5)


def test_the_pod_carries_labels_limits_and_the_security_settings(api: httpx.Client) -> None:
    sandbox_id = create(
        api,
        name=f"k-{os.urandom(4).hex()}",
        tags={"team": "docs", "free text": "not a label"},
        env={"GREETING": "hi"},
        resources={"cpu": "250m", "memory": "64Mi"},
    )
    status = server_calls.wait_for(api, sandbox_id, {"running"} | TERMINAL, START)
    assert status["phase"] == "running"
    found = pod(f"porter-sandbox-{sandbox_id}")
    assert found is not None
    labels = found["metadata"]["labels"]
    assert labels["porter-sandbox/id"] == sandbox_id and labels["porter-sandbox/name"] == status["name"]
    assert labels["porter-sandbox.tag/team"] == "docs" and "porter-sandbox.tag/free text" not in labels
    assert '"free text": "not a label"' in found["metadata"]["annotations"]["porter-sandbox/tags"]
    spec = found["spec"]
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"] == {"cpu": "250m", "memory": str(64 * 1024 * 1024)}
    assert status.get("internal_address") == found["status"].get("podIP")
    assert status["host"] == ""

    # What the code inside finds: not root, no capability, no token, a read-only root, a writable /tmp.
    result = exec_in(
        api,
        sandbox_id,
        "id -u; grep CapEff /proc/self/status; echo $GREETING;"
        " ls /var/run/secrets/kubernetes.io 2>&1 | head -1; touch /x 2>&1; touch /tmp/y && echo tmp-ok",
    )
    lines = result["stdout"].splitlines()
    assert lines[0] == "65532" and lines[1].split()[1] == "0000000000000000" and lines[2] == "hi"
    assert "No such file" in lines[3] and "Read-only file system" in lines[4] and lines[5] == "tmp-ok"
    assert api.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204
    wait_gone(f"porter-sandbox-{sandbox_id}")


def test_main_process_logs_and_exit_outlive_the_pod(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["sh", "-c"], args=["echo hello $WHO; echo warn >&2; exit 9"], env={"WHO": "pod"})
    status = server_calls.wait_for(api, sandbox_id, TERMINAL, START)
    assert (status["phase"], status["exit_code"], status["termination_reason"]) == ("failed", 9, "workload_exited")
    wait_gone(f"porter-sandbox-{sandbox_id}")
    text = log_text(api, sandbox_id)
    assert "hello pod" in text and "warn" in text


def test_out_of_memory_is_reported(api: httpx.Client) -> None:
    hog = "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while :; do x=$x$x; done"
    sandbox_id = create(api, command=["sh", "-c", hog], resources={"memory": "48Mi"})
    status = server_calls.wait_for(api, sandbox_id, TERMINAL, START)
    assert (status["phase"], status["exit_code"]) == ("failed", 137)
    assert "memory limit" in log_text(api, sandbox_id)


def test_ttl_terminates_the_sandbox_and_deletes_its_pod(api: httpx.Client) -> None:
    sandbox_id = create(api, ttl_seconds=2)
    status = server_calls.wait_for(api, sandbox_id, TERMINAL, START)
    assert (status["phase"], status["termination_reason"]) == ("terminated", "ttl_expired")
    wait_gone(f"porter-sandbox-{sandbox_id}")


def test_a_pod_deleted_behind_the_servers_back_is_backend_lost(api: httpx.Client) -> None:
    sandbox_id = create(api)
    server_calls.wait_for(api, sandbox_id, {"running"}, START)
    kubectl("delete", "pod", f"porter-sandbox-{sandbox_id}", "-n", "porter-test", "--wait=false")
    status = server_calls.wait_for(api, sandbox_id, TERMINAL, 60)
    assert (status["phase"], status["termination_reason"]) == ("failed", "backend_lost")
    assert "deleted by someone else" in log_text(api, sandbox_id)


def test_a_missing_image_fails_the_launch_with_the_kubelets_words(api: httpx.Client) -> None:
    sandbox_id = create(api, image="porter-test/no-such-image:latest")
    status = server_calls.wait_for(api, sandbox_id, TERMINAL, START)
    assert (status["phase"], status["termination_reason"]) == ("failed", "launch_failed")
    assert "ErrImageNeverPull" in log_text(api, sandbox_id)
    wait_gone(f"porter-sandbox-{sandbox_id}")


def test_a_snapshot_is_refused_with_a_message(api: httpx.Client) -> None:
    sandbox_id = create(api)
    server_calls.wait_for(api, sandbox_id, {"running"}, START)
    answer = api.post(f"/v1/sandbox/{sandbox_id}/snapshot", json={"mode": "filesystem"})
    assert answer.status_code == 400 and "kubernetes runtime" in answer.json()["error"], answer.text
    assert api.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204


def test_volume_files_on_a_claim_keep_the_path_rules(api: httpx.Client) -> None:
    volume = api.post("/v1/volume", json={})
    assert volume.status_code == 201 and volume.json()["phase"] == "ready", volume.text
    volume_id = volume.json()["id"]
    sandbox_id = create(api, volume_mounts={"/data": volume_id})
    server_calls.wait_for(api, sandbox_id, {"running"}, START)
    # What an attacker in the sandbox can plant: links out of the volume, a fifo, a directory link.
    planted = exec_in(
        api,
        sandbox_id,
        "cd /data && echo real > real.txt && ln -s /etc/passwd passwd && ln -s real.txt inner"
        " && mkfifo pipe && mkdir d && ln -s /etc d/etc && echo ok",
    )
    assert planted["stdout"] == "ok\n", planted
    files = f"/v1/volume/{volume_id}/files"
    assert api.get(f"{files}/content", params={"path": "/real.txt"}).text == "real\n"
    for path in ("/passwd", "/inner", "/d/etc/passwd"):
        answer = api.get(f"{files}/content", params={"path": path})
        assert answer.status_code == 400 and "symbolic link" in answer.json()["error"], (path, answer.text)
    assert api.get(f"{files}/content", params={"path": "/pipe"}).status_code == 400
    assert api.get(f"{files}/content", params={"path": "/../etc/passwd"}).status_code == 400
    listing = api.get(files, params={"path": "/"}).json()
    assert [entry["name"] for entry in listing["entries"]] == ["d", "real.txt"]
    # Writing through a planted directory link is refused too; the file written lands in the sandbox.
    assert api.put(f"{files}/content", params={"path": "/d/etc/x"}, content=b"no").status_code == 400
    assert api.put(f"{files}/content", params={"path": "/new/file.txt"}, content=b"from the api").status_code == 204
    assert exec_in(api, sandbox_id, "cat /data/new/file.txt")["stdout"] == "from the api"
    assert api.delete(f"/v1/sandbox/{sandbox_id}").status_code == 204
    assert api.delete(f"/v1/volume/{volume_id}").status_code == 204
    assert kubectl(
        "get", "pvc", f"porter-volume-{volume_id}", "-n", "porter-test", "--ignore-not-found", "-o", "name"
    ) in (
        "",
        f"persistentvolumeclaim/porter-volume-{volume_id}\n",  # still terminating: its pods let go of it first
    )


def test_restart_adopts_running_pods_and_loses_vanished_ones(tmp_path: Path) -> None:
    require_kubernetes()
    ensure_namespace()
    server = LocalServer(runtime="kubernetes", extra_args=SERVER_ARGS, data_dir=tmp_path / "data")
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=120) as client:
            kept = create(
                client, command=["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo resumed; sleep 3600"]
            )
            vanishing = create(client)
            server_calls.wait_for(client, kept, {"running"}, START)
            server_calls.wait_for(client, vanishing, {"running"}, START)
        server.kill()  # a crash: the pods outlive the server
        kubectl("delete", "pod", f"porter-sandbox-{vanishing}", "-n", "porter-test", "--wait=true", timeout=120)

        server.start()
        with httpx.Client(base_url=server.url, timeout=120) as client:
            assert client.get(f"/v1/sandbox/{kept}").json()["phase"] == "running"
            lost = client.get(f"/v1/sandbox/{vanishing}").json()
            assert (lost["phase"], lost["termination_reason"]) == ("failed", "backend_lost")
            assert exec_in(client, kept, "touch /tmp/go")["exit_code"] == 0
            deadline = time.monotonic() + 60
            while "resumed" not in log_text(client, kept):
                assert time.monotonic() < deadline, "the adopted pod's output reaches the logs"
                time.sleep(0.2)
            assert client.delete(f"/v1/sandbox/{kept}").status_code == 204
    finally:
        server.close()


class TcpProxy:
    """A loopback TCP port forwarding to the API server until ``cut()``: an API server that goes away and comes back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()  # refused, as a dead API server would
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


def test_an_unreachable_api_server_is_503_and_recovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_kubernetes()
    ensure_namespace()
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    cluster = config["clusters"][0]["cluster"]
    host, _, port = cluster["server"].removeprefix("https://").rpartition(":")
    assert host == "127.0.0.1", "the proxy forwards to a loopback API server only"
    proxy = TcpProxy((host, int(port)))
    cluster["server"] = f"https://127.0.0.1:{proxy.port}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    try:
        with (
            LocalServer(runtime="kubernetes", extra_args=SERVER_ARGS) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            assert client.get("/readyz").status_code == 200
            proxy.cut()
            time.sleep(1.1)  # the server believes a ready answer for a second
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] != "ready"
            created = client.post("/v1/sandbox/run", json={"image": DOCKER_TEST_IMAGE})
            assert created.status_code == 503 and "unreachable" in created.json()["error"], created.text
            proxy.restore()
            deadline = time.monotonic() + 30
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "readiness comes back with the API server"
                time.sleep(0.2)
            sandbox_id = create(client)
            assert server_calls.wait_for(client, sandbox_id, {"running"} | TERMINAL, START)["phase"] == "running"
    finally:
        proxy.close()

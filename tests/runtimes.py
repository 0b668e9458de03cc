"""What the tests need from this machine: bubblewrap, a Docker engine, a Kubernetes cluster.

Without them a test skips, unless CI demands them with
``PORTER_SANDBOX_REQUIRE_BWRAP=1`` / ``PORTER_SANDBOX_REQUIRE_DOCKER=1`` /
``PORTER_SANDBOX_REQUIRE_KUBERNETES=1``, and then it fails instead.

    from runtimes import require_bwrap, require_docker, require_kubernetes, docker_available
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess

import pytest

#: The image the Docker tests run: a busybox rootfs that `scripts/ci-docker.sh` imports.
DOCKER_TEST_IMAGE = "porter-test/busybox:latest"


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0", "false")


def _missing(what: str, variable: str) -> None:
    if _required(variable):
        pytest.fail(f"{what}, and {variable}=1 demands it", pytrace=False)
    pytest.skip(what)


def bwrap_available() -> bool:
    """Whether bubblewrap is installed and can make namespaces here."""
    return _bwrap_works()


@functools.cache
def _bwrap_works() -> bool:
    path = shutil.which("bwrap")
    if path is None:
        return False
    probe = [path, "--ro-bind", "/", "/", "--unshare-pid", "--dev", "/dev", "--proc", "/proc", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def require_bwrap() -> None:
    """Skip (or fail, with PORTER_SANDBOX_REQUIRE_BWRAP=1) when bubblewrap is missing."""
    if not bwrap_available():
        _missing("bubblewrap is not installed or cannot create namespaces here", "PORTER_SANDBOX_REQUIRE_BWRAP")


@functools.cache
def docker_available() -> bool:
    """Whether a Docker engine answers at DOCKER_HOST (or the default socket) and has the test image."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return False
    path = host.removeprefix("unix://")
    if not os.path.exists(path):
        return False
    image = DOCKER_TEST_IMAGE.replace("/", "%2F")
    return _engine_answers(path, "/_ping") and _engine_answers(path, f"/images/{image}/json")


def _engine_answers(socket_path: str, url: str) -> bool:
    """GET ``url`` from the engine on ``socket_path``: whether it answers 200."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(socket_path)
            sock.sendall(f"GET {url} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
            status_line = sock.makefile("rb").readline()
    except OSError:
        return False
    return status_line.split()[1:2] == [b"200"]


def require_docker() -> None:
    """Skip (or fail, with PORTER_SANDBOX_REQUIRE_DOCKER=1) without a Docker engine and its test image."""
    if not docker_available():
        _missing(
            f"no Docker engine with the image {DOCKER_TEST_IMAGE} at DOCKER_HOST (start one with scripts/ci-docker.sh)",
            "PORTER_SANDBOX_REQUIRE_DOCKER",
        )


#: The image the kubernetes runtime's volume helpers run: the server's own (``scripts/k8s-image.sh``).
KUBE_HELPER_IMAGE = "porter-sandbox/server:dev"
#: Where the Kubernetes tests make their pods and claims.
KUBE_NAMESPACE = "porter-test"
#: The node directory under which the test cluster's hostPath PersistentVolumes live (no provisioner there).
KUBE_HOST_PATH_DIR = "/tmp/porter-test-volumes"


@functools.cache
def kubernetes_available() -> bool:
    """Whether KUBECONFIG names a cluster whose node is Ready and has the test and helper images."""
    if not os.environ.get("KUBECONFIG") or shutil.which("kubectl") is None:
        return False
    try:
        found = subprocess.run(["kubectl", "get", "nodes", "-o", "json"], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False
    if found.returncode != 0:
        return False
    for node in json.loads(found.stdout).get("items", []):
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in node.get("status", {}).get("conditions", [])
        )
        images = {name for image in node.get("status", {}).get("images", []) for name in image.get("names", [])}
        if ready and {DOCKER_TEST_IMAGE, KUBE_HELPER_IMAGE} <= images:
            return True
    return False


def require_kubernetes() -> None:
    """Skip (or fail, with PORTER_SANDBOX_REQUIRE_KUBERNETES=1) without a cluster that has the test images."""
    if not kubernetes_available():
        _missing(
            f"no Kubernetes cluster at KUBECONFIG with a Ready node holding {DOCKER_TEST_IMAGE} and {KUBE_HELPER_IMAGE} "
            "(start one with ../shared/k8s/cluster.sh up, then import them as .ci/run does)",
            "PORTER_SANDBOX_REQUIRE_KUBERNETES",
        )

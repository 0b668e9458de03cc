"""The server deployed in the test cluster from deploy/kubernetes, running sandboxes with its service account.

The test cluster differs from a real one in three ways, which a kustomize
overlay (written here, never shipped) works around, and nothing else:

- no kube-proxy and no route from pods to the API server, so the server's pod
  uses the node's network (``hostNetwork``), binds a free loopback port
  instead of 8080, is told the API server's loopback address
  (``KUBERNETES_SERVICE_HOST``/``PORT``), and has no HTTP probes;
- no service-account token controller, so its token comes from the
  TokenRequest API (``kubectl create token``), mounted where in-cluster
  configuration looks for it, with the API server's certificate;
- no registry and no provisioner: ``imagePullPolicy: Never`` and a hostPath
  PersistentVolume for the server's data claim.

The server then runs with the ServiceAccount, Role and RoleBinding of
``deploy/kubernetes`` as they are (this cluster's authorizer allows every
call, so the test proves the configuration works, not that the role is
enough: ``test_kubernetes_deploy`` checks the role against what the runtime
calls).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kube_support import kubectl, wait_until_deleted
from runtimes import DOCKER_TEST_IMAGE, KUBE_HELPER_IMAGE, require_kubernetes

from porter_sandbox import Porter

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
SYSTEM = "porter-sandbox-system"
SANDBOXES = "porter-sandboxes"
DATA_DIR = Path("/tmp/porter-test-server-data")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def api_server() -> tuple[str, int, str]:
    """The test cluster's API server address and the path of its certificate, from KUBECONFIG."""
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    cluster = config["clusters"][0]["cluster"]
    host, _, port = cluster["server"].removeprefix("https://").rpartition(":")
    return host, int(port), cluster["certificate-authority"]


def overlay(directory: Path, port: int) -> None:
    """The kustomization that adapts deploy/kubernetes to the test cluster (see the module's docstring)."""
    host, api_port, _ = api_server()
    args = [
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        "--data-dir=/data",
        "--runtime=kubernetes",
        f"--kube-namespace={SANDBOXES}",
        f"--kube-helper-image={KUBE_HELPER_IMAGE}",
        "--kube-image-pull-policy=Never",
    ]
    patch = [
        {"op": "add", "path": "/spec/template/spec/hostNetwork", "value": True},
        {"op": "add", "path": "/spec/template/spec/automountServiceAccountToken", "value": False},
        {"op": "replace", "path": "/spec/template/spec/containers/0/args", "value": args},
        {"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Never"},
        {"op": "remove", "path": "/spec/template/spec/containers/0/readinessProbe"},
        {"op": "remove", "path": "/spec/template/spec/containers/0/livenessProbe"},
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/env/-",
            "value": {"name": "KUBERNETES_SERVICE_HOST", "value": host},
        },
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/env/-",
            "value": {"name": "KUBERNETES_SERVICE_PORT", "value": str(api_port)},
        },
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/volumeMounts/-",
            "value": {"name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True},
        },
        {
            "op": "add",
            "path": "/spec/template/spec/volumes/-",
            "value": {"name": "token", "secret": {"secretName": "sandbox-api-token"}},
        },
    ]
    (directory / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(DEPLOY, directory)],
                "patches": [
                    {"target": {"kind": "Deployment", "name": "sandbox-api"}, "patch": json.dumps(patch)},
                ],
            }
        )
    )


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The server from deploy/kubernetes, running in the cluster; answers its URL and API key."""
    require_kubernetes()
    work = tmp_path_factory.mktemp("overlay")
    port = free_port()
    key = secrets.token_hex(16)
    _, _, certificate = api_server()
    # An earlier run's namespaces may still be going away (their deletion is not waited for).
    wait_until_deleted(SANDBOXES, SYSTEM)
    kubectl("apply", "-f", str(DEPLOY / "namespaces.yaml"))
    kubectl("create", "secret", "generic", "sandbox-api-key", "-n", SYSTEM, f"--from-literal=api-key={key}")
    kubectl("create", "serviceaccount", "sandbox-api", "-n", SYSTEM, check=False)
    token = kubectl("create", "token", "sandbox-api", "-n", SYSTEM, "--duration=1h").strip()
    kubectl(
        "create", "secret", "generic", "sandbox-api-token", "-n", SYSTEM,
        f"--from-literal=token={token}", f"--from-file=ca.crt={certificate}", f"--from-literal=namespace={SYSTEM}",
    )  # fmt: skip
    # The data claim's volume: a node directory the server's user owns (hostPath gets no fsGroup).
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    os.chown(DATA_DIR, 65532, 65532)
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "porter-test-server-data", "labels": {"app.kubernetes.io/managed-by": "porter-sandbox"}},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "claimRef": {"namespace": SYSTEM, "name": "sandbox-api-data"},
            "hostPath": {"path": str(DATA_DIR), "type": "Directory"},
        },
    }
    (work / "volume.json").write_text(json.dumps(volume))
    kubectl("apply", "-f", str(work / "volume.json"))
    overlay(work, port)
    try:
        kubectl("apply", "-k", str(work))
        kubectl("rollout", "status", "deployment/sandbox-api", "-n", SYSTEM, "--timeout=240s", timeout=260)
        url = f"http://127.0.0.1:{port}"
        with Porter(base_url=url, api_key=key, max_retries=0) as porter:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if porter.readiness().ready:
                        break
                except Exception:
                    pass
                assert time.monotonic() < deadline, kubectl("logs", "deployment/sandbox-api", "-n", SYSTEM, check=False)
                time.sleep(0.5)
        yield url, key
    finally:
        kubectl("delete", "namespace", SANDBOXES, SYSTEM, "--wait=false", check=False)
        kubectl("delete", "persistentvolume", "porter-test-server-data", "--wait=false", check=False)


def test_the_deployed_server_runs_sandboxes_with_its_service_account(deployed: tuple[str, str]) -> None:
    url, key = deployed
    with Porter(base_url=url, api_key=key, timeout=180) as porter:
        sandbox = porter.sandboxes.create(image=DOCKER_TEST_IMAGE, tags={"deployed": "yes"})
        try:
            result = sandbox.exec(["sh", "-c", "echo from a pod; id -u"], check=True)
            assert result.stdout == "from a pod\n65532\n"
        finally:
            sandbox.terminate()
    pods = json.loads(kubectl("get", "pods", "-n", SANDBOXES, "-l", f"porter-sandbox/id={sandbox.id}", "-o", "json"))
    assert all(item["metadata"].get("deletionTimestamp") for item in pods["items"])
    # The server itself is the Deployment's pod, under the sandbox-api service account.
    (server_pod,) = json.loads(
        kubectl("get", "pods", "-n", SYSTEM, "-l", "app.kubernetes.io/name=sandbox-api", "-o", "json")
    )["items"]
    assert server_pod["spec"]["serviceAccountName"] == "sandbox-api"
    said = kubectl("logs", server_pod["metadata"]["name"], "-n", SYSTEM)
    assert f"answers; sandboxes run in namespace {SANDBOXES}" in said, said

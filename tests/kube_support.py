"""What the Kubernetes tests share: the server's options for the test cluster, kubectl, and cleanup.

Every test server and runtime works in the namespace ``runtimes.KUBE_NAMESPACE``
with ``imagePullPolicy: Never`` (the test cluster reaches no registry), the
server's own image as volume helper, and hostPath PersistentVolumes (the test
cluster has no provisioner). ``cleanup()`` deletes what the tests left there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from runtimes import KUBE_HELPER_IMAGE, KUBE_HOST_PATH_DIR, KUBE_NAMESPACE

#: ``porter-sandbox serve`` options for the test cluster.
SERVER_ARGS = [
    "--kube-namespace",
    KUBE_NAMESPACE,
    "--kube-image-pull-policy",
    "Never",
    "--kube-helper-image",
    KUBE_HELPER_IMAGE,
    "--kube-host-path-dir",
    KUBE_HOST_PATH_DIR,
]
MANAGED = "app.kubernetes.io/managed-by=porter-sandbox"


def kubectl(*args: str, check: bool = True, timeout: float = 60) -> str:
    """Run kubectl against KUBECONFIG; answer its stdout."""
    done = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def ensure_namespace() -> None:
    """Create the tests' namespace unless it exists."""
    if kubectl("get", "namespace", KUBE_NAMESPACE, "--ignore-not-found", "-o", "name").strip():
        return
    kubectl("create", "namespace", KUBE_NAMESPACE)


def wait_until_deleted(*namespaces: str, timeout: float = 300) -> None:
    """Wait for those of ``namespaces`` that are being deleted to be gone (an earlier run's, say)."""
    for namespace in namespaces:
        phase = kubectl("get", "namespace", namespace, "--ignore-not-found", "-o", "jsonpath={.status.phase}")
        if phase.strip() == "Terminating":
            kubectl("wait", "--for=delete", f"namespace/{namespace}", f"--timeout={timeout:.0f}s", timeout=timeout + 20)


def pod(name: str) -> dict[str, Any] | None:
    """A pod of the tests' namespace as JSON, or ``None`` when there is none."""
    out = kubectl("get", "pod", name, "-n", KUBE_NAMESPACE, "--ignore-not-found", "-o", "json")
    return json.loads(out) if out.strip() else None


def pods_with(label: str) -> list[dict[str, Any]]:
    """The pods of the tests' namespace that have ``label`` (``key=value`` or a selector)."""
    items: list[dict[str, Any]] = json.loads(kubectl("get", "pods", "-n", KUBE_NAMESPACE, "-l", label, "-o", "json"))[
        "items"
    ]
    return items


def cleanup() -> None:
    """Delete every pod, claim and PersistentVolume the servers under test made, and the volumes' node directories."""
    kubectl("delete", "pods,persistentvolumeclaims", "-n", KUBE_NAMESPACE, "-l", MANAGED, "--wait=false", check=False)
    kubectl("delete", "persistentvolumes", "-l", MANAGED, "--wait=false", check=False)
    root = Path(KUBE_HOST_PATH_DIR)
    if root.is_dir():
        subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=False)

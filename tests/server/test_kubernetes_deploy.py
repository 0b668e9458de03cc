"""The manifests in deploy/kubernetes, checked by the test cluster's own API server (``--dry-run=server``).

Needs a cluster (``runtimes.require_kubernetes``). The namespaces are created
for real (a dry run of namespaced objects needs them); everything else is
only validated: admission, schemas and defaulting run, nothing is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_support import kubectl, wait_until_deleted
from runtimes import require_kubernetes

pytestmark = pytest.mark.kubernetes

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]


@pytest.fixture(scope="module", autouse=True)
def namespaces() -> None:
    require_kubernetes()
    # The in-cluster test deletes them when it ends, without waiting: a later run waits here.
    wait_until_deleted("porter-sandboxes", "porter-sandbox-system")
    kubectl("apply", "-f", str(DEPLOY / "namespaces.yaml"))


def test_the_manifests_pass_the_api_servers_validation() -> None:
    out = kubectl("apply", "--dry-run=server", "-k", str(DEPLOY))
    for kind_name in (
        "serviceaccount/sandbox-api",
        "role.rbac.authorization.k8s.io/sandbox-api",
        "rolebinding.rbac.authorization.k8s.io/sandbox-api",
        "persistentvolumeclaim/sandbox-api-data",
        "deployment.apps/sandbox-api",
        "service/sandbox-api",
        "networkpolicy.networking.k8s.io/sandbox-api-not-from-sandboxes",
    ):
        assert f"{kind_name} " in out and "(server dry run)" in out, out
    assert "clusterrole" not in out.lower(), "the kustomization grants nothing cluster-wide"
    host_path = kubectl("apply", "--dry-run=server", "-f", str(DEPLOY / "rbac-host-path.yaml"))
    assert "clusterrole.rbac.authorization.k8s.io/porter-sandbox-host-path-volumes" in host_path


def test_the_service_is_where_the_sdk_looks_in_a_cluster() -> None:
    (service,) = documents("service.yaml")
    assert (service["metadata"]["name"], service["metadata"]["namespace"]) == ("sandbox-api", "porter-sandbox-system")
    assert [port["port"] for port in service["spec"]["ports"]] == [8080]
    # The SDK's in-cluster default names exactly this service.
    from porter_sandbox._config import IN_CLUSTER_BASE_URL

    assert IN_CLUSTER_BASE_URL == "http://sandbox-api.porter-sandbox-system.svc.cluster.local:8080"


def test_the_sandboxes_namespace_is_kept_from_the_servers_api() -> None:
    labels = {doc["metadata"]["name"]: doc["metadata"]["labels"] for doc in documents("namespaces.yaml")}
    assert labels["porter-sandboxes"] == {"porter-sandbox/role": "sandboxes"}
    (policy,) = documents("networkpolicy.yaml")
    assert policy["metadata"]["namespace"] == "porter-sandbox-system"
    (allowed,) = policy["spec"]["ingress"]
    (source,) = allowed["from"]
    assert source["namespaceSelector"]["matchExpressions"] == [
        {"key": "porter-sandbox/role", "operator": "NotIn", "values": ["sandboxes"]}
    ]


def test_the_role_is_the_least_the_runtime_needs() -> None:
    role = next(doc for doc in documents("rbac.yaml") if doc["kind"] == "Role")
    assert role["metadata"]["namespace"] == "porter-sandboxes"
    granted = {(resource, verb) for rule in role["rules"] for resource in rule["resources"] for verb in rule["verbs"]}
    assert granted == {
        ("pods", "create"),
        ("pods", "get"),
        ("pods", "list"),
        ("pods", "watch"),
        ("pods", "delete"),
        ("pods/exec", "create"),
        ("pods/exec", "get"),
        ("pods/log", "get"),
        ("persistentvolumeclaims", "create"),
        ("persistentvolumeclaims", "get"),
        ("persistentvolumeclaims", "delete"),
    }
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])


def test_the_server_runs_as_the_kubernetes_runtime_without_privilege() -> None:
    (deployment,) = documents("deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "--runtime=kubernetes" in container["args"] and "--port=8080" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"

"""The Kubernetes objects behind one volume: its claim, its helper pod, and on clusters without a provisioner its PersistentVolume.

All three are named ``porter-volume-<volume id>`` and labelled with the
volume's id and the server that made them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...kube import JSON
from ...kube.security import SANDBOX_UID, container_security, pod_security

LABEL_VOLUME = "porter-sandbox/volume-id"
LABEL_SERVER = "porter-sandbox/server"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
#: Where the helper pod mounts the whole claim.
MOUNT = "/claim"
#: The folder of the claim that holds the volume's files: what sandboxes mount (``subPath``). Beside it,
#: ``STAGING`` holds uploads in flight, on the same filesystem (so a commit is a rename) yet out of
#: every sandbox's sight, as the host-directory backend's staging directory is.
DATA = "data"
STAGING = ".uploads"
HELPER_CONTAINER = "files"
#: The agent's command line, before its operation.
AGENT = ["python3", "-m", "porter_sandbox_server.volumes.claims.agent", MOUNT]


@dataclass(frozen=True)
class ClaimSettings:
    """How volumes become claims (``serve``'s ``--storage-class``, ``--volume-size``... options)."""

    #: The claims' StorageClass; ``None`` leaves the cluster's default class.
    storage_class: str | None = None
    #: The storage each claim requests (a Kubernetes quantity).
    size: str = "1Gi"
    #: ``ReadWriteOnce`` (every pod mounting it on one node) or ``ReadWriteMany`` (across nodes).
    access_mode: str = "ReadWriteOnce"
    #: For clusters without a provisioner: make a hostPath PersistentVolume per claim in this node directory.
    host_path_dir: str | None = None
    #: The image of the helper pods that serve the volume files API (it has porter-sandbox[server]).
    helper_image: str | None = None
    #: How long a new volume may take to be bound and served before it is answered ``pending``.
    ready_timeout: float = 120.0


def object_name(volume_id: str) -> str:
    """The name of a volume's claim, helper pod and (host-path mode) PersistentVolume."""
    return f"porter-volume-{volume_id}"


def _labels(volume_id: str, server: str) -> dict[str, str]:
    return {LABEL_VOLUME: volume_id, LABEL_SERVER: server, LABEL_MANAGED_BY: "porter-sandbox"}


def persistent_volume(volume_id: str, server: str, namespace: str, settings: ClaimSettings) -> JSON:
    """A hostPath PersistentVolume bound in advance to the volume's claim (host-path mode only)."""
    assert settings.host_path_dir is not None
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": object_name(volume_id), "labels": _labels(volume_id, server)},
        "spec": {
            "capacity": {"storage": settings.size},
            "accessModes": [settings.access_mode],
            # Retain: no deleter exists for hostPath; the server empties the directory itself.
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "claimRef": {"namespace": namespace, "name": object_name(volume_id)},
            "hostPath": {"path": f"{settings.host_path_dir.rstrip('/')}/{volume_id}", "type": "DirectoryOrCreate"},
        },
    }


def claim(volume_id: str, server: str, settings: ClaimSettings) -> JSON:
    """The volume's PersistentVolumeClaim."""
    spec: JSON = {
        "accessModes": [settings.access_mode],
        "resources": {"requests": {"storage": settings.size}},
    }
    if settings.host_path_dir is not None:
        spec["storageClassName"] = ""
        spec["volumeName"] = object_name(volume_id)
    elif settings.storage_class is not None:
        spec["storageClassName"] = settings.storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": object_name(volume_id), "labels": _labels(volume_id, server)},
        "spec": spec,
    }


def helper_pod(volume_id: str, server: str, image: str, image_pull_policy: str | None) -> JSON:
    """The pod that mounts the claim and runs the file agent for the volume files API.

    It also makes the claim bind on storage classes that wait for a first
    consumer. Its init container, the only thing that runs as root (with
    only ``CHOWN`` and ``FOWNER``), makes the claim's ``data`` and staging
    folders, owned by the sandboxes' user; everything else runs as that user.
    """
    volume_mount = [{"name": "volume", "mountPath": MOUNT}]
    pull = {"imagePullPolicy": image_pull_policy} if image_pull_policy else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": object_name(volume_id),
            "labels": {**_labels(volume_id, server), "porter-sandbox/role": "volume-files"},
        },
        "spec": {
            "restartPolicy": "Always",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": pod_security(),
            "initContainers": [
                {
                    "name": "own",
                    "image": image,
                    **pull,
                    "command": [*AGENT, "own", str(SANDBOX_UID)],
                    "securityContext": {
                        **container_security(),
                        "runAsUser": 0,
                        "runAsNonRoot": False,
                        "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]},
                    },
                    "volumeMounts": volume_mount,
                }
            ],
            "containers": [
                {
                    "name": HELPER_CONTAINER,
                    "image": image,
                    **pull,
                    "command": [*AGENT, "idle"],
                    "securityContext": container_security(),
                    "resources": {
                        "limits": {"memory": "256Mi", "cpu": "500m"},
                        "requests": {"memory": "32Mi", "cpu": "10m"},
                    },
                    "volumeMounts": volume_mount,
                }
            ],
            "volumes": [{"name": "volume", "persistentVolumeClaim": {"claimName": object_name(volume_id)}}],
        },
    }

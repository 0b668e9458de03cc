"""A sandbox's pod: the manifest we create, and what its status says (running, ended, could not start).

The pod keeps the process runtime's isolation promises as far as a pod can:

- no root, no privilege, a read-only root filesystem: ``kube.security``;
- no credentials: ``automountServiceAccountToken: false`` (the code cannot talk
  to the API server as the pod), ``enableServiceLinks: false`` (no
  environment variables naming the cluster's services);
- ``/tmp`` and ``/workspace`` are the pod's own
  ``emptyDir`` volumes, gone with it, and ``HOME`` is ``/workspace`` unless
  ``env`` names another;
- ``restartPolicy: Never``: a main process that ends is the sandbox's end.

A sandbox created without ``command`` or ``args`` runs the image's own
command with its stdin held open (``stdin: true``): an image whose command is
a shell or an interpreter (``sh``, ``python3``) waits on that stdin for ever,
the idle keep-alive the contract asks for, and an image with a real program
of its own runs it. The Docker runtime decides the same from the image's
configuration, which the API server cannot show us.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ...kube import JSON
from ...kube.security import container_security, pod_security
from ...volumes.claims.objects import DATA as CLAIM_DATA
from ..base import ExitKind, LaunchSpec, SandboxExit

CONTAINER = "sandbox"

LABEL_ID = "porter-sandbox/id"
LABEL_NAME = "porter-sandbox/name"
LABEL_SERVER = "porter-sandbox/server"
LABEL_TAG_PREFIX = "porter-sandbox.tag/"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
ANNOTATION_TAGS = "porter-sandbox/tags"

#: Waiting reasons after which a container will never start by itself.
_FATAL_WAITING = {
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
#: Terminated reasons that mean the program never ran (missing binary, bad working directory).
_NEVER_RAN = {"ContainerCannotRun", "StartError"}

_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def pod_name(sandbox_id: str) -> str:
    """The name of a sandbox's pod."""
    return f"porter-sandbox-{sandbox_id}"


def is_label_value(value: str) -> bool:
    """Whether ``value`` can be a label's value."""
    return bool(_LABEL_VALUE.match(value))


def sandbox_labels(spec: LaunchSpec, server: str) -> dict[str, str]:
    """The pod's labels: id, name, the server that made it, and each tag that fits a label."""
    labels = {
        LABEL_ID: spec.sandbox_id,
        LABEL_NAME: spec.name,
        LABEL_SERVER: server,
        LABEL_MANAGED_BY: "porter-sandbox",
    }
    for key, value in spec.tags.items():
        # Tags are free text; the annotation has them all, labels only those Kubernetes accepts.
        if _LABEL_NAME.match(key) and is_label_value(value):
            labels[LABEL_TAG_PREFIX + key] = value
    return labels


def sandbox_pod(
    spec: LaunchSpec,
    *,
    server: str,
    claim_of: Mapping[str, str],
    image_pull_policy: str | None,
) -> JSON:
    """The pod manifest of a sandbox. ``claim_of`` maps each mounted volume id to its claim's name."""
    env = {"HOME": "/workspace", **spec.env}
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image,
        "env": [{"name": key, "value": value} for key, value in env.items()],
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "workspace", "mountPath": "/workspace"},
        ],
    }
    if image_pull_policy:
        container["imagePullPolicy"] = image_pull_policy
    if spec.command is not None:
        container["command"] = list(spec.command)
    if spec.args is not None:
        container["args"] = list(spec.args)
    if spec.command is None and spec.args is None:
        container["stdin"] = True  # the keep-alive: see the module's docstring
    limits: dict[str, str] = {}
    if spec.memory_bytes:
        limits["memory"] = str(spec.memory_bytes)
    if spec.cpu_millis:
        limits["cpu"] = f"{spec.cpu_millis}m"
    if limits:
        container["resources"] = {"limits": limits}

    volumes: list[JSON] = [{"name": "tmp", "emptyDir": {}}, {"name": "workspace", "emptyDir": {}}]
    volume_names: dict[str, str] = {}
    for mount in spec.mounts:
        name = volume_names.get(mount.volume_id)
        if name is None:
            name = volume_names[mount.volume_id] = f"volume-{len(volume_names)}"
            volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim_of[mount.volume_id]}})
        # The claim's data folder only: its staging folder stays out of sight (volumes.claims.objects).
        container["volumeMounts"].append({"name": name, "mountPath": mount.path, "subPath": CLAIM_DATA})

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name(spec.sandbox_id),
            "labels": sandbox_labels(spec, server),
            "annotations": {ANNOTATION_TAGS: json.dumps(dict(spec.tags), sort_keys=True)},
        },
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": pod_security(),
            "containers": [container],
            "volumes": volumes,
        },
    }


def container_state(pod: JSON, container: str = CONTAINER) -> JSON:
    """The container's ``state`` (one of ``waiting``, ``running``, ``terminated``); ``{}`` before it has one."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            state = status.get("state") or {}
            return state if isinstance(state, dict) else {}
    return {}


def is_running(pod: JSON) -> bool:
    """Whether the sandbox's container runs now."""
    return "running" in container_state(pod)


def never_ran(pod: JSON) -> bool:
    """Whether the container ended before its program started (the engine could not start it)."""
    return (container_state(pod).get("terminated") or {}).get("reason") in _NEVER_RAN


def launch_failure(pod: JSON) -> str | None:
    """Why the sandbox's container will never run, or ``None`` while it may (or does)."""
    state = container_state(pod)
    waiting = state.get("waiting") or {}
    if waiting.get("reason") in _FATAL_WAITING:
        return f"{waiting.get('reason')}: {waiting.get('message') or 'the container could not be created'}"
    terminated = state.get("terminated") or {}
    if terminated.get("reason") in _NEVER_RAN:
        return f"{terminated.get('reason')}: {terminated.get('message') or 'the program could not be started'}"
    status = pod.get("status") or {}
    if status.get("phase") == "Failed" and not terminated:
        return f"{status.get('reason') or 'Failed'}: {status.get('message') or 'the pod failed before it ran'}"
    return None


def pending_reason(pod: JSON | None) -> str:
    """What a pod that has not started waits for, in the scheduler's or the kubelet's words."""
    if pod is None:
        return "the pod was not seen yet"
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("status") == "False" and condition.get("message"):
            return f"{condition.get('reason') or condition.get('type')}: {condition['message']}"
    waiting = container_state(pod).get("waiting") or {}
    if waiting:
        return f"{waiting.get('reason')}: {waiting.get('message') or 'waiting'}"
    return f"the pod is {(pod.get('status') or {}).get('phase') or 'Pending'}"


def ended(pod: JSON, memory_bytes: int | None) -> SandboxExit | None:
    """How the sandbox ended, once its container terminated or the node evicted it; ``None`` while it runs."""
    status = pod.get("status") or {}
    if status.get("reason") == "Evicted":
        return SandboxExit(ExitKind.LOST, None, f"the pod was evicted from its node: {status.get('message') or ''}")
    terminated = container_state(pod).get("terminated")
    if not terminated:
        if status.get("phase") in ("Succeeded", "Failed"):
            reason = status.get("reason") or status.get("phase")
            return SandboxExit(ExitKind.LOST, None, f"the pod ended without its container: {reason}")
        return None
    code = int(terminated.get("exitCode") or 0)
    if terminated.get("reason") == "OOMKilled":
        limit = f" of {memory_bytes} bytes" if memory_bytes else ""
        return SandboxExit(
            ExitKind.OUT_OF_MEMORY, code, f"killed: the sandbox exceeded its memory limit{limit} (out of memory)"
        )
    return SandboxExit(ExitKind.EXITED, code)


def is_deleting(pod: JSON) -> bool:
    """Whether the pod is being deleted."""
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))

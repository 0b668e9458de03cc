"""The security settings every pod this server makes gets: sandboxes and volume helpers alike.

- not root: ``runAsNonRoot`` with uid and gid ``SANDBOX_UID`` (65532), whatever
  user the image names, so nothing runs as root on the node; the same user
  for every pod, so the files one writes into a volume the others can change;
- no privilege: every capability dropped, ``allowPrivilegeEscalation: false``
  (``no_new_privs``: setuid binaries gain nothing), not privileged, the
  container runtime's default seccomp profile (``seccompProfile:
  RuntimeDefault``, a pod field since Kubernetes 1.19);
- a read-only root filesystem (what must be writable is a volume).
"""

from __future__ import annotations

from .client import JSON

__all__ = ["SANDBOX_UID", "container_security", "pod_security"]

#: The user and group of every pod's processes.
SANDBOX_UID = 65532


def pod_security() -> JSON:
    """A pod's ``securityContext``."""
    return {
        "runAsNonRoot": True,
        "runAsUser": SANDBOX_UID,
        "runAsGroup": SANDBOX_UID,
        "fsGroup": SANDBOX_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> JSON:
    """A container's ``securityContext``."""
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }

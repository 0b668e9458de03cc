"""A small asyncio client for the Kubernetes API: JSON calls, watches, log follows and exec channels.

Shared by the ``kubernetes`` runtime (``runtimes/kubernetes``) and the
PersistentVolumeClaim volume backend (``volumes/claims``); it knows nothing of
sandboxes or volumes.
"""

from __future__ import annotations

from .channels import ExecSession, ExecStatus, start_exec
from .client import JSON, KubeClient, KubeConfigError, KubeError, KubeUnreachable, SharedClient, load_client

__all__ = [
    "JSON",
    "ExecSession",
    "ExecStatus",
    "KubeClient",
    "KubeConfigError",
    "KubeError",
    "KubeUnreachable",
    "SharedClient",
    "load_client",
    "start_exec",
]

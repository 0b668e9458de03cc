"""The ``kubernetes`` runtime: sandboxes as pods, volumes as PersistentVolumeClaims."""

from __future__ import annotations

from .runtime import KubernetesRuntime

__all__ = ["KubernetesRuntime"]

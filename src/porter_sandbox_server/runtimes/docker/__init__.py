"""The ``docker`` runtime: each sandbox is a labelled container on a Docker engine."""

from __future__ import annotations

from .runtime import DockerRuntime

__all__ = ["DockerRuntime"]

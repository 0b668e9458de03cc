"""The ``process`` runtime: sandboxes as bubblewrap-isolated process trees on this host, each with an agent as PID 1."""

from __future__ import annotations

from .runtime import ProcessRuntime

__all__ = ["ProcessRuntime"]

"""Snapshots as images: what a committed sandbox's image is called, carries, and starts with.

A snapshot of a sandbox is its container committed (paused meanwhile, so the
copy is consistent) to the image ``porter-sandbox-snapshot:<snapshot id>``:
the image's layers plus the container's changes. It lives in the engine's
image store; deleting the snapshot removes the image, or, while a sandbox
started from it still runs, untags it and removes it once that container
is gone.

The engine merges the container's own configuration into a committed image
(its environment and labels are added to what ``commit`` is given, and an
empty entrypoint or command is taken from the container). A new sandbox
must start as if from the original image, with only its own environment,
so the original image's configuration travels in a label
(``LABEL_BASE``), and a sandbox started from the snapshot gets that
configuration explicitly: the base image's entrypoint and command, and its
environment, with every variable the committed image gained unset.

Several servers may share one engine: each labels its snapshot images with
its own owner id (kept in its data directory, ``owner_id``), and frees only
its own when it starts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPOSITORY = "porter-sandbox-snapshot"
#: On a snapshot image: the snapshot's id.
LABEL_SNAPSHOT = "porter-sandbox.snapshot"
#: On a snapshot image: which server (data directory) took it.
LABEL_OWNER = "porter-sandbox.snapshot.owner"
#: On a snapshot image: the configuration (entrypoint, command, environment, working directory) of
#: the image the sandbox ran, as JSON.
LABEL_BASE = "porter-sandbox.snapshot.base"
_BASE_FIELDS = ("Entrypoint", "Cmd", "Env", "WorkingDir")


def image_ref(snapshot_id: str) -> str:
    """The image a snapshot is: ``porter-sandbox-snapshot:<id>``."""
    return f"{REPOSITORY}:{snapshot_id}"


def base_config(image_config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a sandbox from ``image_config``'s image starts with (a snapshot image's: its base's)."""
    labels = image_config.get("Labels") or {}
    if LABEL_BASE in labels:
        base: dict[str, Any] = json.loads(labels[LABEL_BASE])
        return base
    return {field: image_config.get(field) for field in _BASE_FIELDS}


def owner_id(data_dir: Path) -> str:
    """This data directory's owner id for snapshot images: made once, then read back."""
    path = data_dir / "docker-snapshot-owner"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(8) + "\n")
        return path.read_text().strip()


def commit_config(image_config: Mapping[str, Any], snapshot_id: str, owner: str) -> dict[str, Any]:
    """The configuration to commit a sandbox's container with, given its image's configuration."""
    base = base_config(image_config)
    config = dict(image_config)
    config.update(base)
    # An empty list, not null: null would take the container's entrypoint (the sandbox's command).
    config["Entrypoint"] = base.get("Entrypoint") or []
    labels = {key: value for key, value in (image_config.get("Labels") or {}).items() if key != LABEL_BASE}
    labels[LABEL_SNAPSHOT] = snapshot_id
    labels[LABEL_OWNER] = owner
    labels[LABEL_BASE] = json.dumps(base, sort_keys=True)
    config["Labels"] = labels
    return config


def _env_map(entries: Sequence[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in entries or ():
        key, sep, value = entry.partition("=")
        if sep:
            found[key] = value
    return found


def restore_environment(image_config: Mapping[str, Any], base: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The ``Env`` to create a sandbox from a snapshot image with: the base image's plus ``env``, nothing else.

    A bare ``KEY`` unsets what the committed image gained from the sandbox
    it was taken from (the engine reads it so).
    """
    wanted = _env_map(base.get("Env"))
    wanted.update(env)
    gained = [key for key in _env_map(image_config.get("Env")) if key not in wanted]
    return [f"{key}={value}" for key, value in wanted.items()] + gained

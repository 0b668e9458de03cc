"""Containers started ahead (``serve --pool N`` on the docker runtime): what fits, and how one is recognised.

A create and a start cost the engine about 200 ms; an exec, a few tens. So
the runtime keeps up to N containers created and started for the last
launch of a poolable shape, and a launch of the same shape takes one: the
container is renamed for the sandbox (``porter-sandbox-<id>``) and followed
from then on. Nothing else is done to it, because nothing else can differ:

- A launch is of a poolable shape when it mounts no volume, starts from no
  snapshot, gives neither ``command`` nor ``args`` to an image whose own
  would exit at once (its main process is then the idle keep-alive, which
  reads nothing of the request and prints nothing), and sets no environment
  of its own: at most the defaults every sandbox gets. So no value a user
  gave is kept in a waiting container, or tells the next launch by its speed.
- It fits a pooled container when every argument of the engine's create
  call but the name and the labels is the same, and the image is the same
  image, not only the same tag (``create_key``): the working directory,
  every limit and hardening option. A limit that differs starts a container
  of its own; once a launch of another shape has started, the pool is
  emptied and refilled for that shape.
- The hostname of a container is its own id, pooled or not.

What differs from a fresh container: to the engine, its labels are a pooled
container's (``porter-sandbox.pool``, no name or tags); inside, its main
process started earlier (``/proc/1/stat``), which tells roughly when it was
started, and so when an earlier launch took the one before it. A restarted
server finds a pooled sandbox's container by its name (among its own pool's
containers); containers still waiting in the pool of a server that went
away are removed when it starts again. Each pooled container serves one
sandbox and never returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..base import SANDBOX_ENV_DEFAULTS, LaunchSpec
from .images import needs_keep_alive

#: On a container started for the pool: the owner id of the server's data directory that started it.
LABEL_POOL = "porter-sandbox.pool"
#: The sandbox id prefix of a pooled container, until a launch takes it.
POOLED_PREFIX = "pooled-"


@dataclass(frozen=True)
class PooledContainer:
    """A container started for the pool."""

    pooled_id: str
    container_id: str
    #: The ``create_key`` of the launch it was started for.
    key: str


def poolable(spec: LaunchSpec, image_config: Mapping[str, Any]) -> bool:
    """Whether a launch is of a shape a pooled container can serve (see the module doc)."""
    return (
        not spec.mounts
        and spec.snapshot_id is None
        and spec.command is None
        and spec.args is None
        and all(SANDBOX_ENV_DEFAULTS.get(key) == value for key, value in spec.env.items())
        and needs_keep_alive(image_config.get("Entrypoint"), image_config.get("Cmd"))
    )


def create_key(image_id: str, create: Mapping[str, Any]) -> str:
    """What must be equal for a pooled container to serve a launch: the image's id, the create call less name and labels."""
    kept = {key: value for key, value in create.items() if key not in ("name", "labels")}
    return json.dumps([image_id, kept], sort_keys=True, default=repr)


def sandbox_of(container: Mapping[str, Any], prefix: str) -> str | None:
    """The sandbox id in a listed container's name (``/<prefix><id>``), or None."""
    for name in container.get("Names") or ():
        bare = str(name).lstrip("/")
        if bare.startswith(prefix):
            return bare[len(prefix) :]
    return None

"""What a sandbox's container may do, and who its root is on the host.

``hardening`` gives the host-config settings every container gets:
``no-new-privileges``, every capability dropped but ``CAPABILITIES``, the
sandbox's process limit, ``/dev/shm`` sized from its memory, and (unless the
server runs with ``--docker-writable-root``) a read-only root filesystem with
a few writable places. ``engine_users`` reads from the engine's ``info`` whether
container root is host root.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docker.types import Mount

from ..base import LaunchSpec
from ..tmpfs import tmpfs_sizes
from .images import WORKSPACE

#: The capabilities container root keeps: what a normal image's root needs over its own files and
#: users (package managers, chown in entrypoints, servers dropping to another user, ports below
#: 1024). Gone from Docker's default set: MKNOD (device nodes), NET_RAW (raw sockets, spoofing),
#: SYS_CHROOT (chroot breakouts through open descriptors), SETFCAP, SETPCAP, AUDIT_WRITE.
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE")
#: The size of ``/run`` under a read-only root: pid files and sockets.
RUN_TMPFS = "rw,nosuid,nodev,size=16m,mode=755"


def hardening(
    spec: LaunchSpec, image_config: Mapping[str, Any], working_dir: str, *, read_only_root: bool
) -> dict[str, Any]:
    """Keyword arguments for ``create_host_config`` that confine the sandbox's container."""
    settings: dict[str, Any] = {
        "cap_drop": ["ALL"],
        "cap_add": list(CAPABILITIES),
        "security_opt": ["no-new-privileges"],
        "pids_limit": spec.pids_max,
    }
    tmp_options = "rw,nosuid,nodev,mode=1777"
    if spec.memory_bytes is not None:
        tmp_bytes, shm_bytes = tmpfs_sizes(spec.memory_bytes)
        settings["shm_size"] = shm_bytes
        tmp_options += f",size={tmp_bytes}"
    if not read_only_root:
        return settings
    taken = {mount.path for mount in spec.mounts}
    settings["read_only"] = True
    settings["tmpfs"] = {
        path: options for path, options in (("/tmp", tmp_options), ("/run", RUN_TMPFS)) if path not in taken
    }
    # On disk, not in memory: what a sandbox works on can be large. Anonymous volumes start with
    # what the image holds at that path and are removed with the container.
    writable = [WORKSPACE, working_dir]
    if _runs_as_root(image_config):
        writable.append("/root")
    settings["mounts"] = [
        Mount(path, None, type="volume") for path in dict.fromkeys(writable) if path != "/" and path not in taken
    ]
    return settings


def _runs_as_root(image_config: Mapping[str, Any]) -> bool:
    user = str(image_config.get("User") or "").split(":")[0]
    return user in ("", "root", "0")


@dataclass(frozen=True)
class EngineUsers:
    """Who container root is on the engine's host."""

    #: Whether the engine remaps users (``--userns-remap``).
    remaps: bool
    #: The host uid and gid of container root then, when the engine says them.
    remapped_root: tuple[int, int] | None
    #: Whether the engine itself runs as an unprivileged user (rootless Docker, Podman).
    rootless: bool

    @property
    def safe(self) -> bool:
        """Whether container root is not host root."""
        return self.remaps or self.rootless

    def describe(self) -> str:
        """One line for the server's log."""
        if self.remapped_root is not None:
            uid, gid = self.remapped_root
            return f"the engine remaps users: container root is host uid {uid} (gid {gid}); volumes are given to it"
        if self.remaps:
            return (
                "the engine remaps users, but not to a uid it names: volumes stay the server's, and containers may "
                "not be able to write them"
            )
        if self.rootless:
            return "the engine is rootless: container root is the engine's own unprivileged user on its host"
        return (
            "container root is HOST ROOT on the engine's host (confined by dropped capabilities, no-new-privileges "
            "and seccomp): start dockerd with --userns-remap=default, or use rootless Docker or Podman, so that it "
            "is not"
        )


def engine_users(info: Mapping[str, Any]) -> EngineUsers:
    """Read who container root is from the engine's ``GET /info`` answer."""
    options = [str(option) for option in info.get("SecurityOptions") or []]
    names = {part.removeprefix("name=") for option in options for part in option.split(",") if part.startswith("name=")}
    remapped: tuple[int, int] | None = None
    if "userns" in names:
        # A remapping engine keeps its data in <data-root>/<uid>.<gid> of the remapped root.
        match = re.search(r"/(\d+)\.(\d+)/?$", str(info.get("DockerRootDir") or ""))
        if match:
            remapped = (int(match.group(1)), int(match.group(2)))
    return EngineUsers("userns" in names, remapped, "rootless" in names)

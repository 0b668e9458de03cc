"""The host's side of keeping sandboxes off the host: slirp4netns may not reach any address of this host.

Each sandbox's own firewall (``firewall``) rejects this host's addresses as
they were listed (kept current by ``NetworkSettings.watch``). This is the
second wall, on the host, where no list can go stale: every slirp4netns of
this server runs in a cgroup (v2) of the server's own,
``porter-sandbox-<pid>-<token>``, and one nftables table of the same name in
the host's namespace rejects whatever a socket of that cgroup sends to an
address the kernel routes as local (``fib daddr type local``: every address
of every interface, the loopback, and local routes no interface lists). A
TCP connection gets a reset, anything else "administratively prohibited".
The table and the cgroup are made once when the server finds its network,
and removed when it closes; a server killed leaves them, and the next server
removes those of servers no longer running.

It needs a cgroup v2 hierarchy mounted at or under ``/sys/fs/cgroup`` (nft
names cgroups by their path there); without one the server says so and
relies on the sandboxes' own firewalls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from pathlib import Path

from . import firewall

logger = logging.getLogger(__name__)

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "porter-sandbox-"
_NAME = re.compile(rf"^{_PREFIX}(\d+)-[0-9a-f]+$")


def _cgroup2_mount(mounts: Path = Path("/proc/self/mounts")) -> Path | None:
    """Where the cgroup v2 hierarchy is mounted, if at or under ``/sys/fs/cgroup``."""
    for line in mounts.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "cgroup2":
            where = Path(fields[1])
            if where == _CGROUP_ROOT or _CGROUP_ROOT in where.parents:
                return where
    return None


class HostGuard:
    """This server's slirp4netns cgroup and host table (see the module doc)."""

    def __init__(self, name: str, group: Path) -> None:
        self.name = name
        self.group = group

    @classmethod
    def install(cls) -> HostGuard | str:
        """Make the cgroup and the table; or say why they cannot be made here."""
        try:
            mount = _cgroup2_mount()
        except OSError as error:
            return f"the mounts cannot be read: {error}"
        if mount is None:
            return "no cgroup v2 hierarchy is mounted under /sys/fs/cgroup"
        _remove_stale(mount)
        name = f"{_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        group = mount / name
        try:
            group.mkdir()
        except OSError as error:
            return f"its cgroup could not be made: {error}"
        path = group.relative_to(_CGROUP_ROOT)
        script = (
            f"table inet {name} {{\n"
            "  chain out {\n"
            "    type filter hook output priority 0; policy accept;\n"
            f'    socket cgroupv2 level 1 "{path}" fib daddr type local meta l4proto tcp reject with tcp reset\n'
            f'    socket cgroupv2 level 1 "{path}" fib daddr type local reject with icmpx admin-prohibited\n'
            "  }\n"
            "}\n"
        )
        try:
            _run(script)
        except firewall.FirewallError as error:
            with contextlib.suppress(OSError):
                group.rmdir()
            return f"its host table could not be installed: {error}"
        return cls(name, group)

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the cgroup from its first instruction (a shell joins it, then execs ``argv``)."""
        return ["/bin/sh", "-c", 'echo 0 > "$0" && exec "$@"', str(self.group / "cgroup.procs"), *argv]

    def remove(self) -> None:
        """Remove the table and the cgroup (once no slirp4netns is left in it)."""
        _remove(self.name, self.group)


def _run(script: str) -> None:
    nft = firewall.Nft()
    try:
        nft.run(script)
    finally:
        nft.close()


def _remove(name: str, group: Path) -> None:
    try:
        _run(f"delete table inet {name}\n")
    except firewall.FirewallError as error:
        logger.warning("could not remove the host table %s: %s", name, error)
    try:
        group.rmdir()
    except FileNotFoundError:
        pass
    except OSError as error:
        logger.warning("could not remove the cgroup %s: %s", group, error)


def _remove_stale(mount: Path) -> None:
    """Remove the cgroups (and tables) that servers no longer running left behind."""
    for group in mount.glob(f"{_PREFIX}*"):
        found = _NAME.match(group.name)
        if found is None or Path(f"/proc/{found.group(1)}").exists():
            continue
        _remove(group.name, group)

"""One live sandbox of the process runtime: its processes, its agent connection, and where it is in its life."""

from __future__ import annotations

import asyncio
import enum
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ..base import LaunchSpec
from .cgroups import SandboxCgroup
from .child import Child
from .network.stack import SandboxNetwork
from .pipes import OutputReader


class State(enum.Enum):
    """Where a sandbox is in its life; each moves only forward."""

    #: ``launch`` has not returned: an end now is the launch's failure, not an exit.
    STARTING = "starting"
    #: Launched: an end is reported through ``events.exited``.
    RUNNING = "running"
    #: Its main process ended (or its agent went away): the exit is being reported.
    EXITING = "exiting"
    #: ``stop`` is killing it: nothing more is reported.
    STOPPING = "stopping"
    #: Reported or stopped, and everything it held is freed.
    ENDED = "ended"


@dataclass
class Sandbox:
    """A sandbox this runtime started."""

    spec: LaunchSpec
    #: Its private ``tmp``, ``workspace`` and ``home`` on the host.
    scratch: Path
    process: Child
    control: socket.socket
    env: dict[str, str]
    cgroup: SandboxCgroup | None
    rlimit_as: int
    #: Set once the agent said it is ready; fails when it went away first.
    ready: asyncio.Future[None]
    state: State = State.STARTING
    #: The task reading the agent's messages; done once the agent's socket closed.
    pump: asyncio.Task[None] | None = None
    #: Per spawn token, the agent's answer: ``(SPAWN_FAILED or EXITED, payload fields)``.
    results: dict[int, asyncio.Future[tuple[bytes, list[bytes]]]] = field(default_factory=dict)
    #: Per ``RUN`` token, its ``STARTED`` answer: the terminal's master it carried, or -1.
    started: dict[int, asyncio.Future[int]] = field(default_factory=dict)
    main_token: int | None = None
    main_started: asyncio.Future[None] | None = None
    main_readers: list[OutputReader] = field(default_factory=list)
    #: Readers of execs that ended while a background process still held their pipes.
    stray_readers: set[OutputReader] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: Out-of-memory kills already reported (the cgroup counts them all).
    oom_seen: int = 0
    #: The host pid of the sandbox's PID 1 and a pidfd of it (bubblewrap only): to check, kill and await it.
    agent_pid: int | None = None
    agent_pidfd: int | None = None
    #: Its slirp4netns, firewall and resolver (a root server's sandboxes), and their setup, which
    #: every command waits for.
    network: SandboxNetwork | None = None
    network_ready: asyncio.Future[None] | None = None
    #: Its internal address (``network.internal``), when a port of it asked for one.
    internal_address: str | None = None
    #: Held while a snapshot copies its files: one capture at a time, and no cleanup under one.
    capturing: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def takes_commands(self) -> bool:
        """Whether execs may be sent: it is starting or running, and its agent is still there."""
        return self.state in (State.STARTING, State.RUNNING) and not (self.pump is not None and self.pump.done())

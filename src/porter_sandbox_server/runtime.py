"""The runtime interface: what the service needs from whatever runs sandboxes.

A runtime starts a sandbox's main process, runs execs in it, stops it, and
reports what the sandbox writes and when its main process ends. It holds no
rules of the API (names, phases, attachments, TTLs): those live in the
service, which calls a runtime and records what it reports.

Two runtimes implement it: ``process`` (processes on this host, isolated with
bubblewrap) and ``docker`` (containers on a Docker engine).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Stream = Literal["stdout", "stderr"]


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a runtime needs to start one sandbox."""

    sandbox_id: str
    name: str
    image: str
    #: The entrypoint override; ``None`` runs the image's own (or, for the
    #: process runtime, an idle keep-alive main process).
    command: Sequence[str] | None
    args: Sequence[str] | None
    env: Mapping[str, str]
    tags: Mapping[str, str]
    #: Absolute mount path inside the sandbox -> the volume's directory on this host.
    mounts: Mapping[str, Path]
    #: A private directory for this sandbox's writable area; the runtime may
    #: fill it and the service removes it once the sandbox is stopped.
    work_dir: Path
    memory_bytes: int | None = None
    cpu_millis: int | None = None


@dataclass(frozen=True)
class ExecOutput:
    """What one exec printed and how it exited."""

    stdout: str
    stderr: str
    exit_code: int


class RuntimeEvents(Protocol):
    """How a runtime reports back to the service. Both may be called from any task."""

    def log(self, sandbox_id: str, exec_id: str, stream: Stream, line: str) -> None:
        """One line (without its newline) that the main process (``exec_id`` "") or an exec wrote."""

    def exited(self, sandbox_id: str, exit_code: int, reason: str | None = None) -> None:
        """The main process ended by itself (not through ``stop``), with this exit code.

        ``reason`` is a message for the sandbox's logs when the runtime knows
        more (killed for exceeding its memory limit, say).
        """


class RuntimeUnavailable(Exception):
    """The runtime cannot be used now (engine unreachable); the message says what to do."""


class LaunchFailed(Exception):
    """The sandbox could not start (image missing, binary missing); the message is for its logs."""


class SandboxGone(Exception):
    """The runtime no longer has this sandbox (it ended or was never started here)."""


class Runtime(abc.ABC):
    """Runs sandboxes. One instance serves the whole server."""

    #: ``process`` or ``docker``: what ``--runtime`` names.
    name: str

    @abc.abstractmethod
    async def open(self, events: RuntimeEvents) -> None:
        """Get ready to run sandboxes; remember ``events`` for reporting.

        Raise ``RuntimeUnavailable`` only for a fault a user must fix before
        the server can start (bubblewrap missing); a backend that is merely
        down now (engine unreachable) is reported by ``readiness`` instead.
        """

    @abc.abstractmethod
    async def readiness(self) -> str | None:
        """``None`` when sandboxes can run now, else a short message saying why not."""

    @abc.abstractmethod
    async def launch(self, spec: LaunchSpec) -> None:
        """Start the sandbox's main process; return once it runs.

        Raise ``LaunchFailed`` when it cannot start, ``RuntimeUnavailable``
        when the backend is unreachable.
        """

    @abc.abstractmethod
    async def exec(self, sandbox_id: str, command: Sequence[str], exec_id: str, env: Mapping[str, str]) -> ExecOutput:
        """Run ``command`` in the running sandbox and wait for it.

        Output lines are also reported through ``events.log`` with ``exec_id``.
        A program that does not exist answers exit code 127 with a message on
        stderr. Raise ``SandboxGone`` when the sandbox is no longer there.
        """

    @abc.abstractmethod
    async def stop(self, sandbox_id: str) -> None:
        """Stop the sandbox and free what it holds; a no-op when it is already gone.

        Ending a sandbox through ``stop`` does not call ``events.exited``.
        """

    @abc.abstractmethod
    async def adopt(self, live: Sequence[LaunchSpec]) -> set[str]:
        """At start-up: take over those sandboxes the store records as live that still run.

        Answer the ids adopted (they keep running, report their logs and exit,
        and accept execs); the service marks the others ``backend_lost``. A
        runtime whose sandboxes cannot outlive the server answers an empty set.
        """

    @abc.abstractmethod
    async def close(self, stop_sandboxes: bool) -> None:
        """Shut down; with ``stop_sandboxes`` stop every sandbox first."""

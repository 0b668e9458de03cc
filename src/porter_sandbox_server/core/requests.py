"""What a caller asks of the service, typed and checked against the API's rules.

The HTTP layer has already checked each body against ``openapi.yaml`` (types,
required fields, patterns); what is checked here are the rules a schema does
not say well: names are DNS labels, mount paths are plain absolute
directories none of which lies inside another, quantities are in range,
and no argument or variable holds a NUL byte (no program can receive one).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from ..runtimes.base import TerminalSize
from .quantities import QuantityError, parse_cpu_millis, parse_memory_bytes

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
#: Environment variable names as Kubernetes takes them (letters, digits, ``_ - .``, no leading digit).
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
#: Beyond a century a TTL never fires in practice; the cap keeps timers and columns in range.
MAX_TTL_SECONDS = 100 * 365 * 86400
#: At most this many environment variables, each ``NAME=value`` under the kernel's limit for one
#: string (128 KiB), and this much in all: a command must still fit the kernel's 2 MiB for
#: arguments and environment together, or every exec would fail with "Argument list too long".
MAX_ENV_VARIABLES = 1000
MAX_ENV_VARIABLE_BYTES = 128 * 1024 - 1
MAX_ENV_BYTES = 512 * 1024
#: The longest ``timeout_seconds`` of a command: a week (a longer job runs in the background, or without one).
MAX_TIMEOUT_SECONDS = 7 * 86400


def check_name(name: str, what: str) -> None:
    """Raise ``BadRequest`` unless ``name`` is a DNS label (the whole string: no trailing newline)."""
    if not _NAME.fullmatch(name):
        raise errors.BadRequest(
            f"{what} name {name!r} is invalid: use 1 to 63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )


def check_argv(argv: Sequence[str], what: str) -> None:
    """Raise ``BadRequest`` when an argument holds a NUL byte."""
    for index, item in enumerate(argv):
        if "\0" in item:
            raise errors.BadRequest(f"{what}[{index}] holds a NUL character, which no program can receive; remove it")


def check_env(env: Mapping[str, str]) -> None:
    """Raise ``BadRequest`` for a variable name that is not a name, a NUL anywhere, or an environment too large."""
    if len(env) > MAX_ENV_VARIABLES:
        raise errors.BadRequest(f"env holds {len(env)} variables; at most {MAX_ENV_VARIABLES} are allowed")
    total = 0
    for key, value in env.items():
        if not _ENV_NAME.fullmatch(key):
            raise errors.BadRequest(
                f"env name {_shown(key)} is invalid: use letters, digits, '_', '-' and '.', not starting with a digit"
            )
        if "\0" in value:
            raise errors.BadRequest(f"env {key!r} holds a NUL character, which no program can receive; remove it")
        size = len(key.encode()) + 1 + len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_ENV_VARIABLE_BYTES:
            raise errors.BadRequest(
                f"env {_shown(key)} is {size} bytes long; a variable (NAME=value) must stay under 128 KiB: "
                "pass large data in a file on a volume instead"
            )
        total += size + 1
    if total > MAX_ENV_BYTES:
        raise errors.BadRequest(
            f"env holds {total} bytes; at most {MAX_ENV_BYTES} are allowed in all, so that commands still fit "
            "the kernel's limit: pass large data in a file on a volume instead"
        )


def _shown(text: str, most: int = 60) -> str:
    """``text`` quoted for a message, cut short when long."""
    return repr(text) if len(text) <= most else repr(text[:most]) + f"... ({len(text)} characters)"


def check_mount_path(mount_path: str) -> None:
    """Raise ``BadRequest`` unless ``mount_path`` is a plain absolute directory path other than ``/``.

    Plain: no ``..``, ``.``, empty component or trailing slash, so that one path has one spelling
    and ``check_mounts`` can compare paths as they are written.
    """
    if not mount_path.startswith("/"):
        raise errors.BadRequest(
            f"volume_mounts: mount path {mount_path!r} is relative; use an absolute path such as /data"
        )
    if mount_path == "/" or ".." in mount_path.split("/") or "\0" in mount_path:
        raise errors.BadRequest(
            f"volume_mounts: mount path {mount_path!r} is not allowed; use an absolute directory such as /data"
        )
    parts = mount_path.split("/")[1:]
    if any(part in ("", ".") for part in parts):
        plain = "/" + "/".join(part for part in parts if part not in ("", "."))
        raise errors.BadRequest(
            f"volume_mounts: mount path {mount_path!r} is not a plain path; write it as {plain!r} "
            "(no '.', no empty component, no trailing slash)"
        )


def check_mounts(mount_paths: Sequence[str]) -> None:
    """Raise ``BadRequest`` when one mount path lies inside another.

    A volume mounted inside another (``/data/sub/x`` inside ``/data``) would be reached through the
    outer volume's directories, where any sandbox mounting that volume may have planted a symbolic
    link that leads elsewhere on the host.
    """
    for inner in mount_paths:
        for outer in mount_paths:
            if inner != outer and inner.startswith(outer + "/"):
                raise errors.BadRequest(
                    f"volume_mounts: {inner} lies inside {outer}, another mount of this sandbox; a volume cannot be "
                    f"mounted inside another (a link planted in the outer volume could redirect it): mount them side "
                    f"by side, such as {outer} and /{inner.strip('/').replace('/', '-')}"
                )


@dataclass(frozen=True)
class SandboxRequest:
    """A sandbox to create (``POST /v1/sandbox/run``), checked."""

    #: "" only with ``snapshot_id``: the snapshot's image then.
    image: str
    #: ``None``: the sandbox is named after its id.
    name: str | None = None
    tags: Mapping[str, str] | None = None
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    env: Mapping[str, str] | None = None
    #: Absolute mount path inside the sandbox -> volume id.
    volume_mounts: Mapping[str, str] | None = None
    memory_bytes: int | None = None
    cpu_millis: int | None = None
    ttl_seconds: int | None = None
    #: Start from this snapshot's files.
    snapshot_id: str | None = None
    #: Environment groups of the server to merge under ``env``, in order.
    env_groups: Sequence[str] = ()
    #: Ports to serve (``SandboxNetworkingSpec`` objects), as sent; ``None`` when not asked for.
    networking: Sequence[Mapping[str, Any]] | None = None
    #: The egress policy (``SandboxEgressSpec``), as sent; ``None`` leaves egress open.
    egress: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.image and self.snapshot_id is None:
            raise errors.BadRequest(
                "image is empty; name an image such as python:3.12-slim, or give snapshot_id to start from a snapshot"
            )
        if self.name is not None:
            check_name(self.name, "sandbox")
        for mount_path in self.volume_mounts or {}:
            check_mount_path(mount_path)
        check_mounts(list(self.volume_mounts or {}))
        check_argv(self.command or [], "command")
        check_argv(self.args or [], "args")
        check_env(self.env or {})

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SandboxRequest:
        """The request a ``SandboxSpec`` JSON object (already checked against the spec) asks for."""
        resources = body.get("resources") or {}
        cpu = memory = None
        try:
            if resources.get("cpu") is not None:
                cpu = parse_cpu_millis(resources["cpu"])
            if resources.get("memory") is not None:
                memory = parse_memory_bytes(resources["memory"])
        except QuantityError as error:
            raise errors.BadRequest(f"resources.{error}") from None
        ttl = body.get("ttl_seconds")
        if ttl is not None and not 1 <= ttl <= MAX_TTL_SECONDS:
            raise errors.BadRequest(f"ttl_seconds {ttl!r} is out of range: use 1 to {MAX_TTL_SECONDS} (a century)")
        return cls(
            image=body["image"],
            name=body.get("name"),
            tags=dict(body.get("tags") or {}),
            command=list(body["command"]) if body.get("command") is not None else None,
            args=list(body["args"]) if body.get("args") is not None else None,
            env=dict(body.get("env") or {}),
            volume_mounts=dict(body.get("volume_mounts") or {}),
            memory_bytes=memory,
            cpu_millis=cpu,
            ttl_seconds=int(ttl) if ttl is not None else None,
            snapshot_id=body.get("snapshot_id"),
            env_groups=list(body.get("env_groups") or ()),
            networking=list(body["networking"]) if body.get("networking") is not None else None,
            egress=dict(body["egress"]) if body.get("egress") is not None else None,
        )


@dataclass(frozen=True)
class VolumeRequest:
    """A volume to create (``POST /v1/volume``), checked."""

    name: str | None = None
    type: str = "disk"
    #: The bucket of an ``object`` volume (``VolumeObjectSpec``).
    object: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            check_name(self.name, "volume")
        if self.object is not None and self.type != "object":
            raise errors.BadRequest(
                f"object describes an object volume's bucket; give type: object with it, not {self.type}"
            )
        if self.type == "object" and self.object is None:
            raise errors.BadRequest("an object volume needs object: {bucket, prefix?, access?, mode?}")

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> VolumeRequest:
        """The request a ``CreateVolumeRequest`` JSON object asks for."""
        return cls(name=body.get("name"), type=body.get("type") or "disk", object=body.get("object"))


@dataclass(frozen=True)
class ProcessRequest:
    """A command to run through the extensions (a streamed or whole exec, a background process, a terminal), checked."""

    command: Sequence[str]
    #: Written to its stdin, which is then closed unless ``stdin_open``.
    stdin: bytes | None = None
    #: Keep its stdin open for later writes (``POST .../stdin``).
    stdin_open: bool = False
    #: Its working directory (absolute); ``None``: the sandbox's.
    cwd: str | None = None
    #: On top of the sandbox's environment.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Kill its whole process group once it has run this long.
    timeout_seconds: float | None = None
    #: Run it on a pseudo-terminal of this size.
    terminal: TerminalSize | None = None

    def __post_init__(self) -> None:
        if not self.command:
            raise errors.BadRequest('command is empty; give the program and its arguments, such as ["ls", "-l"]')
        check_argv(self.command, "command")
        check_env(self.env)
        if self.cwd is not None and (not self.cwd.startswith("/") or "\0" in self.cwd):
            raise errors.BadRequest(f"cwd {_shown(self.cwd)} must be an absolute path, such as /workspace or /tmp")
        if self.timeout_seconds is not None and not 0 < self.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise errors.BadRequest(
                f"timeout_seconds {self.timeout_seconds!r} is out of range: use more than 0, at most "
                f"{MAX_TIMEOUT_SECONDS} (a week)"
            )

    @classmethod
    def from_json(cls, body: Mapping[str, Any], terminal: TerminalSize | None = None) -> ProcessRequest:
        """The request an ``ExtExecRequest`` JSON object (already checked against the spec) asks for."""
        if "stdin" in body and "stdin_base64" in body:
            raise errors.BadRequest("give stdin (text) or stdin_base64 (bytes), not both")
        stdin: bytes | None = None
        if body.get("stdin") is not None:
            stdin = body["stdin"].encode("utf-8", "surrogatepass")
        elif body.get("stdin_base64") is not None:
            try:
                stdin = base64.b64decode(body["stdin_base64"], validate=True)
            except (binascii.Error, ValueError):
                raise errors.BadRequest("stdin_base64 is not valid base64 (RFC 4648, with padding)") from None
        timeout = body.get("timeout_seconds")
        return cls(
            command=list(body["command"]),
            stdin=stdin,
            stdin_open=bool(body.get("stdin_open", False)),
            cwd=body.get("cwd"),
            env=dict(body.get("env") or {}),
            timeout_seconds=float(timeout) if timeout is not None else None,
            terminal=terminal,
        )

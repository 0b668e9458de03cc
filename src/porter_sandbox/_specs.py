"""What you pass to create things, under the names of Porter's published client: resources, networking, egress,
object volumes, snapshot modes.

Each is a small frozen dataclass with the fields of the published client's
model of the same name, made with keyword arguments and checked as it is made
(a wrong type or an unknown value raises there, before anything is sent). An
enum field takes the enum's member or its value as a string, and holds the
member. The SDK's methods also take a plain mapping with the same keys
(``resources={"cpu": "500m"}``); :func:`coerce` turns one into the dataclass.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from ._enums import (
    SandboxDomainSpecVisibility,
    SnapshotMode,
    VolumeObjectSpecAccess,
    VolumeObjectSpecMode,
    check_member,
)

__all__ = [
    "AccessName",
    "ModeName",
    "ObjectModeName",
    "SandboxDomainSpec",
    "SandboxEgressSpec",
    "SandboxNetworkingSpec",
    "SandboxResourcesSpec",
    "SnapshotSpec",
    "VisibilityName",
    "VolumeObjectSpec",
    "coerce",
    "wire",
]

ModeName = Literal["filesystem", "full"]
"""A snapshot mode, as a string."""
VisibilityName = Literal["public", "private"]
"""A domain's visibility, as a string."""
AccessName = Literal["read_write", "read_only", "write_only_new_files"]
"""An object volume's access, as a string."""
ObjectModeName = Literal["object", "filesystem"]
"""How an object volume is mounted, as a string."""

T = TypeVar("T")


def coerce(value: object, kind: type[T], what: str) -> T:
    """``value`` as a ``kind``: itself when it is one, else built from a mapping of ``kind``'s fields."""
    if isinstance(value, kind):
        return value
    names = [item.name for item in fields(kind)]  # type: ignore[arg-type]
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a {kind.__name__} or a mapping with keys {names}, not {value!r}")
    unknown = sorted(str(key) for key in value if key not in names)
    if unknown:
        raise ValueError(f"{what} takes the keys {names}, not {unknown}")
    return kind(**value)


def _set(spec: object, name: str, value: object) -> None:
    object.__setattr__(spec, name, value)  # a frozen dataclass's own field, set once in its __init__


def _optional_string(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a string or None, not {value!r}")
    return value


def _quantity(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"resources {what} must be a Kubernetes quantity such as '500m' or '512Mi', not {value!r}")
    return str(value)


@dataclass(frozen=True, init=False)
class SandboxResourcesSpec:
    """The most a sandbox may use, as Kubernetes quantities: ``cpu`` (``"500m"``, ``"2"``), ``memory`` (``"512Mi"``).

    A field left ``None`` keeps the server's default for it.
    """

    cpu: str | None
    """CPU cores, such as ``"2"`` or ``"500m"`` (half a core); a number is taken as cores."""
    memory: str | None
    """Memory, such as ``"512Mi"`` or ``"2Gi"``; a number is taken as bytes."""

    def __init__(self, *, cpu: str | float | None = None, memory: str | int | None = None) -> None:
        _set(self, "cpu", _quantity(cpu, "cpu"))
        _set(self, "memory", _quantity(memory, "memory"))


@dataclass(frozen=True, init=False)
class SandboxDomainSpec:
    """A domain a sandbox's port is served on (``SandboxNetworkingSpec.domains``)."""

    domain: str | None
    """The fully qualified hostname; the server picks one from the sandbox's name when ``None``."""
    visibility: SandboxDomainSpecVisibility | None
    """``public`` or ``private``: which ingress serves it; the cluster's default when ``None``."""

    def __init__(
        self, *, domain: str | None = None, visibility: SandboxDomainSpecVisibility | VisibilityName | None = None
    ) -> None:
        _set(self, "domain", _optional_string(domain, "domain"))
        chosen = None if visibility is None else check_member(SandboxDomainSpecVisibility, visibility, "visibility")
        _set(self, "visibility", chosen)


@dataclass(frozen=True, init=False)
class SandboxNetworkingSpec:
    """A port of the sandbox to expose: served on ``domains``, or only inside the cluster when ``internal``."""

    port: int
    """The port the sandbox's program listens on (Porter refuses 1 to 1023)."""
    domains: builtins.list[SandboxDomainSpec] | None
    """Where to serve it; the default hostname when ``None``."""
    internal: bool | None
    """Serve it inside the cluster only, at the sandbox's ``internal_address``."""

    def __init__(
        self,
        *,
        port: int,
        domains: Sequence[SandboxDomainSpec | Mapping[str, Any]] | None = None,
        internal: bool | None = None,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"port must be a whole number from 1 to 65535, not {port!r}")
        if domains is not None and (isinstance(domains, (str, Mapping)) or not isinstance(domains, Sequence)):
            raise TypeError(f"domains must be a list of SandboxDomainSpec, not {domains!r}")
        if internal is not None and not isinstance(internal, bool):
            raise TypeError(f"internal must be True, False or None, not {internal!r}")
        _set(self, "port", port)
        chosen = None if domains is None else [coerce(item, SandboxDomainSpec, "each of domains") for item in domains]
        _set(self, "domains", chosen)
        _set(self, "internal", internal)


@dataclass(frozen=True, init=False)
class SandboxEgressSpec:
    """Where a sandbox may connect to: hostnames, ``*.domain`` wildcards, IPs and CIDRs; ``[]`` denies all egress.

    Leave ``egress`` out of ``create()`` for no restriction.
    """

    allowed_destinations: builtins.list[str]
    """The destinations allowed; everything else is denied."""

    def __init__(self, *, allowed_destinations: Sequence[str]) -> None:
        destinations = allowed_destinations
        if isinstance(destinations, (str, bytes)) or not isinstance(destinations, Sequence):
            raise TypeError(
                f"allowed_destinations must be a list of strings, such as ['pypi.org', '*.example.com'], "
                f"not {destinations!r}"
            )
        for destination in destinations:
            if not isinstance(destination, str) or not destination.strip():
                raise ValueError(f"each allowed destination must be a non-empty string, not {destination!r}")
        _set(self, "allowed_destinations", builtins.list(destinations))


@dataclass(frozen=True, init=False)
class VolumeObjectSpec:
    """The bucket an object volume exposes (``volumes.create(type="object", object=...)``)."""

    bucket: str
    """The bucket; it must be registered on the cluster."""
    prefix: str | None
    """The key prefix the volume is scoped to (no leading or trailing slash); the whole bucket when ``None``."""
    access: VolumeObjectSpecAccess | None
    """``read_write`` (the default), ``read_only`` or ``write_only_new_files``."""
    mode: VolumeObjectSpecMode | None
    """``object`` (the default) or ``filesystem``: how sandboxes mount the bucket."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str | None = None,
        access: VolumeObjectSpecAccess | AccessName | None = None,
        mode: VolumeObjectSpecMode | ObjectModeName | None = None,
    ) -> None:
        if not isinstance(bucket, str) or not bucket:
            raise ValueError(f"bucket must be a bucket's name, a non-empty string, not {bucket!r}")
        _set(self, "bucket", bucket)
        _set(self, "prefix", _optional_string(prefix, "prefix"))
        _set(self, "access", None if access is None else check_member(VolumeObjectSpecAccess, access, "access"))
        _set(self, "mode", None if mode is None else check_member(VolumeObjectSpecMode, mode, "mode"))


@dataclass(frozen=True, init=False)
class SnapshotSpec:
    """What a snapshot captures: ``mode`` ``filesystem`` (the default) or ``full`` (memory too, where supported)."""

    mode: SnapshotMode | None
    """``filesystem`` or ``full``; the server's default (``filesystem``) when ``None``."""

    def __init__(self, *, mode: SnapshotMode | ModeName | None = None) -> None:
        _set(self, "mode", None if mode is None else check_member(SnapshotMode, mode, "mode"))


def _plain(value: Any) -> Any:
    """A spec's value on the wire: enums as their value, nested specs as objects."""
    if isinstance(value, SandboxDomainSpec):
        return wire(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str.__str__(value)
    return value


def wire(spec: object) -> dict[str, Any]:
    """A spec as the JSON object the API takes, without the fields left ``None``."""
    values = {item.name: getattr(spec, item.name) for item in fields(spec)}  # type: ignore[arg-type]
    return {name: _plain(value) for name, value in values.items() if value is not None}

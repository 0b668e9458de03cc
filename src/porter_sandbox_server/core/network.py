"""A sandbox's network requests, checked: ``NetworkAsk`` (from ``egress`` and ``networking``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..runtimes.egress import EgressPolicy

#: Porter refuses privileged ports: a sandbox serves 1024 and up.
LOWEST_PORT = 1024


def port_url(port: int, name: str, server_port: int) -> str:
    """The URL a browser on this machine opens to reach ``port`` of sandbox ``name`` (``http.port_proxy``)."""
    return f"http://{port}-{name}.localhost:{server_port}/"


@dataclass(frozen=True)
class NetworkAsk:
    """What a create asked of the network: an egress policy, ports to serve, an internal address."""

    #: ``egress.allowed_destinations``; ``None`` leaves egress open.
    egress: tuple[str, ...] | None = None
    ports: tuple[int, ...] = ()
    #: The ports served at ``host`` through the server's proxy (those not ``internal``), and the others.
    public_ports: tuple[int, ...] = ()
    internal_ports: tuple[int, ...] = ()
    #: ``(port, domain, visibility)`` of each domain asked for: recorded and reported, not served (no ingress).
    domains: tuple[tuple[int, str | None, str | None], ...] = ()

    @classmethod
    def from_request(
        cls, egress: Mapping[str, Any] | None, networking: Sequence[Mapping[str, Any]] | None
    ) -> NetworkAsk:
        """The requests checked; ``errors.BadRequest`` says which part is wrong and how to fix it."""
        destinations: tuple[str, ...] | None = None
        if egress is not None:
            listed = egress.get("allowed_destinations")
            if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
                raise errors.BadRequest(
                    "egress.allowed_destinations must be a list of strings (an empty list denies all egress; "
                    "leave out egress to leave it open)"
                )
            try:
                EgressPolicy.parse(listed)
            except ValueError as error:
                raise errors.BadRequest(str(error)) from None
            destinations = tuple(listed)
        ports: list[int] = []
        public: list[int] = []
        internal: list[int] = []
        domains: list[tuple[int, str | None, str | None]] = []
        for item in networking or ():
            port = item.get("port")
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise errors.BadRequest(f"networking: port {port!r} is not a port number (1024 to 65535)")
            if port < LOWEST_PORT:
                raise errors.BadRequest(
                    f"networking: port {port} is privileged (1-1023), which sandboxes cannot serve: "
                    "listen on 1024 or above and give that port"
                )
            if port in ports:
                raise errors.BadRequest(f"networking: port {port} is listed twice; list each port once")
            if item.get("internal") and item.get("domains"):
                raise errors.BadRequest(f"networking: port {port} cannot be both internal and served on domains")
            ports.append(port)
            (internal if item.get("internal") else public).append(port)
            for domain in item.get("domains") or ():
                domains.append((port, domain.get("domain"), domain.get("visibility")))
        return cls(destinations, tuple(ports), tuple(public), tuple(internal), tuple(domains))

    def domain_notes(self, host: str) -> list[str]:
        """What the sandbox's log says of each domain asked for: the local server serves none of them."""
        return [
            f"networking: port {port} asked for domain {domain or '(the default)'} ({visibility or 'default'} "
            f"visibility); this server has no ingress, so it is served at {host or 'no URL'} only"
            for port, domain, visibility in self.domains
        ]

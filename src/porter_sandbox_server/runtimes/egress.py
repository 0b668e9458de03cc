"""An egress policy (``egress.allowed_destinations``), parsed: ``EgressPolicy``.

Each destination is an IPv4 address, an IPv4 network in CIDR form, a host
name (``api.example.com``) or a wildcard (``*.example.com``: every name below
``example.com``, not ``example.com`` itself). An empty list allows nothing.
Link-local addresses (``LINK_LOCAL``) are refused: no sandbox reaches them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
#: Link-local addresses (a cloud's metadata service, 169.254.169.254, among them): refused in every policy,
#: and blocked by every sandbox's firewall even with egress open.
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


@dataclass(frozen=True)
class EgressPolicy:
    """Where a sandbox may connect: networks by address, and names its DNS answers may open."""

    #: IPv4 networks (an address is a /32), as nft writes them.
    networks: tuple[str, ...] = ()
    #: Exact host names, lower case, without a trailing dot.
    names: frozenset[str] = frozenset()
    #: Wildcards' domains: a name strictly below one of them is allowed.
    suffixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, destinations: Sequence[str]) -> EgressPolicy:
        """The policy ``destinations`` describe; ``ValueError`` names the first one that is none of the forms."""
        networks: list[str] = []
        names: set[str] = set()
        suffixes: list[str] = []
        for destination in destinations:
            text = str(destination).strip().lower().rstrip(".")
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                network = None
            if network is not None:
                if network.version != 4:
                    raise ValueError(
                        f"egress destination {destination!r}: IPv6 egress is not offered by this server; "
                        "give IPv4 addresses, networks or host names"
                    )
                if network.subnet_of(LINK_LOCAL):
                    raise ValueError(
                        f"egress destination {destination!r}: link-local addresses (169.254.0.0/16, a cloud's "
                        "metadata service among them) are never reachable from a sandbox; remove it"
                    )
                networks.append(str(network))
                continue
            wildcard = text.startswith("*.")
            name = text[2:] if wildcard else text
            if not name or not all(_LABEL.match(label) for label in name.split(".")):
                raise ValueError(
                    f"egress destination {destination!r} is not an IPv4 address, a CIDR network (10.0.0.0/8), "
                    "a host name (api.example.com) or a wildcard (*.example.com)"
                )
            if wildcard:
                suffixes.append(name)
            else:
                names.add(name)
        return cls(tuple(networks), frozenset(names), tuple(suffixes))

    def allows_name(self, name: str) -> bool:
        """Whether DNS answers for ``name`` may open the addresses they give."""
        name = name.lower().rstrip(".")
        return name in self.names or any(name.endswith("." + suffix) for suffix in self.suffixes)

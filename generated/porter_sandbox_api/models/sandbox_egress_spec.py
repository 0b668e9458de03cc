from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SandboxEgressSpec")


@_attrs_define
class SandboxEgressSpec:
    """Where the sandbox may connect to.

    Attributes:
        allowed_destinations (list[str]): Destinations the sandbox may reach; all other outbound traffic is denied,
            refused at once. An entry is a hostname (api.example.com), a wildcard (*.example.com) matching any host under
            that domain but not the domain itself, an IPv4 literal or a CIDR range (203.0.113.0/24). Hostnames are enforced
            as names: the sandbox's DNS goes through the server, which answers other names REFUSED and opens the addresses
            of an allowed name's answer for its TTL. An empty list denies all egress; omit egress to leave it unrestricted.
            A runtime that cannot enforce a policy refuses the create with 400.
    """

    allowed_destinations: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        allowed_destinations = self.allowed_destinations

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allowed_destinations": allowed_destinations,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        allowed_destinations = cast(list[str], d.pop("allowed_destinations"))

        sandbox_egress_spec = cls(
            allowed_destinations=allowed_destinations,
        )

        sandbox_egress_spec.additional_properties = d
        return sandbox_egress_spec

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sandbox_domain_spec import SandboxDomainSpec


T = TypeVar("T", bound="SandboxNetworkingSpec")


@_attrs_define
class SandboxNetworkingSpec:
    """One port the sandbox serves.

    Attributes:
        port (int): Port the workload listens on. Privileged ports (1-1023) are not allowed.
        domains (list[SandboxDomainSpec] | Unset): Domains the port is served on through a sandbox ingress. The local
            server has no ingress: it checks them and serves the port at its localhost URL only. Cannot be combined with
            internal.
        internal (bool | Unset): Serve the port to other sandboxes only: the sandbox gets no `host` and is reachable at
            `internal_address` in its status.
    """

    port: int
    domains: list[SandboxDomainSpec] | Unset = UNSET
    internal: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        domains: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.domains, Unset):
            domains = []
            for domains_item_data in self.domains:
                domains_item = domains_item_data.to_dict()
                domains.append(domains_item)

        internal = self.internal

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "port": port,
            }
        )
        if domains is not UNSET:
            field_dict["domains"] = domains
        if internal is not UNSET:
            field_dict["internal"] = internal

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sandbox_domain_spec import SandboxDomainSpec

        d = dict(src_dict)
        port = d.pop("port")

        _domains = d.pop("domains", UNSET)
        domains: list[SandboxDomainSpec] | Unset = UNSET
        if _domains is not UNSET:
            domains = []
            for domains_item_data in _domains:
                domains_item = SandboxDomainSpec.from_dict(domains_item_data)

                domains.append(domains_item)

        internal = d.pop("internal", UNSET)

        sandbox_networking_spec = cls(
            port=port,
            domains=domains,
            internal=internal,
        )

        sandbox_networking_spec.additional_properties = d
        return sandbox_networking_spec

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.sandbox_domain_spec_visibility import SandboxDomainSpecVisibility
from ..types import UNSET, Unset

T = TypeVar("T", bound="SandboxDomainSpec")


@_attrs_define
class SandboxDomainSpec:
    """A hostname a port is served on.

    Attributes:
        domain (str | Unset): Fully qualified hostname for the sandbox, one label under the ingress's domain.
        visibility (SandboxDomainSpecVisibility | Unset): Which sandbox ingress serves the domain when the cluster has
            both.
    """

    domain: str | Unset = UNSET
    visibility: SandboxDomainSpecVisibility | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domain = self.domain

        visibility: str | Unset = UNSET
        if not isinstance(self.visibility, Unset):
            visibility = self.visibility.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if domain is not UNSET:
            field_dict["domain"] = domain
        if visibility is not UNSET:
            field_dict["visibility"] = visibility

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        domain = d.pop("domain", UNSET)

        _visibility = d.pop("visibility", UNSET)
        visibility: SandboxDomainSpecVisibility | Unset
        if isinstance(_visibility, Unset):
            visibility = UNSET
        else:
            visibility = SandboxDomainSpecVisibility(_visibility)

        sandbox_domain_spec = cls(
            domain=domain,
            visibility=visibility,
        )

        sandbox_domain_spec.additional_properties = d
        return sandbox_domain_spec

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

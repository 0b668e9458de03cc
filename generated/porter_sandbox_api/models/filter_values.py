from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FilterValues")


@_attrs_define
class FilterValues:
    """The values that occur among all sandboxes, for building filters.

    Attributes:
        tags (list[str] | Unset): Tags as `key=value`.
        images (list[str] | Unset): Images.
        phases (list[str] | Unset): Phases.
    """

    tags: list[str] | Unset = UNSET
    images: list[str] | Unset = UNSET
    phases: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        images: list[str] | Unset = UNSET
        if not isinstance(self.images, Unset):
            images = self.images

        phases: list[str] | Unset = UNSET
        if not isinstance(self.phases, Unset):
            phases = self.phases

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if tags is not UNSET:
            field_dict["tags"] = tags
        if images is not UNSET:
            field_dict["images"] = images
        if phases is not UNSET:
            field_dict["phases"] = phases

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tags = cast(list[str], d.pop("tags", UNSET))

        images = cast(list[str], d.pop("images", UNSET))

        phases = cast(list[str], d.pop("phases", UNSET))

        filter_values = cls(
            tags=tags,
            images=images,
            phases=phases,
        )

        filter_values.additional_properties = d
        return filter_values

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

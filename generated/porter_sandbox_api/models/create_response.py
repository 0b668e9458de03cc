from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.string_map import StringMap


T = TypeVar("T", bound="CreateResponse")


@_attrs_define
class CreateResponse:
    """The sandbox that was created.

    Attributes:
        id (str): The sandbox's id.
        name (str): The sandbox's name.
        volume_mounts (StringMap | Unset): String keys to string values.
    """

    id: str
    name: str
    volume_mounts: StringMap | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        volume_mounts: dict[str, Any] | Unset = UNSET
        if not isinstance(self.volume_mounts, Unset):
            volume_mounts = self.volume_mounts.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
            }
        )
        if volume_mounts is not UNSET:
            field_dict["volume_mounts"] = volume_mounts

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.string_map import StringMap

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        _volume_mounts = d.pop("volume_mounts", UNSET)
        volume_mounts: StringMap | Unset
        if isinstance(_volume_mounts, Unset):
            volume_mounts = UNSET
        else:
            volume_mounts = StringMap.from_dict(_volume_mounts)

        create_response = cls(
            id=id,
            name=name,
            volume_mounts=volume_mounts,
        )

        create_response.additional_properties = d
        return create_response

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

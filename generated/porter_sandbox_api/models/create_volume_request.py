from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.volume_type import VolumeType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.volume_object_spec import VolumeObjectSpec


T = TypeVar("T", bound="CreateVolumeRequest")


@_attrs_define
class CreateVolumeRequest:
    """A volume to create.

    Attributes:
        name (str | Unset): A DNS label: 1 to 63 characters of `a-z`, `0-9` and `-`, starting and ending with a letter
            or digit.
        type_ (VolumeType | Unset): `disk` for a directory of files; `object` for one backed by an object store bucket.
        object_ (VolumeObjectSpec | Unset): The bucket an object volume exposes.
    """

    name: str | Unset = UNSET
    type_: VolumeType | Unset = UNSET
    object_: VolumeObjectSpec | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = self.type_.value

        object_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.object_, Unset):
            object_ = self.object_.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if type_ is not UNSET:
            field_dict["type"] = type_
        if object_ is not UNSET:
            field_dict["object"] = object_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.volume_object_spec import VolumeObjectSpec

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        _type_ = d.pop("type", UNSET)
        type_: VolumeType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = VolumeType(_type_)

        _object_ = d.pop("object", UNSET)
        object_: VolumeObjectSpec | Unset
        if isinstance(_object_, Unset):
            object_ = UNSET
        else:
            object_ = VolumeObjectSpec.from_dict(_object_)

        create_volume_request = cls(
            name=name,
            type_=type_,
            object_=object_,
        )

        create_volume_request.additional_properties = d
        return create_volume_request

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.volume_phase import VolumePhase
from ..models.volume_type import VolumeType
from ..types import UNSET, Unset, parse_datetime

if TYPE_CHECKING:
    from ..models.volume_object_spec import VolumeObjectSpec


T = TypeVar("T", bound="Volume")


@_attrs_define
class Volume:
    """A volume that sandboxes can mount.

    Attributes:
        id (str): The volume's id.
        name (str): The volume's name.
        type_ (str | VolumeType): What backs the volume.
        path (str): Where its data lives, relative to the server's volume root.
        phase (str | VolumePhase): Whether it can be mounted.
        attached_to (list[str]): The ids of the live sandboxes that mount it.
        created_at (datetime.datetime): When it was created.
        object_ (VolumeObjectSpec | Unset): The bucket an object volume exposes.
    """

    id: str
    name: str
    type_: str | VolumeType
    path: str
    phase: str | VolumePhase
    attached_to: list[str]
    created_at: datetime.datetime
    object_: VolumeObjectSpec | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        type_: str
        if isinstance(self.type_, VolumeType):
            type_ = self.type_.value
        else:
            type_ = self.type_

        path = self.path

        phase: str
        if isinstance(self.phase, VolumePhase):
            phase = self.phase.value
        else:
            phase = self.phase

        attached_to = self.attached_to

        created_at = self.created_at.isoformat()

        object_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.object_, Unset):
            object_ = self.object_.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "type": type_,
                "path": path,
                "phase": phase,
                "attached_to": attached_to,
                "created_at": created_at,
            }
        )
        if object_ is not UNSET:
            field_dict["object"] = object_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.volume_object_spec import VolumeObjectSpec

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        def _parse_type_(data: object) -> str | VolumeType:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_0 = VolumeType(data)

                return type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | VolumeType, data)

        type_ = _parse_type_(d.pop("type"))

        path = d.pop("path")

        def _parse_phase(data: object) -> str | VolumePhase:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                phase_type_0 = VolumePhase(data)

                return phase_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | VolumePhase, data)

        phase = _parse_phase(d.pop("phase"))

        attached_to = cast(list[str], d.pop("attached_to"))

        created_at = parse_datetime(d.pop("created_at"))

        _object_ = d.pop("object", UNSET)
        object_: VolumeObjectSpec | Unset
        if isinstance(_object_, Unset):
            object_ = UNSET
        else:
            object_ = VolumeObjectSpec.from_dict(_object_)

        volume = cls(
            id=id,
            name=name,
            type_=type_,
            path=path,
            phase=phase,
            attached_to=attached_to,
            created_at=created_at,
            object_=object_,
        )

        volume.additional_properties = d
        return volume

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

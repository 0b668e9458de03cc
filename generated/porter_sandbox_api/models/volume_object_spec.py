from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.volume_object_spec_access import VolumeObjectSpecAccess
from ..models.volume_object_spec_mode import VolumeObjectSpecMode
from ..types import UNSET, Unset

T = TypeVar("T", bound="VolumeObjectSpec")


@_attrs_define
class VolumeObjectSpec:
    """The bucket an object volume exposes.

    Attributes:
        bucket (str): The bucket; it must be registered on the cluster.
        prefix (str | Unset): The key prefix the volume is scoped to, without leading or trailing slashes; sandboxes see
            only the objects under it. The whole bucket when absent.
        access (str | Unset | VolumeObjectSpecAccess): How sandboxes may use the bucket; `read_write` when absent.
        mode (str | Unset | VolumeObjectSpecMode): How sandboxes mount the bucket; `object` when absent.
    """

    bucket: str
    prefix: str | Unset = UNSET
    access: str | Unset | VolumeObjectSpecAccess = UNSET
    mode: str | Unset | VolumeObjectSpecMode = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bucket = self.bucket

        prefix = self.prefix

        access: str | Unset
        if isinstance(self.access, Unset):
            access = UNSET
        elif isinstance(self.access, VolumeObjectSpecAccess):
            access = self.access.value
        else:
            access = self.access

        mode: str | Unset
        if isinstance(self.mode, Unset):
            mode = UNSET
        elif isinstance(self.mode, VolumeObjectSpecMode):
            mode = self.mode.value
        else:
            mode = self.mode

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bucket": bucket,
            }
        )
        if prefix is not UNSET:
            field_dict["prefix"] = prefix
        if access is not UNSET:
            field_dict["access"] = access
        if mode is not UNSET:
            field_dict["mode"] = mode

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bucket = d.pop("bucket")

        prefix = d.pop("prefix", UNSET)

        def _parse_access(data: object) -> str | Unset | VolumeObjectSpecAccess:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                access_type_0 = VolumeObjectSpecAccess(data)

                return access_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | Unset | VolumeObjectSpecAccess, data)

        access = _parse_access(d.pop("access", UNSET))

        def _parse_mode(data: object) -> str | Unset | VolumeObjectSpecMode:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                mode_type_0 = VolumeObjectSpecMode(data)

                return mode_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | Unset | VolumeObjectSpecMode, data)

        mode = _parse_mode(d.pop("mode", UNSET))

        volume_object_spec = cls(
            bucket=bucket,
            prefix=prefix,
            access=access,
            mode=mode,
        )

        volume_object_spec.additional_properties = d
        return volume_object_spec

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

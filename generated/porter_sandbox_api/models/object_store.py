from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ObjectStore")


@_attrs_define
class ObjectStore:
    """The bucket behind an object volume.

    Attributes:
        bucket (str | Unset): The bucket's name.
        prefix (str | Unset): The key prefix inside the bucket.
        region (str | Unset): The bucket's region.
        endpoint (str | Unset): The object store's endpoint URL.
    """

    bucket: str | Unset = UNSET
    prefix: str | Unset = UNSET
    region: str | Unset = UNSET
    endpoint: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bucket = self.bucket

        prefix = self.prefix

        region = self.region

        endpoint = self.endpoint

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if bucket is not UNSET:
            field_dict["bucket"] = bucket
        if prefix is not UNSET:
            field_dict["prefix"] = prefix
        if region is not UNSET:
            field_dict["region"] = region
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bucket = d.pop("bucket", UNSET)

        prefix = d.pop("prefix", UNSET)

        region = d.pop("region", UNSET)

        endpoint = d.pop("endpoint", UNSET)

        object_store = cls(
            bucket=bucket,
            prefix=prefix,
            region=region,
            endpoint=endpoint,
        )

        object_store.additional_properties = d
        return object_store

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

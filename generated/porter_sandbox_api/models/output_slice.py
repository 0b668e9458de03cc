from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OutputSlice")


@_attrs_define
class OutputSlice:
    """Some of one stream of a background process, from an offset.

    Attributes:
        offset (int): Where `data` starts in the stream (after the offset asked for when older bytes were dropped).
        data (str): The bytes, base64.
        next_offset (int): The offset to ask for next.
        dropped (int): Bytes between the offset asked for and `offset`, no longer kept.
    """

    offset: int
    data: str
    next_offset: int
    dropped: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        offset = self.offset

        data = self.data

        next_offset = self.next_offset

        dropped = self.dropped

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "offset": offset,
                "data": data,
                "next_offset": next_offset,
                "dropped": dropped,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        offset = d.pop("offset")

        data = d.pop("data")

        next_offset = d.pop("next_offset")

        dropped = d.pop("dropped")

        output_slice = cls(
            offset=offset,
            data=data,
            next_offset=next_offset,
            dropped=dropped,
        )

        output_slice.additional_properties = d
        return output_slice

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

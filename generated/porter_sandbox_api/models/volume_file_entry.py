from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_type import FileType
from ..types import UNSET, Unset, parse_datetime

T = TypeVar("T", bound="VolumeFileEntry")


@_attrs_define
class VolumeFileEntry:
    """A file or directory in a volume; a directory holds its entries.

    Attributes:
        name (str): Its name in its directory.
        type_ (FileType | str): File or directory.
        size_bytes (int): Its size in bytes; 0 for a directory.
        modified_at (datetime.datetime | Unset): When it was last written.
        truncated (bool | Unset): For a directory, whether some of its entries were left out.
        entries (list[VolumeFileEntry] | Unset): For a directory, what it holds, directories first then files, each by
            name.
    """

    name: str
    type_: FileType | str
    size_bytes: int
    modified_at: datetime.datetime | Unset = UNSET
    truncated: bool | Unset = UNSET
    entries: list[VolumeFileEntry] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        type_: str
        if isinstance(self.type_, FileType):
            type_ = self.type_.value
        else:
            type_ = self.type_

        size_bytes = self.size_bytes

        modified_at: str | Unset = UNSET
        if not isinstance(self.modified_at, Unset):
            modified_at = self.modified_at.isoformat()

        truncated = self.truncated

        entries: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.entries, Unset):
            entries = []
            for entries_item_data in self.entries:
                entries_item = entries_item_data.to_dict()
                entries.append(entries_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "type": type_,
                "size_bytes": size_bytes,
            }
        )
        if modified_at is not UNSET:
            field_dict["modified_at"] = modified_at
        if truncated is not UNSET:
            field_dict["truncated"] = truncated
        if entries is not UNSET:
            field_dict["entries"] = entries

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_type_(data: object) -> FileType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_0 = FileType(data)

                return type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileType | str, data)

        type_ = _parse_type_(d.pop("type"))

        size_bytes = d.pop("size_bytes")

        _modified_at = d.pop("modified_at", UNSET)
        modified_at: datetime.datetime | Unset
        if isinstance(_modified_at, Unset):
            modified_at = UNSET
        else:
            modified_at = parse_datetime(_modified_at)

        truncated = d.pop("truncated", UNSET)

        _entries = d.pop("entries", UNSET)
        entries: list[VolumeFileEntry] | Unset = UNSET
        if _entries is not UNSET:
            entries = []
            for entries_item_data in _entries:
                entries_item = VolumeFileEntry.from_dict(entries_item_data)

                entries.append(entries_item)

        volume_file_entry = cls(
            name=name,
            type_=type_,
            size_bytes=size_bytes,
            modified_at=modified_at,
            truncated=truncated,
            entries=entries,
        )

        volume_file_entry.additional_properties = d
        return volume_file_entry

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

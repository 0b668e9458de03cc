from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.volume_file_entry import VolumeFileEntry


T = TypeVar("T", bound="VolumeFilesResponse")


@_attrs_define
class VolumeFilesResponse:
    """The tree under a path of a volume.

    Attributes:
        path (str): The directory listed, from the volume root.
        entries (list[VolumeFileEntry]): What it holds, directories first then files, each by name.
        truncated (bool): Whether the walk stopped at its entry budget before the whole tree was listed.
    """

    path: str
    entries: list[VolumeFileEntry]
    truncated: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        entries = []
        for entries_item_data in self.entries:
            entries_item = entries_item_data.to_dict()
            entries.append(entries_item)

        truncated = self.truncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "path": path,
                "entries": entries,
                "truncated": truncated,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.volume_file_entry import VolumeFileEntry

        d = dict(src_dict)
        path = d.pop("path")

        entries = []
        _entries = d.pop("entries")
        for entries_item_data in _entries:
            entries_item = VolumeFileEntry.from_dict(entries_item_data)

            entries.append(entries_item)

        truncated = d.pop("truncated")

        volume_files_response = cls(
            path=path,
            entries=entries,
            truncated=truncated,
        )

        volume_files_response.additional_properties = d
        return volume_files_response

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

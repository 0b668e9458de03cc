from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.sandbox_phase import SandboxPhase

T = TypeVar("T", bound="FilterValues")


@_attrs_define
class FilterValues:
    """The values the list filters can take, for building filters.

    Attributes:
        tags (list[str]): The tags that occur among all sandboxes, as `key=value`.
        images (list[str]): The images that occur among all sandboxes.
        phases (list[SandboxPhase | str]): Every phase a sandbox can be in, which the phase filter takes.
    """

    tags: list[str]
    images: list[str]
    phases: list[SandboxPhase | str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tags = self.tags

        images = self.images

        phases = []
        for phases_item_data in self.phases:
            phases_item: str
            if isinstance(phases_item_data, SandboxPhase):
                phases_item = phases_item_data.value
            else:
                phases_item = phases_item_data
            phases.append(phases_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "tags": tags,
                "images": images,
                "phases": phases,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tags = cast(list[str], d.pop("tags"))

        images = cast(list[str], d.pop("images"))

        phases = []
        _phases = d.pop("phases")
        for phases_item_data in _phases:

            def _parse_phases_item(data: object) -> SandboxPhase | str:
                try:
                    if not isinstance(data, str):
                        raise TypeError()
                    phases_item_type_0 = SandboxPhase(data)

                    return phases_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                return cast(SandboxPhase | str, data)

            phases_item = _parse_phases_item(phases_item_data)

            phases.append(phases_item)

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

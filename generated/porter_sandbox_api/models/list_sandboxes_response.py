from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_values import FilterValues
    from ..models.pagination import Pagination
    from ..models.status_response import StatusResponse


T = TypeVar("T", bound="ListSandboxesResponse")


@_attrs_define
class ListSandboxesResponse:
    """One page of sandboxes, newest first.

    Attributes:
        sandboxes (list[StatusResponse]): The sandboxes on this page.
        pagination (Pagination): Where this page is among all of them.
        filter_values (FilterValues | Unset): The values the list filters can take, for building filters.
    """

    sandboxes: list[StatusResponse]
    pagination: Pagination
    filter_values: FilterValues | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sandboxes = []
        for sandboxes_item_data in self.sandboxes:
            sandboxes_item = sandboxes_item_data.to_dict()
            sandboxes.append(sandboxes_item)

        pagination = self.pagination.to_dict()

        filter_values: dict[str, Any] | Unset = UNSET
        if not isinstance(self.filter_values, Unset):
            filter_values = self.filter_values.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sandboxes": sandboxes,
                "pagination": pagination,
            }
        )
        if filter_values is not UNSET:
            field_dict["filter_values"] = filter_values

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_values import FilterValues
        from ..models.pagination import Pagination
        from ..models.status_response import StatusResponse

        d = dict(src_dict)
        sandboxes = []
        _sandboxes = d.pop("sandboxes")
        for sandboxes_item_data in _sandboxes:
            sandboxes_item = StatusResponse.from_dict(sandboxes_item_data)

            sandboxes.append(sandboxes_item)

        pagination = Pagination.from_dict(d.pop("pagination"))

        _filter_values = d.pop("filter_values", UNSET)
        filter_values: FilterValues | Unset
        if isinstance(_filter_values, Unset):
            filter_values = UNSET
        else:
            filter_values = FilterValues.from_dict(_filter_values)

        list_sandboxes_response = cls(
            sandboxes=sandboxes,
            pagination=pagination,
            filter_values=filter_values,
        )

        list_sandboxes_response.additional_properties = d
        return list_sandboxes_response

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

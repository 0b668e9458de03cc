from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sandbox_metrics_point import SandboxMetricsPoint
    from ..models.string_map import StringMap


T = TypeVar("T", bound="SandboxMetricsSeries")


@_attrs_define
class SandboxMetricsSeries:
    """The samples of one metric from one source, oldest first.

    Attributes:
        time_series (list[SandboxMetricsPoint]): The samples, oldest first.
        labels (StringMap | Unset): String keys to string values.
        unit (str | Unset): The unit of the values, such as `cores`, `bytes` or `bytes/sec`.
    """

    time_series: list[SandboxMetricsPoint]
    labels: StringMap | Unset = UNSET
    unit: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        time_series = []
        for time_series_item_data in self.time_series:
            time_series_item = time_series_item_data.to_dict()
            time_series.append(time_series_item)

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        unit = self.unit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "time_series": time_series,
            }
        )
        if labels is not UNSET:
            field_dict["labels"] = labels
        if unit is not UNSET:
            field_dict["unit"] = unit

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sandbox_metrics_point import SandboxMetricsPoint
        from ..models.string_map import StringMap

        d = dict(src_dict)
        time_series = []
        _time_series = d.pop("time_series")
        for time_series_item_data in _time_series:
            time_series_item = SandboxMetricsPoint.from_dict(time_series_item_data)

            time_series.append(time_series_item)

        _labels = d.pop("labels", UNSET)
        labels: StringMap | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = StringMap.from_dict(_labels)

        unit = d.pop("unit", UNSET)

        sandbox_metrics_series = cls(
            time_series=time_series,
            labels=labels,
            unit=unit,
        )

        sandbox_metrics_series.additional_properties = d
        return sandbox_metrics_series

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SandboxMetricsPoint")


@_attrs_define
class SandboxMetricsPoint:
    """One sample of a metric.

    Attributes:
        timestamp_utc (str): When it was sampled, an RFC 3339 time in UTC.
        value (float): The metric's value then.
    """

    timestamp_utc: str
    value: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        timestamp_utc = self.timestamp_utc

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "timestamp_utc": timestamp_utc,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        timestamp_utc = d.pop("timestamp_utc")

        value = d.pop("value")

        sandbox_metrics_point = cls(
            timestamp_utc=timestamp_utc,
            value=value,
        )

        sandbox_metrics_point.additional_properties = d
        return sandbox_metrics_point

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

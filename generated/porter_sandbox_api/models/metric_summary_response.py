from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MetricSummaryResponse")


@_attrs_define
class MetricSummaryResponse:
    """The 50th and 90th percentiles of a sandbox's CPU and memory use over a look-back window, and each as a percentage of
    the sandbox's limit. Memory includes page cache, so it slightly overstates resident memory.

        Attributes:
            window_seconds (int): The length of the window the percentiles were computed over.
            has_data (bool): Whether the sandbox was sampled in the window; when false (a sandbox that just started), the
                other figures are zero and mean "no data yet".
            cpu_cores_p50 (float): The median CPU use, in cores.
            cpu_cores_p90 (float): The 90th percentile of CPU use, in cores.
            cpu_limit_cores (float): The sandbox's CPU limit in cores; zero when it has none.
            cpu_util_p50_pct (float): The median CPU use as a percentage of the limit; zero without a limit.
            cpu_util_p90_pct (float): The 90th percentile of CPU use as a percentage of the limit; zero without a limit.
            mem_bytes_p50 (int): The median memory use in bytes, page cache included.
            mem_bytes_p90 (int): The 90th percentile of memory use in bytes, page cache included.
            mem_limit_bytes (int): The sandbox's memory limit in bytes; zero when it has none.
            mem_util_p50_pct (float): The median memory use as a percentage of the limit; zero without a limit.
            mem_util_p90_pct (float): The 90th percentile of memory use as a percentage of the limit; zero without a limit.
    """

    window_seconds: int
    has_data: bool
    cpu_cores_p50: float
    cpu_cores_p90: float
    cpu_limit_cores: float
    cpu_util_p50_pct: float
    cpu_util_p90_pct: float
    mem_bytes_p50: int
    mem_bytes_p90: int
    mem_limit_bytes: int
    mem_util_p50_pct: float
    mem_util_p90_pct: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        window_seconds = self.window_seconds

        has_data = self.has_data

        cpu_cores_p50 = self.cpu_cores_p50

        cpu_cores_p90 = self.cpu_cores_p90

        cpu_limit_cores = self.cpu_limit_cores

        cpu_util_p50_pct = self.cpu_util_p50_pct

        cpu_util_p90_pct = self.cpu_util_p90_pct

        mem_bytes_p50 = self.mem_bytes_p50

        mem_bytes_p90 = self.mem_bytes_p90

        mem_limit_bytes = self.mem_limit_bytes

        mem_util_p50_pct = self.mem_util_p50_pct

        mem_util_p90_pct = self.mem_util_p90_pct

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "window_seconds": window_seconds,
                "has_data": has_data,
                "cpu_cores_p50": cpu_cores_p50,
                "cpu_cores_p90": cpu_cores_p90,
                "cpu_limit_cores": cpu_limit_cores,
                "cpu_util_p50_pct": cpu_util_p50_pct,
                "cpu_util_p90_pct": cpu_util_p90_pct,
                "mem_bytes_p50": mem_bytes_p50,
                "mem_bytes_p90": mem_bytes_p90,
                "mem_limit_bytes": mem_limit_bytes,
                "mem_util_p50_pct": mem_util_p50_pct,
                "mem_util_p90_pct": mem_util_p90_pct,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        window_seconds = d.pop("window_seconds")

        has_data = d.pop("has_data")

        cpu_cores_p50 = d.pop("cpu_cores_p50")

        cpu_cores_p90 = d.pop("cpu_cores_p90")

        cpu_limit_cores = d.pop("cpu_limit_cores")

        cpu_util_p50_pct = d.pop("cpu_util_p50_pct")

        cpu_util_p90_pct = d.pop("cpu_util_p90_pct")

        mem_bytes_p50 = d.pop("mem_bytes_p50")

        mem_bytes_p90 = d.pop("mem_bytes_p90")

        mem_limit_bytes = d.pop("mem_limit_bytes")

        mem_util_p50_pct = d.pop("mem_util_p50_pct")

        mem_util_p90_pct = d.pop("mem_util_p90_pct")

        metric_summary_response = cls(
            window_seconds=window_seconds,
            has_data=has_data,
            cpu_cores_p50=cpu_cores_p50,
            cpu_cores_p90=cpu_cores_p90,
            cpu_limit_cores=cpu_limit_cores,
            cpu_util_p50_pct=cpu_util_p50_pct,
            cpu_util_p90_pct=cpu_util_p90_pct,
            mem_bytes_p50=mem_bytes_p50,
            mem_bytes_p90=mem_bytes_p90,
            mem_limit_bytes=mem_limit_bytes,
            mem_util_p50_pct=mem_util_p50_pct,
            mem_util_p90_pct=mem_util_p90_pct,
        )

        metric_summary_response.additional_properties = d
        return metric_summary_response

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

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_status import ProcessStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.output_slice import OutputSlice


T = TypeVar("T", bound="ProcessOutput")


@_attrs_define
class ProcessOutput:
    """What a background process wrote from the offsets asked for.

    Attributes:
        stdout (OutputSlice): Some of one stream of a background process, from an offset.
        stderr (OutputSlice): Some of one stream of a background process, from an offset.
        status (ProcessStatus): `running`, or `exited` once it ended (by itself, killed, or with its sandbox).
        exit_code (int | Unset): Its exit code, once it ended.
    """

    stdout: OutputSlice
    stderr: OutputSlice
    status: ProcessStatus
    exit_code: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stdout = self.stdout.to_dict()

        stderr = self.stderr.to_dict()

        status = self.status.value

        exit_code = self.exit_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stdout": stdout,
                "stderr": stderr,
                "status": status,
            }
        )
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.output_slice import OutputSlice

        d = dict(src_dict)
        stdout = OutputSlice.from_dict(d.pop("stdout"))

        stderr = OutputSlice.from_dict(d.pop("stderr"))

        status = ProcessStatus(d.pop("status"))

        exit_code = d.pop("exit_code", UNSET)

        process_output = cls(
            stdout=stdout,
            stderr=stderr,
            status=status,
            exit_code=exit_code,
        )

        process_output.additional_properties = d
        return process_output

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.exec_stream_event_type import ExecStreamEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="ExecStreamEvent")


@_attrs_define
class ExecStreamEvent:
    """One line of a streamed exec (`POST /x/v1/sandbox/{id}/exec/stream`).

    Attributes:
        type_ (ExecStreamEventType): `start` (first: `exec_id`), `stdout` or `stderr` (a piece of output: `data`),
            `exit` (last: `exit_code`, `timed_out`), or `error` (last: the command's end is unknown, such as when its
            sandbox ended: `error`).
        exec_id (str | Unset): The exec's id (`start`), which its log lines carry; also its process id.
        data (str | Unset): The bytes of a piece of output, base64 (`stdout`, `stderr`).
        exit_code (int | Unset): Its exit code (`exit`).
        timed_out (bool | Unset): Whether its `timeout_seconds` ran out and its process group was killed (`exit`).
        error (str | Unset): What went wrong (`error`).
    """

    type_: ExecStreamEventType
    exec_id: str | Unset = UNSET
    data: str | Unset = UNSET
    exit_code: int | Unset = UNSET
    timed_out: bool | Unset = UNSET
    error: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        exec_id = self.exec_id

        data = self.data

        exit_code = self.exit_code

        timed_out = self.timed_out

        error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if exec_id is not UNSET:
            field_dict["exec_id"] = exec_id
        if data is not UNSET:
            field_dict["data"] = data
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code
        if timed_out is not UNSET:
            field_dict["timed_out"] = timed_out
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = ExecStreamEventType(d.pop("type"))

        exec_id = d.pop("exec_id", UNSET)

        data = d.pop("data", UNSET)

        exit_code = d.pop("exit_code", UNSET)

        timed_out = d.pop("timed_out", UNSET)

        error = d.pop("error", UNSET)

        exec_stream_event = cls(
            type_=type_,
            exec_id=exec_id,
            data=data,
            exit_code=exit_code,
            timed_out=timed_out,
            error=error,
        )

        exec_stream_event.additional_properties = d
        return exec_stream_event

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

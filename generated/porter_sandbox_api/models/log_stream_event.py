from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.log_stream_event_type import LogStreamEventType
from ..types import UNSET, Unset, parse_datetime

T = TypeVar("T", bound="LogStreamEvent")


@_attrs_define
class LogStreamEvent:
    """One line of `GET /x/v1/sandbox/{id}/logs/follow`.

    Attributes:
        type_ (LogStreamEventType): `line` (a log line: `timestamp`, `line`, `level`, `exec_id`) or `end` (the sandbox
            ended: `phase`).
        timestamp (datetime.datetime | Unset): When the line was written.
        line (str | Unset): The line, without its newline.
        level (str | Unset): `info` for standard output, `error` for standard error, `warning` for the server's notes.
        exec_id (str | Unset): The exec that wrote it; empty for the main process.
        phase (str | Unset): The phase the sandbox ended in (`end`).
        exit_code (int | Unset): Its main process's exit code, when it had one (`end`).
    """

    type_: LogStreamEventType
    timestamp: datetime.datetime | Unset = UNSET
    line: str | Unset = UNSET
    level: str | Unset = UNSET
    exec_id: str | Unset = UNSET
    phase: str | Unset = UNSET
    exit_code: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        timestamp: str | Unset = UNSET
        if not isinstance(self.timestamp, Unset):
            timestamp = self.timestamp.isoformat()

        line = self.line

        level = self.level

        exec_id = self.exec_id

        phase = self.phase

        exit_code = self.exit_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if timestamp is not UNSET:
            field_dict["timestamp"] = timestamp
        if line is not UNSET:
            field_dict["line"] = line
        if level is not UNSET:
            field_dict["level"] = level
        if exec_id is not UNSET:
            field_dict["exec_id"] = exec_id
        if phase is not UNSET:
            field_dict["phase"] = phase
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = LogStreamEventType(d.pop("type"))

        _timestamp = d.pop("timestamp", UNSET)
        timestamp: datetime.datetime | Unset
        if isinstance(_timestamp, Unset):
            timestamp = UNSET
        else:
            timestamp = parse_datetime(_timestamp)

        line = d.pop("line", UNSET)

        level = d.pop("level", UNSET)

        exec_id = d.pop("exec_id", UNSET)

        phase = d.pop("phase", UNSET)

        exit_code = d.pop("exit_code", UNSET)

        log_stream_event = cls(
            type_=type_,
            timestamp=timestamp,
            line=line,
            level=level,
            exec_id=exec_id,
            phase=phase,
            exit_code=exit_code,
        )

        log_stream_event.additional_properties = d
        return log_stream_event

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

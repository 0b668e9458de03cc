from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.log_level import LogLevel
from ..types import parse_datetime

T = TypeVar("T", bound="LogEntry")


@_attrs_define
class LogEntry:
    """One line a sandbox wrote.

    Attributes:
        timestamp (datetime.datetime): When the line was written.
        line (str): The line, without its newline.
        level (LogLevel | str): How severe the line is.
        exec_id (str): The exec that wrote it; empty for the main process.
    """

    timestamp: datetime.datetime
    line: str
    level: LogLevel | str
    exec_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        timestamp = self.timestamp.isoformat()

        line = self.line

        level: str
        if isinstance(self.level, LogLevel):
            level = self.level.value
        else:
            level = self.level

        exec_id = self.exec_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "timestamp": timestamp,
                "line": line,
                "level": level,
                "exec_id": exec_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        timestamp = parse_datetime(d.pop("timestamp"))

        line = d.pop("line")

        def _parse_level(data: object) -> LogLevel | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                level_type_0 = LogLevel(data)

                return level_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LogLevel | str, data)

        level = _parse_level(d.pop("level"))

        exec_id = d.pop("exec_id")

        log_entry = cls(
            timestamp=timestamp,
            line=line,
            level=level,
            exec_id=exec_id,
        )

        log_entry.additional_properties = d
        return log_entry

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.snapshot_mode import SnapshotMode
from ..models.snapshot_status import SnapshotStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Snapshot")


@_attrs_define
class Snapshot:
    """A captured (or being captured) state of a sandbox that new sandboxes can start from.

    Attributes:
        id (str): The snapshot's id.
        sandbox_id (str): The sandbox it was captured from.
        mode (SnapshotMode | str): What it captures.
        status (SnapshotStatus | str): Where its capture is.
        t_created_unix_ms (int | Unset): When the capture started, in milliseconds since the epoch.
        t_ready_unix_ms (int | Unset): When the capture finished, in milliseconds since the epoch.
        failure_reason (str | Unset): Why the capture failed, when it did.
        size_bytes (int | Unset): How many bytes it captured, once ready.
    """

    id: str
    sandbox_id: str
    mode: SnapshotMode | str
    status: SnapshotStatus | str
    t_created_unix_ms: int | Unset = UNSET
    t_ready_unix_ms: int | Unset = UNSET
    failure_reason: str | Unset = UNSET
    size_bytes: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        sandbox_id = self.sandbox_id

        mode: str
        if isinstance(self.mode, SnapshotMode):
            mode = self.mode.value
        else:
            mode = self.mode

        status: str
        if isinstance(self.status, SnapshotStatus):
            status = self.status.value
        else:
            status = self.status

        t_created_unix_ms = self.t_created_unix_ms

        t_ready_unix_ms = self.t_ready_unix_ms

        failure_reason = self.failure_reason

        size_bytes = self.size_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sandbox_id": sandbox_id,
                "mode": mode,
                "status": status,
            }
        )
        if t_created_unix_ms is not UNSET:
            field_dict["t_created_unix_ms"] = t_created_unix_ms
        if t_ready_unix_ms is not UNSET:
            field_dict["t_ready_unix_ms"] = t_ready_unix_ms
        if failure_reason is not UNSET:
            field_dict["failure_reason"] = failure_reason
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        sandbox_id = d.pop("sandbox_id")

        def _parse_mode(data: object) -> SnapshotMode | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                mode_type_0 = SnapshotMode(data)

                return mode_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(SnapshotMode | str, data)

        mode = _parse_mode(d.pop("mode"))

        def _parse_status(data: object) -> SnapshotStatus | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = SnapshotStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(SnapshotStatus | str, data)

        status = _parse_status(d.pop("status"))

        t_created_unix_ms = d.pop("t_created_unix_ms", UNSET)

        t_ready_unix_ms = d.pop("t_ready_unix_ms", UNSET)

        failure_reason = d.pop("failure_reason", UNSET)

        size_bytes = d.pop("size_bytes", UNSET)

        snapshot = cls(
            id=id,
            sandbox_id=sandbox_id,
            mode=mode,
            status=status,
            t_created_unix_ms=t_created_unix_ms,
            t_ready_unix_ms=t_ready_unix_ms,
            failure_reason=failure_reason,
            size_bytes=size_bytes,
        )

        snapshot.additional_properties = d
        return snapshot

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

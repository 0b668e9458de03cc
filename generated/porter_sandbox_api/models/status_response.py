from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.sandbox_phase import SandboxPhase
from ..models.termination_reason import TerminationReason
from ..types import UNSET, Unset, parse_datetime

if TYPE_CHECKING:
    from ..models.exec_target import ExecTarget
    from ..models.string_map import StringMap


T = TypeVar("T", bound="StatusResponse")


@_attrs_define
class StatusResponse:
    """A sandbox's status.

    Attributes:
        id (str): The sandbox's id.
        name (str): The sandbox's name.
        image (str): The image it runs.
        phase (SandboxPhase | str): Where the sandbox is in its life; a newer server may answer a phase this client does
            not know, kept as a string.
        created_at (datetime.datetime): When the sandbox was created.
        host (str): Its public hostname; empty when nothing is exposed.
        tags (StringMap | Unset): String keys to string values.
        exit_code (int | Unset): The main process's exit code, once it ended.
        started_at (datetime.datetime | Unset): When its workload started running.
        finished_at (datetime.datetime | Unset): When it reached a terminal phase.
        termination_reason (str | TerminationReason | Unset): Why it ended; absent while it is live.
        internal_address (str | Unset): Its address inside the cluster.
        volume_mounts (StringMap | Unset): String keys to string values.
        exec_target (ExecTarget | Unset): Where an interactive exec into the sandbox would go.
    """

    id: str
    name: str
    image: str
    phase: SandboxPhase | str
    created_at: datetime.datetime
    host: str
    tags: StringMap | Unset = UNSET
    exit_code: int | Unset = UNSET
    started_at: datetime.datetime | Unset = UNSET
    finished_at: datetime.datetime | Unset = UNSET
    termination_reason: str | TerminationReason | Unset = UNSET
    internal_address: str | Unset = UNSET
    volume_mounts: StringMap | Unset = UNSET
    exec_target: ExecTarget | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        image = self.image

        phase: str
        if isinstance(self.phase, SandboxPhase):
            phase = self.phase.value
        else:
            phase = self.phase

        created_at = self.created_at.isoformat()

        host = self.host

        tags: dict[str, Any] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags.to_dict()

        exit_code = self.exit_code

        started_at: str | Unset = UNSET
        if not isinstance(self.started_at, Unset):
            started_at = self.started_at.isoformat()

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        termination_reason: str | Unset
        if isinstance(self.termination_reason, Unset):
            termination_reason = UNSET
        elif isinstance(self.termination_reason, TerminationReason):
            termination_reason = self.termination_reason.value
        else:
            termination_reason = self.termination_reason

        internal_address = self.internal_address

        volume_mounts: dict[str, Any] | Unset = UNSET
        if not isinstance(self.volume_mounts, Unset):
            volume_mounts = self.volume_mounts.to_dict()

        exec_target: dict[str, Any] | Unset = UNSET
        if not isinstance(self.exec_target, Unset):
            exec_target = self.exec_target.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "image": image,
                "phase": phase,
                "created_at": created_at,
                "host": host,
            }
        )
        if tags is not UNSET:
            field_dict["tags"] = tags
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if termination_reason is not UNSET:
            field_dict["termination_reason"] = termination_reason
        if internal_address is not UNSET:
            field_dict["internal_address"] = internal_address
        if volume_mounts is not UNSET:
            field_dict["volume_mounts"] = volume_mounts
        if exec_target is not UNSET:
            field_dict["exec_target"] = exec_target

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.exec_target import ExecTarget
        from ..models.string_map import StringMap

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        image = d.pop("image")

        def _parse_phase(data: object) -> SandboxPhase | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                phase_type_0 = SandboxPhase(data)

                return phase_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(SandboxPhase | str, data)

        phase = _parse_phase(d.pop("phase"))

        created_at = parse_datetime(d.pop("created_at"))

        host = d.pop("host")

        _tags = d.pop("tags", UNSET)
        tags: StringMap | Unset
        if isinstance(_tags, Unset):
            tags = UNSET
        else:
            tags = StringMap.from_dict(_tags)

        exit_code = d.pop("exit_code", UNSET)

        _started_at = d.pop("started_at", UNSET)
        started_at: datetime.datetime | Unset
        if isinstance(_started_at, Unset):
            started_at = UNSET
        else:
            started_at = parse_datetime(_started_at)

        _finished_at = d.pop("finished_at", UNSET)
        finished_at: datetime.datetime | Unset
        if isinstance(_finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = parse_datetime(_finished_at)

        def _parse_termination_reason(data: object) -> str | TerminationReason | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                termination_reason_type_0 = TerminationReason(data)

                return termination_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | TerminationReason | Unset, data)

        termination_reason = _parse_termination_reason(d.pop("termination_reason", UNSET))

        internal_address = d.pop("internal_address", UNSET)

        _volume_mounts = d.pop("volume_mounts", UNSET)
        volume_mounts: StringMap | Unset
        if isinstance(_volume_mounts, Unset):
            volume_mounts = UNSET
        else:
            volume_mounts = StringMap.from_dict(_volume_mounts)

        _exec_target = d.pop("exec_target", UNSET)
        exec_target: ExecTarget | Unset
        if isinstance(_exec_target, Unset):
            exec_target = UNSET
        else:
            exec_target = ExecTarget.from_dict(_exec_target)

        status_response = cls(
            id=id,
            name=name,
            image=image,
            phase=phase,
            created_at=created_at,
            host=host,
            tags=tags,
            exit_code=exit_code,
            started_at=started_at,
            finished_at=finished_at,
            termination_reason=termination_reason,
            internal_address=internal_address,
            volume_mounts=volume_mounts,
            exec_target=exec_target,
        )

        status_response.additional_properties = d
        return status_response

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

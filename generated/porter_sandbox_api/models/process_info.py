from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_status import ProcessStatus
from ..types import UNSET, Unset, parse_datetime

T = TypeVar("T", bound="ProcessInfo")


@_attrs_define
class ProcessInfo:
    """A process started through the extensions (a background process, a streamed exec, a terminal).

    Attributes:
        id (str): Its id (also its exec id, which its log lines carry).
        command (list[str]): The program and its arguments.
        status (ProcessStatus): `running`, or `exited` once it ended (by itself, killed, or with its sandbox).
        background (bool): Whether it runs in the background (its output is kept for `.../output`).
        terminal (bool): Whether it runs on a terminal.
        started_at (datetime.datetime): When it started.
        timed_out (bool): Whether its `timeout_seconds` ran out and its process group was killed.
        sandbox_ended (bool): Whether it ended because its sandbox did.
        stdin_open (bool): Whether its stdin takes writes (`POST .../stdin`).
        cwd (str | Unset): Its working directory, when one was given.
        finished_at (datetime.datetime | Unset): When it ended.
        exit_code (int | Unset): Its exit code, once it ended by itself or by a signal (absent when its sandbox ended
            first).
        signal (str | Unset): The last signal sent to it with `kill`, such as `SIGTERM`.
        stdout_bytes (int | Unset): How many bytes it wrote to stdout so far (background processes).
        stderr_bytes (int | Unset): How many bytes it wrote to stderr so far (background processes).
    """

    id: str
    command: list[str]
    status: ProcessStatus
    background: bool
    terminal: bool
    started_at: datetime.datetime
    timed_out: bool
    sandbox_ended: bool
    stdin_open: bool
    cwd: str | Unset = UNSET
    finished_at: datetime.datetime | Unset = UNSET
    exit_code: int | Unset = UNSET
    signal: str | Unset = UNSET
    stdout_bytes: int | Unset = UNSET
    stderr_bytes: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        command = self.command

        status = self.status.value

        background = self.background

        terminal = self.terminal

        started_at = self.started_at.isoformat()

        timed_out = self.timed_out

        sandbox_ended = self.sandbox_ended

        stdin_open = self.stdin_open

        cwd = self.cwd

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        exit_code = self.exit_code

        signal = self.signal

        stdout_bytes = self.stdout_bytes

        stderr_bytes = self.stderr_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "command": command,
                "status": status,
                "background": background,
                "terminal": terminal,
                "started_at": started_at,
                "timed_out": timed_out,
                "sandbox_ended": sandbox_ended,
                "stdin_open": stdin_open,
            }
        )
        if cwd is not UNSET:
            field_dict["cwd"] = cwd
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if exit_code is not UNSET:
            field_dict["exit_code"] = exit_code
        if signal is not UNSET:
            field_dict["signal"] = signal
        if stdout_bytes is not UNSET:
            field_dict["stdout_bytes"] = stdout_bytes
        if stderr_bytes is not UNSET:
            field_dict["stderr_bytes"] = stderr_bytes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        command = cast(list[str], d.pop("command"))

        status = ProcessStatus(d.pop("status"))

        background = d.pop("background")

        terminal = d.pop("terminal")

        started_at = parse_datetime(d.pop("started_at"))

        timed_out = d.pop("timed_out")

        sandbox_ended = d.pop("sandbox_ended")

        stdin_open = d.pop("stdin_open")

        cwd = d.pop("cwd", UNSET)

        _finished_at = d.pop("finished_at", UNSET)
        finished_at: datetime.datetime | Unset
        if isinstance(_finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = parse_datetime(_finished_at)

        exit_code = d.pop("exit_code", UNSET)

        signal = d.pop("signal", UNSET)

        stdout_bytes = d.pop("stdout_bytes", UNSET)

        stderr_bytes = d.pop("stderr_bytes", UNSET)

        process_info = cls(
            id=id,
            command=command,
            status=status,
            background=background,
            terminal=terminal,
            started_at=started_at,
            timed_out=timed_out,
            sandbox_ended=sandbox_ended,
            stdin_open=stdin_open,
            cwd=cwd,
            finished_at=finished_at,
            exit_code=exit_code,
            signal=signal,
            stdout_bytes=stdout_bytes,
            stderr_bytes=stderr_bytes,
        )

        process_info.additional_properties = d
        return process_info

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
